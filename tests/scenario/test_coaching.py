"""The coaching loop after kickoff, with time moved by scheduler passes (never by sleeping)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.ids import Action, Block
from bot.store.models import Feedback, Meeting, ScheduledMessage
from slackemu import Input
from tests.conftest import MENTEE, MENTOR, STRANGER, Harness, all_text


def pair_up(h: Harness) -> str:
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    return h.slack.wait_for("conversations.open").response["channel"]["id"]


def open_schedule(h: Harness, group: str) -> dict:
    kickoff = h.slack.messages_in(group)[-1]
    h.click(MENTOR, kickoff, Action.OPEN_SCHEDULE)
    view = h.driver.last_view_opened(MENTOR)
    assert view["callback_id"] == "schedule_modal"
    return view


def schedule(h: Harness, group: str, times: list[datetime], length: str = "") -> object:
    view = open_schedule(h, group)
    values = {
        block: {"value": Input.datetime(int(t.timestamp()))}
        for block, t in zip(("meeting_1", "meeting_2", "meeting_3"), times, strict=True)
    }
    values[Block.LENGTH] = {"value": Input.plain_text(length or None)}
    return h.submit(MENTOR, view, values)


def cancel_from_home(h: Harness, user: str, meeting_id: int) -> None:
    """``user`` opens App Home and cancels the meeting from its menu."""
    h.driver.app_home_opened(user)
    h.app.drain()
    h.driver.click_in_view(
        user,
        h.slack.home_view(user),
        f"{Action.MOVE_MEETING}:{meeting_id}",
        value=f"cancel:{meeting_id}",
    )
    h.app.drain()


def end_pairing(h: Harness, user: str, text: str = "end") -> dict:
    """``user`` runs `/mentor end` (or ``text``) and confirms it; the confirmation asked."""
    confirm = h.driver.slash(user, text).json
    h.click(
        user,
        {"ts": "0", "blocks": confirm["blocks"]},
        Action.END_CONFIRM,
        channel=h.slack.dm_channel(user),
    )
    h.app.drain()
    return confirm


def count(h: Harness, model: type, *where: object) -> int:
    with h.db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def dms(h: Harness, user: str) -> list[dict]:
    return h.slack.messages_in(user)


def test_schedule_refuses_past_and_out_of_order(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    now = h.clock.now
    # What pairing up wrote (the invitation, the kickoff, their notices): nothing more.
    before = count(h, ScheduledMessage)
    response = schedule(
        h, group, [now - timedelta(hours=1), now + timedelta(days=2), now + timedelta(days=1)]
    )
    assert response.json["response_action"] == "errors"
    errors = response.json["errors"]
    assert "past" in errors["meeting_1"] and "after the meeting above" in errors["meeting_3"]
    response = schedule(h, group, [now + timedelta(days=d) for d in (1, 2, 3)], length="5")
    assert "between 15 and 240" in response.json["errors"][Block.LENGTH]
    assert count(h, Meeting) == 0
    assert count(h, ScheduledMessage) == before


def test_meetings_are_not_set_twice(harness: Harness) -> None:
    """Both members press the kickoff's Schedule and save the same times (or one saves
    twice): the second save is refused against each time, inside the modal, nothing
    saved; so is a time overlapping the meeting above it, and a move onto a meeting."""
    h = harness
    group = pair_up(h)
    first = h.clock.now + timedelta(days=2)
    times = [first + timedelta(days=7 * n) for n in range(3)]
    kickoff = h.slack.messages_in(group)[-1]
    h.click(MENTOR, kickoff, Action.OPEN_SCHEDULE)
    mentors = h.driver.last_view_opened(MENTOR)
    h.click(MENTEE, kickoff, Action.OPEN_SCHEDULE)
    mentees = h.driver.last_view_opened(MENTEE)
    values = {
        block: {"value": Input.datetime(int(t.timestamp()))}
        for block, t in zip(("meeting_1", "meeting_2", "meeting_3"), times, strict=True)
    }
    assert h.submit(MENTOR, mentors, values).json is None  # saved: the modal closes
    before = (count(h, Meeting), count(h, ScheduledMessage))
    refused = h.submit(MENTEE, mentees, values).json
    assert refused["response_action"] == "errors"
    assert set(refused["errors"]) == {"meeting_1", "meeting_2", "meeting_3"}
    # Their own meetings, just set: said to be set, not to clash (nothing to redo).
    assert all(
        "Your pair already has a meeting at this time" in e for e in refused["errors"].values()
    )
    assert (count(h, Meeting), count(h, ScheduledMessage)) == before
    confirmations = [m for m in h.slack.messages_in(group) if "meetings are set" in m["text"]]
    assert len(confirmations) == 1

    # Half an hour after the first, inside its 45 minutes: refused; the others are free.
    overlapping = {
        **values,
        "meeting_1": {"value": Input.datetime(int((first + timedelta(minutes=30)).timestamp()))},
        "meeting_2": {"value": Input.datetime(int((first + timedelta(days=1)).timestamp()))},
        "meeting_3": {
            "value": Input.datetime(int((first + timedelta(days=1, minutes=20)).timestamp()))
        },
    }
    h.click(MENTEE, kickoff, Action.OPEN_SCHEDULE)
    refused = h.submit(MENTEE, h.driver.last_view_opened(MENTEE), overlapping).json
    assert set(refused["errors"]) == {"meeting_1", "meeting_3"}
    assert "overlaps the meeting above, which lasts 45 minutes" in refused["errors"]["meeting_3"]
    assert count(h, Meeting) == 3

    # Moving the second meeting onto the third: refused in the move modal, not moved.
    with h.db.session() as s:
        second, third = s.scalars(select(Meeting).order_by(Meeting.starts_at)).all()[1:]
        second_id, second_at, third_at = second.id, second.starts_at, third.starts_at
    h.click(
        MENTOR, confirmations[0], f"{Action.MOVE_MEETING}:{second_id}", value=f"move:{second_id}"
    )
    moved = h.submit(
        MENTOR,
        h.driver.last_view_opened(MENTOR),
        {Block.MEETING_TIME: {"value": Input.datetime(int(third_at.timestamp()))}},
    ).json
    assert "Your pair already has a meeting at this time" in moved["errors"][Block.MEETING_TIME]
    with h.db.session() as s:
        assert s.get(Meeting, second_id).starts_at == second_at
    # To the time it has: nothing moves, and nothing is announced.
    h.click(
        MENTOR, confirmations[0], f"{Action.MOVE_MEETING}:{second_id}", value=f"move:{second_id}"
    )
    said = len(h.slack.messages_in(group))
    same = h.submit(
        MENTOR,
        h.driver.last_view_opened(MENTOR),
        {Block.MEETING_TIME: {"value": Input.datetime(int(second_at.timestamp()))}},
    ).json
    assert "the time it has already" in same["errors"][Block.MEETING_TIME]
    assert len(h.slack.messages_in(group)) == said
    # Moving it a little, overlapping only itself, is a move.
    h.click(
        MENTOR, confirmations[0], f"{Action.MOVE_MEETING}:{second_id}", value=f"move:{second_id}"
    )
    later = second_at + timedelta(minutes=15)
    h.submit(
        MENTOR,
        h.driver.last_view_opened(MENTOR),
        {Block.MEETING_TIME: {"value": Input.datetime(int(later.timestamp()))}},
    )
    with h.db.session() as s:
        assert s.get(Meeting, second_id).starts_at == later


def test_three_week_program_across_time_zones(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    start = h.clock.now  # Monday 17:00 UTC = 09:00 in Los Angeles, 22:30 in Kolkata
    first = datetime(2026, 3, 4, 16, 0, tzinfo=UTC)  # Wednesday
    times = [first, first + timedelta(days=7), first + timedelta(days=14)]
    response = schedule(h, group, times)
    assert response.status == 200 and not response.body
    confirmation = h.slack.messages_in(group)[-1]
    assert f"<!date^{int(first.timestamp())}^" in all_text(confirmation)
    assert count(h, Meeting) == 3

    # Tuesday: nothing about meetings yet, but each gets a tip at their own 09:00.
    sent_at: dict[str, list[datetime]] = {MENTOR: [], MENTEE: []}
    now = start
    while now < first + timedelta(days=15):
        now += timedelta(minutes=30)
        before = {u: len(dms(h, u)) for u in sent_at}
        h.tick(now)
        for user in sent_at:
            for message in dms(h, user)[before[user] :]:
                if "mentoring tip" in message.get("text", ""):
                    sent_at[user].append(now)

    # One tip per working day, at 09:00 local (within the 30-minute pass resolution).
    from zoneinfo import ZoneInfo

    for user, zone in ((MENTOR, "America/Los_Angeles"), (MENTEE, "Asia/Kolkata")):
        local = [t.astimezone(ZoneInfo(zone)) for t in sent_at[user]]
        assert local, user
        assert all(t.weekday() < 5 for t in local), user
        assert all((t.hour, t.minute) in {(9, 0), (9, 30)} for t in local), (user, local)
        days = [t.date() for t in local]
        assert len(days) == len(set(days)), "one tip a day"
        assert len(days) >= 13
    # No tip repeats before all ten were sent.
    mentor_tips = [m["text"] for m in dms(h, MENTOR) if "mentoring tip" in m.get("text", "")]
    assert len(set(mentor_tips[:10])) == 10

    # Prep: the mentee was asked and the mentor got practices; first meeting uses the agenda.
    mentee_preps = [m for m in dms(h, MENTEE) if "Prepare for" in m.get("text", "")]
    mentor_preps = [m for m in dms(h, MENTOR) if "Prepare for" in m.get("text", "")]
    assert len(mentee_preps) == 3 and len(mentor_preps) == 3
    assert "Get acquainted" in all_text(mentee_preps[0])
    assert "shadowing" in all_text(mentee_preps[1])
    assert "active listening" in all_text(mentor_preps[0]).lower()
    # Feedback polls after each meeting for both.
    polls = [m for m in dms(h, MENTEE) if m.get("text") == "How did your mentoring meeting go?"]
    assert len(polls) == 3
    # After the last meeting started, the pair is asked to set the next three.
    asks = [m for m in h.slack.messages_in(group) if "next three" in m.get("text", "")]
    assert len(asks) == 1
    # Every scheduled row went out exactly once.
    with h.db.session() as s:
        statuses = dict(
            s.execute(
                select(ScheduledMessage.status, func.count()).group_by(ScheduledMessage.status)
            ).all()
        )
    assert set(statuses) <= {"sent", "pending"}, statuses


def test_prep_answers_reach_the_mentor(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    meeting = h.clock.now + timedelta(hours=30)
    schedule(h, group, [meeting, meeting + timedelta(days=7), meeting + timedelta(days=14)])
    h.tick(meeting - timedelta(hours=24))
    prep = [m for m in dms(h, MENTEE) if "Prepare for" in m.get("text", "")][-1]
    assert "come prepared" in all_text(prep).lower() or "focus" in all_text(prep).lower()
    # The mentor cannot open the mentee's prep form.
    mark = h.slack.mark()
    h.click(MENTOR, prep, Action.OPEN_PREP, channel=h.slack.dm_channel(MENTEE))
    assert "mentee" in h.slack.wait_for("response_url", after=mark).args["text"]
    h.click(MENTEE, prep, Action.OPEN_PREP)
    view = h.driver.last_view_opened(MENTEE)
    response = h.submit(MENTEE, view, {Block.FOCUS: {"value": Input.plain_text("")}})
    assert response.json["response_action"] == "errors"
    h.submit(
        MENTEE,
        view,
        {
            Block.FOCUS: {"value": Input.plain_text("Presenting to executives")},
            Block.QUESTIONS: {"value": Input.plain_text("How do I open?")},
        },
    )
    shared = h.last_dm(MENTOR)
    assert "Presenting to executives" in all_text(shared) and "How do I open?" in all_text(shared)
    # It names the meeting it is for (an old prompt's may not be the next one).
    assert f"in your meeting <!date^{int(meeting.timestamp())}^" in all_text(shared)
    assert "Updated" not in all_text(shared)
    # The prompt and the form name the mentor (someone in two pairs knows which one).
    assert f"Your mentoring meeting with <@{MENTOR}> is" in all_text(prep)
    assert f"I'll pass them on to <@{MENTOR}>" in all_text(prep)
    assert f"with <@{MENTOR}>, who will see this." in all_text(view)
    # Opened again, the form holds what was sent; sent again, the mentor hears it is
    # an update, not a second meeting's notes.
    h.click(MENTEE, prep, Action.OPEN_PREP)
    again = h.driver.last_view_opened(MENTEE)
    initial = {
        b["block_id"]: b["element"].get("initial_value") for b in again["blocks"] if "element" in b
    }
    assert initial == {Block.FOCUS: "Presenting to executives", Block.QUESTIONS: "How do I open?"}
    assert "Sending again replaces what you sent before" in all_text(again)
    h.submit(MENTEE, again, {Block.FOCUS: {"value": Input.plain_text("Presenting, shorter")}})
    updated = h.last_dm(MENTOR)
    assert "Presenting, shorter" in all_text(updated)
    assert "*Updated:* these replace the notes they sent before" in all_text(updated)


def test_feedback_poll_updates_in_place_and_stays_private(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    meeting = h.clock.now + timedelta(hours=30)
    schedule(h, group, [meeting, meeting + timedelta(days=7), meeting + timedelta(days=14)])
    h.tick(meeting + timedelta(minutes=45 + 60))
    poll = h.last_dm(MENTEE)
    assert poll["text"] == "How did your mentoring meeting go?"
    h.click(MENTEE, poll, f"{Action.FEEDBACK_HAPPENED}:yes")
    h.click(MENTEE, h.slack.message(poll["ts"]), f"{Action.FEEDBACK_USEFULNESS}:4")
    updated = h.slack.message(poll["ts"])
    shown = all_text(updated)
    assert "✓ Yes" in shown and "✓ 4" in shown and "usefulness: *4/5*" in shown
    h.click(MENTEE, updated, Action.OPEN_FEEDBACK_DETAILS)
    view = h.driver.last_view_opened(MENTEE)
    h.submit(
        MENTEE,
        view,
        {
            Block.HELPED: {"value": Input.plain_text("secret praise")},
            Block.CHANGE: {"value": Input.plain_text("secret critique")},
        },
    )
    # The partner only learns that feedback was given, never the words.
    for call in h.slack.calls:
        if call.args.get("channel") in {MENTOR, h.slack.dm_channel(MENTOR), group}:
            assert "secret" not in all_text(call.args)
    assert any("feedback" in m.get("text", "") for m in dms(h, MENTOR))
    with h.db.session() as s:
        row = s.scalars(select(Feedback).where(Feedback.user_id == MENTEE)).one()
        assert (row.happened, row.usefulness, row.helped) == ("yes", 4, "secret praise")
    # A stranger pressing the same poll changes nothing.
    mark = h.slack.mark()
    h.click(
        STRANGER, updated, f"{Action.FEEDBACK_USEFULNESS}:1", channel=h.slack.dm_channel(MENTEE)
    )
    h.slack.wait_for("response_url", after=mark)
    assert count(h, Feedback) == 1


def test_didnt_happen_asks_for_a_new_time_and_moving_moves_prompts(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    meeting = h.clock.now + timedelta(hours=30)
    schedule(h, group, [meeting, meeting + timedelta(days=7), meeting + timedelta(days=14)])
    h.tick(meeting + timedelta(hours=2))
    poll = h.last_dm(MENTOR)
    assert poll["text"] == "How did your mentoring meeting go?"
    h.click(MENTOR, poll, f"{Action.FEEDBACK_HAPPENED}:rescheduled")
    ask = h.last_dm(MENTOR)
    assert "new time" in all_text(ask).lower()
    # Move the second meeting: its prep moves with it.
    confirmation = [
        m for m in h.slack.messages_in(group) if "meetings are set" in m.get("text", "")
    ][-1]
    with h.db.session() as s:
        second = s.scalars(select(Meeting).order_by(Meeting.starts_at)).all()[1]
    h.click(MENTOR, confirmation, f"{Action.MOVE_MEETING}:{second.id}", value=f"move:{second.id}")
    view = h.driver.last_view_opened(MENTOR)
    moved_to = second.starts_at + timedelta(days=2)
    h.submit(
        MENTOR, view, {Block.MEETING_TIME: {"value": Input.datetime(int(moved_to.timestamp()))}}
    )
    # Which one: from when, to when (with three set, "a meeting" left them guessing).
    said = h.slack.messages_in(group)[-1]["text"]
    assert f"moved the meeting of <!date^{int(second.starts_at.timestamp())}^" in said
    assert f"to <!date^{int(moved_to.timestamp())}^" in said
    with h.db.session() as s:
        pending = s.scalars(
            select(ScheduledMessage).where(
                ScheduledMessage.meeting_id == second.id, ScheduledMessage.status == "pending"
            )
        ).all()
        assert {m.kind for m in pending} == {"prep_mentee", "prep_mentor", "feedback"}
        assert all(m.due_at > second.starts_at for m in pending if m.kind == "feedback")
        assert min(m.due_at for m in pending) == moved_to - timedelta(hours=24)


def test_the_first_meeting_is_the_first_in_time_whichever_was_scheduled_first(
    harness: Harness,
) -> None:
    """Meeting 1 moved after meeting 2: the meeting that now comes first gets the
    first-meeting agenda in its prep, the other does not, and App Home numbers them in
    the order they happen."""
    h = harness
    group = pair_up(h)
    first = h.clock.now + timedelta(days=3)
    schedule(h, group, [first, first + timedelta(days=7), first + timedelta(days=14)])
    confirmation = [
        m for m in h.slack.messages_in(group) if "meetings are set" in m.get("text", "")
    ][-1]
    with h.db.session() as s:
        one, two, _ = s.scalars(select(Meeting).order_by(Meeting.starts_at)).all()
    later = two.starts_at + timedelta(days=1)
    h.click(MENTOR, confirmation, f"{Action.MOVE_MEETING}:{one.id}", value=f"move:{one.id}")
    h.submit(
        MENTOR,
        h.driver.last_view_opened(MENTOR),
        {Block.MEETING_TIME: {"value": Input.datetime(int(later.timestamp()))}},
    )
    h.driver.app_home_opened(MENTEE)
    h.app.drain()
    home = all_text(h.slack.home_view(MENTEE))
    assert home.index("*Meeting 1*") < home.index("*Meeting 2*")
    assert "Meeting 3" not in home or home.index("*Meeting 2*") < home.index("*Meeting 3*")
    agenda = "As this is your first meeting"
    preps: dict[datetime, list[str]] = {}
    for when in (two.starts_at, later):
        h.tick(when - timedelta(hours=23))
        preps[when] = [
            all_text(m)
            for m in (h.last_dm(MENTEE), h.last_dm(MENTOR))
            if "Prepare for" in m.get("text", "")
        ]
    assert len(preps[two.starts_at]) == len(preps[later]) == 2
    assert all(agenda in text for text in preps[two.starts_at]), preps
    assert not any(agenda in text for text in preps[later]), preps


def test_new_meetings_are_numbered_as_home_numbers_them(harness: Harness) -> None:
    """One of three meetings cancelled, three more set: the confirmation numbers them 3
    to 5, their places in time, as App Home does (not 4 to 6, counting the cancelled)."""
    h = harness
    group = pair_up(h)
    first = h.clock.now + timedelta(days=2)
    schedule(h, group, [first, first + timedelta(days=7), first + timedelta(days=14)])
    with h.db.session() as s:
        cancelled = s.scalars(select(Meeting.id).order_by(Meeting.starts_at)).first()
    cancel_from_home(h, MENTOR, cancelled)
    later = first + timedelta(days=21)
    h.slash(MENTOR, "schedule")
    h.app.drain()
    values = {
        block: {"value": Input.datetime(int(t.timestamp()))}
        for block, t in zip(
            ("meeting_1", "meeting_2", "meeting_3"),
            (later, later + timedelta(days=7), later + timedelta(days=14)),
            strict=True,
        )
    }
    h.submit(MENTOR, h.driver.last_view_opened(MENTOR), values)
    confirmation = [
        m for m in h.slack.messages_in(group) if "meetings are set" in m.get("text", "")
    ][-1]
    shown = all_text(confirmation)
    assert all(f"*Meeting {n}*" in shown for n in (3, 4, 5)), shown
    assert "*Meeting 6*" not in shown
    h.driver.app_home_opened(MENTOR)
    h.app.drain()
    assert "*Meeting 1*" in all_text(h.slack.home_view(MENTOR))


def test_home_waits_for_prep_only_until_the_meeting_begins(harness: Harness) -> None:
    """App Home's "Waiting for you" lists the prep of a meeting ahead; once the meeting
    has begun its prep is no longer waited for, and its poll is."""
    h = harness
    group = pair_up(h)
    first = h.clock.now + timedelta(days=2)
    schedule(h, group, [first, first + timedelta(days=7), first + timedelta(days=14)])

    def waiting() -> str:
        h.driver.app_home_opened(MENTEE)
        h.app.drain()
        shown = all_text(h.slack.home_view(MENTEE))
        return (
            shown.split("*Waiting for you*")[1].split("*Daily tips*")[0]
            if "*Waiting" in shown
            else ""
        )

    h.tick(first - timedelta(hours=23))
    assert f"Prep for the meeting with <@{MENTOR}>" in waiting()
    # Its button opens the prep form from Home (the meeting it names).
    h.driver.click_in_view(MENTEE, h.slack.home_view(MENTEE), Action.OPEN_PREP)
    h.app.drain()
    form = h.driver.last_view_opened(MENTEE)
    assert form["callback_id"] == "prep_modal" and f"with <@{MENTOR}>" in all_text(form)
    h.tick(first + timedelta(hours=2))  # its poll has gone out
    after = waiting()
    assert f"Feedback on the meeting with <@{MENTOR}>" in after, after
    assert "the poll is in our DM" in after and "Prep for the meeting" not in after, after
    # The second meeting's prep arrives, then the meeting is moved: the prep of its old
    # time is no longer waited for (that of its new time will be, once it arrives).
    second = first + timedelta(days=7)
    h.tick(second - timedelta(hours=23))
    assert waiting().count("Prep for the meeting") == 1
    with h.db.session() as s:
        meeting_id = s.scalars(select(Meeting.id).where(Meeting.starts_at == second)).one()
    confirmation = [
        m for m in h.slack.messages_in(group) if "meetings are set" in m.get("text", "")
    ][-1]
    h.click(MENTOR, confirmation, f"{Action.MOVE_MEETING}:{meeting_id}", value=f"move:{meeting_id}")
    moved = second + timedelta(days=2)
    h.submit(
        MENTOR,
        h.driver.last_view_opened(MENTOR),
        {Block.MEETING_TIME: {"value": Input.datetime(int(moved.timestamp()))}},
    )
    assert "Prep for the meeting" not in waiting()
    # The third's prep arrives, then the meeting is cancelled: nothing waits for it.
    third = first + timedelta(days=14)
    h.tick(third - timedelta(hours=23))
    assert "Prep for the meeting" in waiting()
    with h.db.session() as s:
        meeting_id = s.scalars(select(Meeting.id).where(Meeting.starts_at == third)).one()
    h.click(
        MENTOR, confirmation, f"{Action.MOVE_MEETING}:{meeting_id}", value=f"cancel:{meeting_id}"
    )
    h.app.drain()
    assert "Prep for the meeting" not in waiting()


def test_a_poll_answered_after_the_partner_moved_that_meeting_still_counts(
    harness: Harness,
) -> None:
    """The mentor says the meeting was rescheduled and picks its new time; the mentee,
    whose poll about the old time is still open, then says it didn't happen: that is
    recorded (not "that meeting hasn't started yet"), and they are not asked for a new
    time again, since it has one."""
    h = harness
    group = pair_up(h)
    meeting = h.clock.now + timedelta(hours=30)
    schedule(h, group, [meeting, meeting + timedelta(days=7), meeting + timedelta(days=14)])
    h.tick(meeting + timedelta(hours=2))
    mentor_poll, mentee_poll = h.last_dm(MENTOR), h.last_dm(MENTEE)
    assert mentee_poll["text"] == "How did your mentoring meeting go?"
    h.click(MENTOR, mentor_poll, f"{Action.FEEDBACK_HAPPENED}:rescheduled")
    ask = h.last_dm(MENTOR)
    again = next(
        e for b in ask["blocks"] for e in b.get("elements", []) if "again" in e.get("value", "")
    )
    h.click(MENTOR, ask, again["action_id"], value=again["value"])
    view = h.driver.last_view_opened(MENTOR)
    new_time = meeting + timedelta(days=2)
    h.submit(
        MENTOR, view, {Block.MEETING_TIME: {"value": Input.datetime(int(new_time.timestamp()))}}
    )
    with h.db.session() as s:
        first = s.scalars(select(Meeting).order_by(Meeting.number)).first()
        assert first.starts_at == new_time  # moved ahead

    mentee_dms = len(dms(h, MENTEE))
    h.click(MENTEE, mentee_poll, f"{Action.FEEDBACK_HAPPENED}:no")
    h.app.drain()
    with h.db.session() as s:
        answer = s.scalars(select(Feedback).where(Feedback.user_id == MENTEE)).one()
        assert answer.happened == "no" and answer.meeting_id == first.id
    redrawn = all_text(h.slack.message(mentee_poll["ts"]))
    assert "hasn't started yet" not in redrawn and "happened: *No*" in redrawn
    new_dms = [m["text"] for m in dms(h, MENTEE)[mentee_dms:]]
    assert not any("new time" in text.lower() for text in new_dms), new_dms


def test_tips_off_on_and_at(harness: Harness) -> None:
    h = harness
    pair_up(h)
    h.driver.slash(MENTEE, "tips at 07:15")
    h.tick(datetime(2026, 3, 3, 1, 44, tzinfo=UTC))  # 07:14 in Kolkata
    assert not [m for m in dms(h, MENTEE) if "tip" in m.get("text", "")]
    h.tick(datetime(2026, 3, 3, 1, 45, tzinfo=UTC))  # 07:15 in Kolkata
    assert len([m for m in dms(h, MENTEE) if "mentoring tip" in m.get("text", "")]) == 1
    shown = all_text(h.driver.slash(MENTEE, "tips off").json)
    assert "off" in shown
    for day in range(1, 5):
        h.tick(datetime(2026, 3, 3, 1, 45, tzinfo=UTC) + timedelta(days=day))
    assert len([m for m in dms(h, MENTEE) if "mentoring tip" in m.get("text", "")]) == 1
    h.driver.slash(MENTEE, "tips on")
    h.tick(datetime(2026, 3, 9, 1, 45, tzinfo=UTC))  # next Monday 07:15 Kolkata
    assert len([m for m in dms(h, MENTEE) if "mentoring tip" in m.get("text", "")]) == 2


def test_tip_votes_are_stored_and_shown(harness: Harness) -> None:
    h = harness
    pair_up(h)
    h.tick(datetime(2026, 3, 3, 17, 0, tzinfo=UTC))  # 09:00 Tuesday in Los Angeles
    tip = h.last_dm(MENTOR)
    h.click(MENTOR, tip, Action.TIP_UP)
    assert "✓ 👍" in all_text(h.slack.message(tip["ts"]))
    from bot.store.models import TipVote

    assert count(h, TipVote, TipVote.vote == 1) == 1
    mark = h.slack.mark()
    h.click(MENTEE, tip, Action.TIP_UP, channel=h.slack.dm_channel(MENTOR))
    h.slack.wait_for("response_url", after=mark)
    assert count(h, TipVote) == 1


def test_end_stops_prompts_and_sends_closing_poll(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    meeting = h.clock.now + timedelta(days=2)
    schedule(h, group, [meeting, meeting + timedelta(days=7), meeting + timedelta(days=14)])
    response = h.driver.slash(MENTEE, "end")
    assert "End pairing" in all_text(response.json)
    before = {u: len(dms(h, u)) for u in (MENTOR, MENTEE)}
    posts = len(h.slack.calls_to("chat.postMessage"))
    h.click(
        MENTEE,
        {"ts": "0", "blocks": response.json["blocks"]},
        Action.END_CONFIRM,
        channel=h.slack.dm_channel(MENTEE),
    )
    h.app.drain()
    assert "ended" in h.slack.messages_in(group)[-1]["text"].lower()
    # The pair hears that it ended before each member is asked how it went, a minute on,
    # after the .ics of the three meetings it called off, which it explains.
    said = [c.args.get("text") for c in h.slack.calls_to("chat.postMessage")[posts:]]
    assert len(said) == 1 and "ended" in said[0].lower(), said
    ended = h.slack.messages_in(group)[-1]
    assert all_text(ended).count("Open the file above to take it off") == 3
    assert len(h.slack.calls_to("files.completeUploadExternal")) >= 1
    h.tick(h.clock.now + timedelta(minutes=1))
    said = [c.args.get("text") for c in h.slack.calls_to("chat.postMessage")[posts + 1 :]]
    assert said == ["How did your mentoring relationship go?"] * 2, said
    # The cancelled meetings' prompts never leave.
    h.tick(meeting + timedelta(days=20))
    for user in (MENTOR, MENTEE):
        new = dms(h, user)[before[user] :]
        assert [m["text"] for m in new] == ["How did your mentoring relationship go?"], new
    # An answer to it tells the partner nothing ("shared feedback on your last meeting"
    # would be about something else: the pairing is over).
    closing = dms(h, MENTEE)[-1]
    # Its privacy note, once, and not "your partner only sees that you gave feedback".
    assert all_text(closing).count("Your answers are private") == 1
    assert "partner only" not in all_text(closing)
    mentor_dms = len(dms(h, MENTOR))
    yes = next(
        e["action_id"]
        for b in closing["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id", "").startswith(f"{Action.FEEDBACK_USEFULNESS}:")
    )
    h.click(MENTEE, closing, yes)
    h.app.drain()
    assert len(dms(h, MENTOR)) == mentor_dms
    status = all_text(h.driver.slash(MENTOR, "status").json)
    assert "not in a mentoring pair" in status
    assert "Daily tips come while you're in a mentoring pair" in status  # none promised


def test_closing_polls_wait_for_the_group_to_hear_it_ended(harness: Harness) -> None:
    """Slack turns away the group DM's "has ended" for a while: the closing polls, due a
    minute on, wait for it rather than arrive first."""
    h = harness
    group = pair_up(h)
    h.slack.inject(
        "chat.postMessage", status=500, times=1000, when=lambda args: args.get("channel") == group
    )
    end_pairing(h, MENTEE)
    polls = "How did your mentoring relationship go?"
    h.tick(h.clock.now + timedelta(minutes=3))
    assert not [m for m in dms(h, MENTOR) + dms(h, MENTEE) if m.get("text") == polls]
    h.slack.clear_faults()
    h.tick(h.clock.now + timedelta(hours=1))
    h.tick(h.clock.now + timedelta(hours=1, minutes=1))  # the polls, a moment after it
    said = [
        c.args.get("text") or ""
        for c in h.slack.calls_to("chat.postMessage")
        if c.response.get("ok")
    ]
    ended = next(n for n, text in enumerate(said) if "has ended" in text)
    asked = [n for n, text in enumerate(said) if text == polls]
    assert len(asked) == 2 and ended < min(asked), said


def test_closing_polls_do_not_wait_for_a_group_dm_slack_will_not_take(harness: Harness) -> None:
    """The group DM was archived: its "has ended" is set aside for good, and the closing
    polls go all the same, not wait for it for ever."""
    h = harness
    group = pair_up(h)
    h.slack.inject(
        "chat.postMessage", error="is_archived", when=lambda args: args.get("channel") == group
    )
    end_pairing(h, MENTEE)
    h.tick(h.clock.now + timedelta(minutes=2))
    polls = "How did your mentoring relationship go?"
    assert len([m for m in dms(h, MENTOR) + dms(h, MENTEE) if m.get("text") == polls]) == 2


def test_ticks_are_idempotent(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    meeting = h.clock.now + timedelta(days=2)
    schedule(h, group, [meeting, meeting + timedelta(days=7), meeting + timedelta(days=14)])
    when = meeting + timedelta(hours=3)
    first = h.tick(when)
    calls = len(h.slack.calls_to("chat.postMessage"))
    second = h.tick(when)
    assert first.sent > 0 and second.sent == 0
    assert len(h.slack.calls_to("chat.postMessage")) == calls


def test_cancel_a_meeting_from_app_home(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    meeting = h.clock.now + timedelta(days=2)
    schedule(h, group, [meeting, meeting + timedelta(days=7), meeting + timedelta(days=14)])
    h.driver.app_home_opened(MENTEE)
    h.app.drain()
    home = h.slack.home_view(MENTEE)
    with h.db.session() as s:
        first = s.scalars(select(Meeting).order_by(Meeting.starts_at)).first()
    assert f"<!date^{int(first.starts_at.timestamp())}^" in all_text(home)
    h.driver.click_in_view(
        MENTEE, home, f"{Action.MOVE_MEETING}:{first.id}", value=f"cancel:{first.id}"
    )
    h.app.drain()
    assert "cancelled the meeting" in h.slack.messages_in(group)[-1]["text"]
    assert (
        count(
            h,
            ScheduledMessage,
            ScheduledMessage.meeting_id == first.id,
            ScheduledMessage.status == "pending",
        )
        == 0
    )
    refreshed = h.slack.home_view(MENTEE)
    assert f"<!date^{int(first.starts_at.timestamp())}^" not in all_text(refreshed)


def test_cancelling_the_last_meeting_ahead_asks_the_pair_for_new_ones_at_once(
    harness: Harness,
) -> None:
    """The ask for the next meetings is due when fewer than the threshold (1) remain
    ahead: when the last one starts, or at once when the last one is cancelled."""
    h = harness
    group = pair_up(h)
    meeting = h.clock.now + timedelta(days=2)
    schedule(h, group, [meeting, meeting + timedelta(days=7), meeting + timedelta(days=14)])
    with h.db.session() as s:
        ids = [m.id for m in s.scalars(select(Meeting).order_by(Meeting.starts_at))]

    def asks() -> list[dict]:
        return [m for m in h.slack.messages_in(group) if "next three" in m.get("text", "")]

    for meeting_id in ids:
        cancel_from_home(h, MENTOR, meeting_id)
        assert len(asks()) == (1 if meeting_id == ids[-1] else 0)
    # The pair reads that the meeting was cancelled (and its .ics) before the ask.
    said = [m.get("text", "") for m in h.slack.messages_in(group)]
    last_cancel = max(n for n, text in enumerate(said) if "cancelled the meeting" in text)
    assert last_cancel < next(n for n, text in enumerate(said) if "next three" in text)
    # It is not asked again when the time the last meeting had comes.
    h.tick(meeting + timedelta(days=15))
    assert len(asks()) == 1
