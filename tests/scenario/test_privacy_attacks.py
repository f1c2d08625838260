"""A curious coordinator, through Slack: forged ratings and before/after views of App Home.

The unit-level attacks are in tests/unit/test_privacy_attacks.py; this one runs the
whole app against the Slack emulator, as the coordinator would try it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.ids import Action, Block
from slackemu import Input
from tests.conftest import COORDINATOR, MENTEE, MENTOR, STRANGER, Harness, all_text

ERIN = "UERIN00007"
POLL = "How did your mentoring meeting go?"


def pair_up(h: Harness, mentor: str, mentee: str, name: str) -> str:
    mark = h.slack.mark()
    h.slash(mentor, f"start <@{mentee}|{name}>")
    h.click(mentee, h.last_dm(mentee), Action.ACCEPT_INVITE)
    return h.slack.wait_for("conversations.open", after=mark).response["channel"]["id"]


def schedule(h: Harness, mentor: str, group: str, first: datetime) -> None:
    h.click(mentor, h.slack.messages_in(group)[-1], Action.OPEN_SCHEDULE)
    view = h.driver.last_view_opened(mentor)
    times = (first, first + timedelta(days=7), first + timedelta(days=14))
    values = {
        block: {"value": Input.datetime(int(t.timestamp()))}
        for block, t in zip(("meeting_1", "meeting_2", "meeting_3"), times, strict=True)
    }
    values[Block.LENGTH] = {"value": Input.plain_text(None)}
    h.submit(mentor, view, values)


def answer_polls(h: Harness, user: str, rating: int) -> int:
    polls = [m for m in h.slack.messages_in(user) if m.get("text") == POLL]
    for poll in polls:
        h.click(user, poll, f"{Action.FEEDBACK_HAPPENED}:yes")
        h.click(user, h.slack.message(poll["ts"]), f"{Action.FEEDBACK_USEFULNESS}:{rating}")
    return len(polls)


def insights(h: Harness) -> str:
    """What the coordinator's App Home shows of the program (their own pairs aside)."""
    h.driver.app_home_opened(COORDINATOR)
    h.app.drain()
    blocks = h.slack.home_view(COORDINATOR)["blocks"]
    start = next(n for n, b in enumerate(blocks) if b.get("block_id") == "insights_header")
    return all_text(blocks[start:])


def test_a_coordinator_cannot_read_one_rating_through_their_own_polls(harness: Harness) -> None:
    h = harness
    h.slack.add_user(ERIN, name="erin", real_name="Erin Mentee", tz="Europe/Berlin")
    first = h.clock.now + timedelta(hours=30)  # Tuesday 3 March, 23:00 UTC
    schedule(h, MENTOR, pair_up(h, MENTOR, MENTEE, "bob"), first)
    # The coordinator mentors two people of their own: polls they can reach.
    schedule(h, COORDINATOR, pair_up(h, COORDINATOR, STRANGER, "dave"), first)
    # An hour later: nobody is in two meetings at once.
    schedule(h, COORDINATOR, pair_up(h, COORDINATOR, ERIN, "erin"), first + timedelta(hours=1))
    h.tick(first + timedelta(minutes=60 + 45 + 60))

    before = insights(h)
    # The victim rates their meeting 2; the coordinator rates both of theirs 5, and
    # so do the coordinator's two mentees: five ratings, four of them known to them.
    assert answer_polls(h, MENTEE, 2) == 1
    assert answer_polls(h, COORDINATOR, 5) == 2
    assert answer_polls(h, STRANGER, 5) == answer_polls(h, ERIN, 5) == 1
    assert insights(h) == before  # the open week is never shown

    # The week is over: shown once, never counting the coordinator's own answers (they
    # are in MENTOR_ADMINS, left out of every figure), and never how so few people
    # split: K on each side.
    h.clock.set(datetime.fromisoformat("2026-03-09T10:00:00+00:00"))
    closed = insights(h)
    assert "Week of 2 Mar" in closed
    assert "*Gave feedback*\n3 people" in closed
    assert "hidden (fewer than 3 on one side)" in closed
    assert "3 people, fewer than" not in closed  # not how lopsided
    assert not re.search(r"[1-5] ★ [█ ]", closed)  # no histogram of ratings

    # The victim changes their mind: the published week does not move.
    poll = next(m for m in h.slack.messages_in(MENTEE) if m.get("text") == POLL)
    h.click(MENTEE, h.slack.message(poll["ts"]), f"{Action.FEEDBACK_USEFULNESS}:5")
    assert "usefulness: *5/5*" in all_text(h.slack.message(poll["ts"]))
    assert insights(h) == closed



def test_delivered_rows_keep_no_words_and_no_ratings(harness: Harness) -> None:
    """Prep notes shared with the mentor and a rating shown in its poll live in the
    outbox only until delivered: edited twice, rated twice, the rows keep neither the
    old nor the new words or scores (their own tables keep the latest answer)."""
    from sqlalchemy import select

    from bot.store.models import ScheduledMessage
    from bot.store.outbox import KEPT_AFTER_DELIVERY
    from tests.scenario.test_typed_text import open_prep

    h = harness
    meeting = h.clock.now + timedelta(hours=30)  # as open_prep schedules it
    secret = "SECRET-burnout-and-my-manager"
    view = open_prep(h)
    for focus in (secret, f"{secret} (edited)"):
        h.submit(
            MENTEE,
            view,
            {
                Block.FOCUS: {"value": Input.plain_text(focus)},
                Block.QUESTIONS: {"value": Input.plain_text("Should I quit?")},
            },
        )
        h.tick()
        prep = [m for m in h.slack.messages_in(MENTEE) if "Prepare for" in m.get("text", "")]
        h.click(MENTEE, prep[-1], Action.OPEN_PREP)
        view = h.driver.last_view_opened(MENTEE)
    assert f"{secret} (edited)" in all_text(h.slack.messages_in(MENTOR))  # it did arrive
    h.tick(meeting + timedelta(minutes=45 + 60))
    poll = h.last_dm(MENTEE)
    assert poll["text"] == POLL
    h.click(MENTEE, poll, f"{Action.FEEDBACK_USEFULNESS}:1")
    h.click(MENTEE, h.slack.message(poll["ts"]), f"{Action.FEEDBACK_USEFULNESS}:5")
    h.tick()
    with h.db.session() as session:
        rows = session.scalars(
            select(ScheduledMessage).where(ScheduledMessage.kind.in_(KEPT_AFTER_DELIVERY))
        ).all()
        delivered = [r for r in rows if r.status in ("sent", "cancelled")]
        assert [r.kind for r in delivered].count("prep_shared") == 2
        assert [r.kind for r in delivered].count("poll_update") >= 2
        for row in delivered:
            assert set(row.payload) <= KEPT_AFTER_DELIVERY[row.kind], (row.kind, row.payload)
            assert "SECRET" not in str(row.payload) and "quit" not in str(row.payload)
