"""What an old button may still change about a meeting whose time has come: a meeting
either member said took place keeps its place, and one that is over is not cancelled
(each press said so in the group DM, with a CANCEL .ics for a past event)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.domain.meetings import MEETING_OVER, MEETING_TOOK_PLACE
from bot.ids import Action, Block
from bot.store.models import Meeting, ScheduledMessage
from slackemu import Input
from tests.conftest import MENTEE, MENTOR, Harness
from tests.scenario.test_coaching import pair_up, schedule


def _scheduled(h: Harness):  # type: ignore[no-untyped-def]
    group = pair_up(h)
    first = h.clock.now + timedelta(days=2)
    schedule(h, group, [first, first + timedelta(days=7), first + timedelta(days=14)])
    return group, first


def _first_meeting(h: Harness) -> Meeting:
    with h.db.session() as s:
        return s.scalars(select(Meeting).order_by(Meeting.starts_at)).first()


def _poll(h: Harness, user: str) -> dict:
    return [m for m in h.slack.messages_in(user) if "How did your" in m.get("text", "")][-1]


def test_a_meeting_said_to_have_happened_cannot_be_moved_by_an_old_button(
    harness: Harness,
) -> None:
    h = harness
    group, first = _scheduled(h)
    h.tick(first + timedelta(hours=2))
    poll = _poll(h, MENTEE)
    h.click(MENTEE, poll, f"{Action.FEEDBACK_HAPPENED}:no")
    new_time = h.last_dm(MENTEE)  # "Let's find a new time", with its button
    # It did happen after all: they change their answer, and the mentor agrees.
    h.click(MENTEE, h.slack.message(poll["ts"]), f"{Action.FEEDBACK_HAPPENED}:yes")
    h.click(MENTOR, _poll(h, MENTOR), f"{Action.FEEDBACK_HAPPENED}:yes")
    before = len(h.slack.messages_in(group))
    mark = h.slack.mark()
    h.click(MENTEE, new_time, f"{Action.MOVE_MEETING}:again", value=f"again:{_first_meeting(h).id}")
    refusal = h.slack.wait_for("response_url", after=mark)
    assert refusal.args["text"] == MEETING_TOOK_PLACE
    assert _first_meeting(h).starts_at == first
    assert len(h.slack.messages_in(group)) == before


def test_a_meeting_that_did_not_happen_moves_to_a_new_time(harness: Harness) -> None:
    h = harness
    group, first = _scheduled(h)
    meeting_id, later = _moved_after_a_no(h, first)
    with h.db.session() as s:
        assert s.get(Meeting, meeting_id).starts_at == later


def test_a_meeting_that_is_over_is_not_cancelled(harness: Harness) -> None:
    h = harness
    group, first = _scheduled(h)
    set_message = [m for m in h.slack.messages_in(group) if "meetings are set" in m["text"]][-1]
    meeting_id = _first_meeting(h).id
    # While it is on (someone is late, say), it may still be cancelled: not once over.
    h.tick(first + timedelta(hours=2))
    before = len(h.slack.messages_in(group))
    mark = h.slack.mark()
    h.click(MENTEE, set_message, f"{Action.MOVE_MEETING}:1", value=f"cancel:{meeting_id}")
    assert h.slack.wait_for("response_url", after=mark).args["text"] == MEETING_OVER
    with h.db.session() as s:
        assert s.get(Meeting, meeting_id).status == "scheduled"
    assert len(h.slack.messages_in(group)) == before
    # The next one, still ahead, can be.
    second = [m.id for m in _meetings(h)][1]
    h.click(MENTEE, set_message, f"{Action.MOVE_MEETING}:2", value=f"cancel:{second}")
    with h.db.session() as s:
        assert s.get(Meeting, second).status == "cancelled"


def test_a_meeting_under_way_can_still_be_cancelled(harness: Harness) -> None:
    h = harness
    group, first = _scheduled(h)
    set_message = [m for m in h.slack.messages_in(group) if "meetings are set" in m["text"]][-1]
    meeting_id = _first_meeting(h).id
    h.clock.set(first + timedelta(minutes=10))
    h.click(MENTOR, set_message, f"{Action.MOVE_MEETING}:1", value=f"cancel:{meeting_id}")
    with h.db.session() as s:
        assert s.get(Meeting, meeting_id).status == "cancelled"


def _moved_after_a_no(h: Harness, first: datetime) -> tuple[int, datetime]:
    """The first meeting did not happen (the mentee's "No"), and they move it three days
    on from the poll's prompt: its id and new time."""
    h.tick(first + timedelta(hours=2))
    h.click(MENTEE, _poll(h, MENTEE), f"{Action.FEEDBACK_HAPPENED}:no")
    meeting_id = _first_meeting(h).id
    h.click(MENTEE, h.last_dm(MENTEE), f"{Action.MOVE_MEETING}:again", value=f"again:{meeting_id}")
    later = first + timedelta(days=3)
    h.submit(
        MENTEE,
        h.driver.last_view_opened(MENTEE),
        {Block.MEETING_TIME: {"value": Input.datetime(int(later.timestamp()))}},
    )
    return meeting_id, later


def _meetings(h: Harness) -> list[Meeting]:
    with h.db.session() as s:
        return list(s.scalars(select(Meeting).order_by(Meeting.starts_at)))


def _asks_for_a_new_time(h: Harness, user: str) -> int:
    return sum(m.get("text") == "Let's find a new time" for m in h.slack.messages_in(user))


def test_changing_a_no_answer_asks_for_a_new_time_once(harness: Harness) -> None:
    """No, then Rescheduled, then No again on one poll sent three identical asks."""
    h = harness
    _group, first = _scheduled(h)
    h.tick(first + timedelta(hours=2))
    poll = _poll(h, MENTEE)
    for answer in ("no", "rescheduled", "no"):
        h.click(MENTEE, h.slack.message(poll["ts"]), f"{Action.FEEDBACK_HAPPENED}:{answer}")
    assert _asks_for_a_new_time(h, MENTEE) == 1
    # It says which meeting: with whom, and when it was.
    [ask] = [m for m in h.slack.messages_in(MENTEE) if m.get("text") == "Let's find a new time"]
    which = str(ask["blocks"])
    assert f"The meeting with <@{MENTOR}> (<!date^{int(first.timestamp())}^" in which
    assert "press *Pick a new time*" in which


def test_a_poll_answered_after_the_pair_ended_starts_nothing(harness: Harness) -> None:
    """The answer is kept, but the former partner is not told "shared feedback", and no
    new time is asked for a pairing that is over."""
    h = harness
    _group, first = _scheduled(h)
    h.tick(first + timedelta(hours=2))
    poll = _poll(h, MENTEE)
    confirm = h.driver.slash(MENTOR, "end").json
    h.click(
        MENTOR,
        {"ts": "0", "blocks": confirm["blocks"]},
        Action.END_CONFIRM,
        channel=h.slack.dm_channel(MENTOR),
    )
    h.tick(h.clock.now + timedelta(minutes=2))
    mentor_had = len(h.slack.messages_in(MENTOR))
    h.click(MENTEE, poll, f"{Action.FEEDBACK_HAPPENED}:no")
    assert _asks_for_a_new_time(h, MENTEE) == 0
    assert len(h.slack.messages_in(MENTOR)) == mentor_had
    assert "*No*" in str(h.slack.message(poll["ts"])["blocks"])  # shown as chosen


def test_home_and_the_confirmation_show_each_meeting_once(harness: Harness) -> None:
    """Both listed the meetings in a paragraph, then again line by line with ⋯."""
    h = harness
    group, first = _scheduled(h)
    stamp = f"<!date^{int(first.timestamp())}^"
    set_message = [m for m in h.slack.messages_in(group) if "meetings are set" in m["text"]][-1]
    assert str(set_message["blocks"]).count(stamp) == 1
    assert set_message["blocks"][0]["text"]["text"].endswith("Your next meetings are set:")
    h.driver.app_home_opened(MENTEE)
    h.app.drain()
    home = h.slack.home_view(MENTEE)
    assert str(home["blocks"]).count(stamp) == 1
    assert "Next meetings:" in str(home["blocks"])


def test_a_meeting_that_did_not_happen_has_no_rating(harness: Harness) -> None:
    """The poll showed "happened: No · usefulness: 5/5", and the 5 counted in the
    coordinators' "found meetings useful"."""
    from bot.store.models import Feedback

    h = harness
    _group, first = _scheduled(h)
    h.tick(first + timedelta(hours=2))
    poll = _poll(h, MENTEE)
    h.click(MENTEE, poll, f"{Action.FEEDBACK_USEFULNESS}:5")
    h.click(MENTEE, h.slack.message(poll["ts"]), f"{Action.FEEDBACK_HAPPENED}:no")
    with h.db.session() as s:
        answer = s.scalars(select(Feedback)).one()
        assert (answer.happened, answer.usefulness) == ("no", None)
    mark = h.slack.mark()
    h.click(MENTEE, h.slack.message(poll["ts"]), f"{Action.FEEDBACK_USEFULNESS}:4")
    refusal = h.slack.wait_for("response_url", after=mark)
    assert "didn't happen, so there is nothing to rate" in refusal.args["text"]
    h.click(MENTEE, h.slack.message(poll["ts"]), f"{Action.FEEDBACK_HAPPENED}:yes")
    h.click(MENTEE, h.slack.message(poll["ts"]), f"{Action.FEEDBACK_USEFULNESS}:4")
    with h.db.session() as s:
        answer = s.scalars(select(Feedback)).one()
        assert (answer.happened, answer.usefulness) == ("yes", 4)


def test_no_new_time_is_asked_for_a_meeting_the_partner_said_happened(
    harness: Harness,
) -> None:
    """The mentor said Yes, the mentee No: the mentee was asked for a new time, and its
    button answered that the meeting took place."""
    h = harness
    _group, first = _scheduled(h)
    h.tick(first + timedelta(hours=2))
    h.click(MENTOR, _poll(h, MENTOR), f"{Action.FEEDBACK_HAPPENED}:yes")
    h.click(MENTEE, _poll(h, MENTEE), f"{Action.FEEDBACK_HAPPENED}:no")
    assert _asks_for_a_new_time(h, MENTEE) == 0


def test_a_meeting_moved_back_to_its_first_time_keeps_its_prompts(harness: Harness) -> None:
    """Its new prompts took the keys of the ones the first move cancelled, so none was
    planned: no prep prompt and no poll for it."""
    h = harness
    group, first = _scheduled(h)
    set_message = [m for m in h.slack.messages_in(group) if "meetings are set" in m["text"]][-1]
    meeting_id = _first_meeting(h).id
    for to in (first + timedelta(days=1), first):  # moved, then moved back
        h.click(MENTOR, set_message, f"{Action.MOVE_MEETING}:1", value=f"move:{meeting_id}")
        h.submit(
            MENTOR,
            h.driver.last_view_opened(MENTOR),
            {Block.MEETING_TIME: {"value": Input.datetime(int(to.timestamp()))}},
        )
    with h.db.session() as s:
        pending = set(
            s.scalars(
                select(ScheduledMessage.kind).where(
                    ScheduledMessage.meeting_id == meeting_id,
                    ScheduledMessage.status == "pending",
                )
            )
        )
    assert {"prep_mentee", "prep_mentor", "feedback"} <= pending, pending


def test_the_poll_about_a_meetings_new_time_starts_afresh(harness: Harness) -> None:
    """It did not happen and moved: the poll about its new time held the old "No", so a
    rating was refused ("press Yes first") and a Yes was no first answer."""
    h = harness
    _group, first = _scheduled(h)
    _meeting_id, later = _moved_after_a_no(h, first)
    h.tick(later + timedelta(hours=2))
    fresh = _poll(h, MENTEE)
    mentor_had = len(h.slack.messages_in(MENTOR))
    h.click(MENTEE, fresh, f"{Action.FEEDBACK_USEFULNESS}:5")
    assert "usefulness: *5/5*" in str(h.slack.message(fresh["ts"])["blocks"])
    # A first answer about this time: the partner hears that feedback was given.
    assert len(h.slack.messages_in(MENTOR)) == mentor_had + 1
