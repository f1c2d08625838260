"""Goals and an agreement in the pair's group DM, through Slack: the kickoff's button, the
modal checked on the server, the goal card posted once and updated in place, App Home,
the prep prompt's "progress on", and the mentee's progress taps on every second poll."""

from __future__ import annotations

import copy
from datetime import date, timedelta

from sqlalchemy import func, select

from bot.domain.goals import STALE_FORM, WHAT_MAX, WHY_MAX
from bot.ids import Action, Block
from bot.store.models import GoalProgress, PairAgreement, PairGoal
from slackemu import Input
from tests.conftest import MENTEE, MENTOR, STRANGER, Harness, all_text

CARD = ":dart: Our goals"
TYPED_WHAT = "Lead a design review <!channel> *bold*"
TYPED_WHY = "So that <@UEVE000007> & the team trust me <https://evil.example|here>"


def pair_up(h: Harness) -> str:
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    return h.slack.wait_for("conversations.open").response["channel"]["id"]


def kickoff(h: Harness, group: str) -> dict:
    return next(m for m in h.slack.messages_in(group) if "Welcome" in m.get("text", ""))


def cards(h: Harness, group: str) -> list[dict]:
    return [m for m in h.slack.messages_in(group) if m.get("text", "").startswith(CARD)]


def count(h: Harness, model: type, *where: object) -> int:
    with h.db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def open_goals(h: Harness, user: str, message: dict) -> dict:
    h.click(user, message, Action.OPEN_GOALS)
    view = h.driver.last_view_opened(user)
    assert view is not None and view["callback_id"] == "goals_modal"
    return view


def goal_values(
    what: str | None, why: str | None = None, by: date | None = None, *, n: int = 1
) -> dict:
    return {
        f"goal_{n}_what": {"value": Input.plain_text(what)},
        f"goal_{n}_why": {"value": Input.plain_text(why)},
        f"goal_{n}_by": {"value": Input.date(by.isoformat() if by else None)},
    }


def set_goals(h: Harness, group: str, user: str = MENTOR, **extra: dict) -> None:
    view = open_goals(h, user, kickoff(h, group))
    later = h.clock.now.date() + timedelta(days=60)
    values = {
        **goal_values(TYPED_WHAT, TYPED_WHY, later),
        **goal_values("Give a talk", "", later + timedelta(days=30), n=2),
        Block.AGREE_CADENCE: {"value": Input.static_select("weekly")},
        Block.AGREE_CONTACT: {"value": Input.plain_text("DM me <!here> anytime")},
        **extra,
    }
    response = h.submit(user, view, values)
    assert response.status == 200 and not response.body


def schedule(h: Harness, group: str, first_in: timedelta) -> list:
    kick = kickoff(h, group)
    h.click(MENTOR, kick, Action.OPEN_SCHEDULE)
    view = h.driver.last_view_opened(MENTOR)
    first = h.clock.now + first_in
    times = [first + timedelta(days=7 * i) for i in range(3)]
    values = {
        block: {"value": Input.datetime(int(t.timestamp()))}
        for block, t in zip(("meeting_1", "meeting_2", "meeting_3"), times, strict=True)
    }
    h.submit(MENTOR, view, values)
    return times


def test_only_the_pair_opens_the_form_and_the_server_checks_it(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    kick = kickoff(h, group)
    assert "Set our goals" in all_text(kick)

    # A stranger pressing the kickoff's button hears kindly why, and no modal opens.
    mark = h.slack.mark()
    h.click(STRANGER, kick, Action.OPEN_GOALS, channel=group)
    refusal = h.slack.wait_for("response_url", after=mark).args["text"]
    assert "not part of" in refusal
    assert h.driver.last_view_opened(STRANGER) is None

    view = open_goals(h, MENTEE, kick)
    today = h.clock.now.date()
    later = today + timedelta(days=30)
    problems = [
        # A reason and a date, but no goal.
        (goal_values(None, "why not", later), "goal_1_what", "Name the goal"),
        # A date already past.
        (goal_values("Ship it", None, today - timedelta(days=1)), "goal_1_by", "still ahead"),
        # No date.
        (goal_values("Ship it", "because", None, n=2), "goal_2_by", "Pick the date"),
        # More than two years away.
        (goal_values("Ship it", None, today + timedelta(days=800), n=3), "goal_3_by", "2 years"),
        # Forged past the modal's max_length.
        (goal_values("x" * (WHAT_MAX + 1), None, later), "goal_1_what", "keep it to 150"),
        (goal_values("Ship it", "y" * (WHY_MAX + 1), later), "goal_1_why", "keep it to 500"),
        ({Block.AGREE_CONTACT: {"value": Input.plain_text("z" * 501)}}, "agree_contact", "500"),
        # A choice the menu never offered.
        ({Block.AGREE_CADENCE: {"value": Input.static_select("daily")}}, "agree_cadence", "or"),
    ]
    forged = copy.deepcopy(view)
    for block in forged["blocks"]:
        if block.get("block_id") == Block.AGREE_CADENCE:
            block["element"]["options"].append(
                {"text": {"type": "plain_text", "text": "Daily"}, "value": "daily"}
            )
    for values, block, words in problems:
        response = h.submit(MENTEE, forged, values)
        assert response.json["response_action"] == "errors", block
        assert words in response.json["errors"][block], response.json
    assert count(h, PairGoal) == 0 and count(h, PairAgreement) == 0
    assert cards(h, group) == []

    # A forged submission for the pair by a stranger changes nothing either.
    response = h.submit(STRANGER, view, goal_values("Mine now", None, later))
    assert "not part of" in all_text(response.json)
    assert count(h, PairGoal) == 0


def test_card_posted_once_then_updated_and_shown_on_home(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    set_goals(h, group)
    [card] = cards(h, group)
    shown = all_text(card)
    # The pair's words, escaped: never a live broadcast, mention or link.
    assert "&lt;!channel&gt; *bold*" in shown
    assert "&lt;@UEVE000007&gt; &amp; the team" in shown
    assert "Every week" in shown and "&lt;!here&gt;" in shown
    assert "Give a talk" in shown
    assert card["text"] == f"{CARD} · 2 open, 0 done"
    with h.db.session() as s:
        agreement = s.scalars(select(PairAgreement)).one()
        assert (agreement.card_channel, agreement.card_ts) == (group, card["ts"])

    # The card's own button reopens the form, filled with what was saved.
    view = open_goals(h, MENTEE, card)
    inputs = {b.get("block_id"): b.get("element", {}) for b in view["blocks"]}
    assert inputs["goal_1_what"]["initial_value"] == TYPED_WHAT
    assert inputs["agree_cadence"]["initial_option"]["value"] == "weekly"
    # The mentee drops goal 2 and adds a third: the same card changes in place.
    later = h.clock.now.date() + timedelta(days=90)
    mark = h.slack.mark()
    response = h.submit(
        MENTEE,
        view,
        {
            **goal_values(None, None, None, n=2),
            **goal_values("Mentor someone <!everyone>", "pay it forward", later, n=3),
        },
    )
    assert response.status == 200 and not response.body
    assert [c["ts"] for c in cards(h, group)] == [card["ts"]]
    assert h.slack.calls_to("chat.update", channel=group, ts=card["ts"])
    updated = all_text(h.slack.message(card["ts"]))
    assert "Give a talk" not in updated and "&lt;!everyone&gt;" in updated
    assert "Edit our goals" in updated
    assert mark < len(h.slack.calls)
    assert count(h, PairGoal) == 2

    # App Home shows each member the pair's goals, and the button that opens the form.
    h.driver.app_home_opened(MENTOR)
    h.app.drain()
    home = h.slack.home_view(MENTOR)
    text = all_text(home)
    assert "2 open, 0 done" in text and "&lt;!channel&gt;" in text
    h.driver.click_in_view(MENTOR, home, Action.OPEN_GOALS)
    h.app.drain()
    assert h.driver.last_view_opened(MENTOR)["callback_id"] == "goals_modal"
    # A stranger's Home shows none of it.
    h.driver.app_home_opened(STRANGER)
    h.app.drain()
    assert "design review" not in all_text(h.slack.home_view(STRANGER))


def test_prep_lists_goals_as_they_are_when_it_is_sent(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    set_goals(h, group)
    first, *_ = schedule(h, group, timedelta(days=3))
    # Goals edited after the prep was planned: the prompt shows them as they are now.
    view = open_goals(h, MENTOR, cards(h, group)[0])
    h.submit(MENTOR, view, goal_values("Write the RFC <!here>", "", first.date() + timedelta(30)))
    h.tick(first - timedelta(hours=24))
    for user in (MENTEE, MENTOR):
        prep = [m for m in h.slack.messages_in(user) if "Prepare for" in m.get("text", "")][-1]
        shown = all_text(prep)
        assert "Progress on" in shown, user
        assert "Write the RFC &lt;!here&gt;" in shown and "design review" not in shown
        assert "Give a talk" in shown


def test_every_second_poll_asks_the_mentee_one_tap_per_goal(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    set_goals(h, group)
    times = schedule(h, group, timedelta(days=1))
    polls = "How did your mentoring meeting go?"

    h.tick(times[0] + timedelta(hours=2))
    first_poll = h.last_dm(MENTEE)
    assert first_poll["text"] == polls and "How are your goals going" not in all_text(first_poll)

    h.tick(times[1] + timedelta(hours=2))
    poll = h.last_dm(MENTEE)
    assert poll["text"] == polls and "How are your goals going" in all_text(poll)
    assert "&lt;!channel&gt;" in all_text(poll)
    mentor_poll = h.last_dm(MENTOR)
    assert "How are your goals going" not in all_text(mentor_poll)

    with h.db.session() as s:
        goal_ids = [g.id for g in s.scalars(select(PairGoal).order_by(PairGoal.position))]
    # The mentor pressing the mentee's button is refused; nothing is recorded.
    mark = h.slack.mark()
    h.click(
        MENTOR,
        poll,
        f"{Action.GOAL_PROGRESS}:some",
        block_id=f"goal:{goal_ids[0]}:{_meeting_of(poll)}",
        channel=h.slack.dm_channel(MENTEE),
    )
    assert "mentee" in h.slack.wait_for("response_url", after=mark).args["text"]
    # A stranger, and forged values (another goal, a meeting that is not this pair's, a
    # progress that is not one of ours) are refused as well.
    meeting = int(_meeting_of(poll))
    for user, value in (
        (STRANGER, f"1:{goal_ids[0]}:{meeting}:some"),
        (MENTEE, f"1:{goal_ids[0]}:{meeting}:finished"),
        (MENTEE, f"1:{goal_ids[0] + 99}:{meeting}:some"),
        (MENTEE, f"1:{goal_ids[0]}:{meeting + 99}:some"),
        (MENTEE, f"1:{goal_ids[0]}:0:some"),
        (MENTEE, "1:2"),
    ):
        mark = h.slack.mark()
        h.click(
            user,
            poll,
            f"{Action.GOAL_PROGRESS}:some",
            block_id=f"goal:{goal_ids[0]}:{meeting}",
            value=value,
            channel=h.slack.dm_channel(MENTEE),
        )
        answer = h.slack.wait_for("response_url", after=mark).args["text"]
        assert answer and "went wrong" not in answer, value
    assert count(h, GoalProgress) == 0

    # The mentee taps: the poll shows the tap, and the goal card follows.
    h.click(
        MENTEE,
        poll,
        f"{Action.GOAL_PROGRESS}:some",
        block_id=f"goal:{goal_ids[0]}:{_meeting_of(poll)}",
    )
    redrawn = h.slack.message(poll["ts"])
    assert "✓ Some progress" in all_text(redrawn)
    card = cards(h, group)[0]
    assert ":large_yellow_square:" in all_text(h.slack.message(card["ts"]))
    h.click(
        MENTEE,
        redrawn,
        f"{Action.GOAL_PROGRESS}:done",
        block_id=f"goal:{goal_ids[1]}:{_meeting_of(poll)}",
    )
    assert h.slack.message(card["ts"])["text"] == f"{CARD} · 1 open, 1 done"
    # Answering the poll itself keeps the goal rows and their marks.
    h.click(MENTEE, h.slack.message(poll["ts"]), f"{Action.FEEDBACK_HAPPENED}:yes")
    shown = all_text(h.slack.message(poll["ts"]))
    assert "✓ Yes" in shown and "✓ Some progress" in shown and "✓ Done" in shown
    with h.db.session() as s:
        statuses = [g.status for g in s.scalars(select(PairGoal).order_by(PairGoal.position))]
    assert statuses == ["open", "done"]
    assert count(h, GoalProgress) == 2

    # The third poll does not ask.
    h.tick(times[2] + timedelta(hours=2))
    assert "How are your goals going" not in all_text(h.last_dm(MENTEE))


def _meeting_of(poll: dict) -> str:
    """The meeting id in a poll's goal rows (``goal:<goal>:<meeting>``)."""
    for block in poll["blocks"]:
        if block.get("block_id", "").startswith("goal:"):
            return block["block_id"].split(":")[2]
    raise AssertionError("no goal rows in the poll")


def test_a_form_opened_before_the_partner_saved_is_refused(harness: Harness) -> None:
    """Both open the form; the mentee rewrites a goal and saves; the mentor's form, still
    showing the old goals, saved them back over the mentee's change."""
    h = harness
    group = pair_up(h)
    set_goals(h, group)
    mentors = open_goals(h, MENTOR, kickoff(h, group))
    mentees = open_goals(h, MENTEE, kickoff(h, group))
    later = h.clock.now.date() + timedelta(days=60)
    assert not h.submit(MENTEE, mentees, goal_values("Only this one", "", later)).body
    stale = h.submit(MENTOR, mentors, goal_values("The mentor's goal", "", later))
    errors = stale.json["errors"]
    assert list(errors.values()) == [STALE_FORM]
    with h.db.session() as s:
        assert "Only this one" in set(s.scalars(select(PairGoal.what)))
    # Opened afresh, it saves.
    again = open_goals(h, MENTOR, kickoff(h, group))
    assert not h.submit(MENTOR, again, goal_values("The mentor's goal", "", later)).body
    with h.db.session() as s:
        assert "The mentor's goal" in set(s.scalars(select(PairGoal.what)))


def test_an_empty_form_posts_no_card(harness: Harness) -> None:
    """Saved empty before any goal, it posted "0 open, 0 done / No goals yet" to the
    group DM; once there is a card, emptying the goals updates it."""
    h = harness
    group = pair_up(h)
    assert not h.submit(MENTOR, open_goals(h, MENTOR, kickoff(h, group)), {}).body
    assert cards(h, group) == []
    set_goals(h, group)
    assert len(cards(h, group)) == 1
