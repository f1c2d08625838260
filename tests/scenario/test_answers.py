"""Answers are accepted only where they make sense, whatever a forged request says."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from bot.domain.answers import FOCUS_MAX, NOTE_MAX
from bot.ids import Action, Block
from bot.store.models import Feedback, Meeting, PrepAnswer
from slackemu import Input
from tests.conftest import MENTEE, MENTOR, Harness, all_text
from tests.scenario.test_coaching import count, dms, pair_up, schedule

HUGE = "x" * 200_000


def _meetings(h: Harness) -> list[Meeting]:
    with h.db.session() as s:
        return list(s.scalars(select(Meeting).order_by(Meeting.starts_at)))


def _first_poll(h: Harness) -> tuple[dict, int, int]:
    """Pair up, hold the first of three meetings, and return the mentee's poll."""
    group = pair_up(h)
    first = h.clock.now + timedelta(hours=30)
    schedule(h, group, [first, first + timedelta(days=7), first + timedelta(days=14)])
    h.tick(first + timedelta(minutes=45 + 60))
    poll = h.last_dm(MENTEE)
    assert poll["text"] == "How did your mentoring meeting go?"
    meetings = _meetings(h)
    return poll, meetings[0].pair_id, meetings[1].id


def test_a_forged_prep_note_beyond_the_limit_is_refused_and_nothing_is_stored(
    harness: Harness,
) -> None:
    h = harness
    group = pair_up(h)
    meeting = h.clock.now + timedelta(hours=30)
    schedule(h, group, [meeting, meeting + timedelta(days=7), meeting + timedelta(days=14)])
    h.tick(meeting - timedelta(hours=24))
    prep = [m for m in dms(h, MENTEE) if "Prepare for" in m.get("text", "")][-1]
    h.click(MENTEE, prep, Action.OPEN_PREP)
    view = h.driver.last_view_opened(MENTEE)
    mentor_dms = len(dms(h, MENTOR))
    for focus, questions in ((HUGE, "fine"), ("fine", HUGE), ("y" * (FOCUS_MAX + 1), "")):
        response = h.submit(
            MENTEE,
            view,
            {
                Block.FOCUS: {"value": Input.plain_text(focus)},
                Block.QUESTIONS: {"value": Input.plain_text(questions)},
            },
        )
        assert response.status == 200
        assert "Keep it under" in all_text(response.json)
    assert count(h, PrepAnswer) == 0
    assert len(dms(h, MENTOR)) == mentor_dms
    # At the limit it is accepted.
    response = h.submit(
        MENTEE,
        view,
        {
            Block.FOCUS: {"value": Input.plain_text("f" * FOCUS_MAX)},
            Block.QUESTIONS: {"value": Input.plain_text("q" * NOTE_MAX)},
        },
    )
    assert response.status == 200 and not response.body
    assert count(h, PrepAnswer) == 1


def test_a_rating_for_a_meeting_that_has_not_started_is_refused(harness: Harness) -> None:
    h = harness
    poll, pair_id, future_meeting = _first_poll(h)
    mark = h.slack.mark()
    h.click(
        MENTEE,
        poll,
        f"{Action.FEEDBACK_USEFULNESS}:5",
        value=f"{pair_id}:{future_meeting}:5",
    )
    answer = h.slack.wait_for("response_url", after=mark)
    assert "hasn't started yet" in all_text(answer.args)
    assert count(h, Feedback) == 0


def test_a_closing_poll_answer_before_the_pair_ended_is_refused(harness: Harness) -> None:
    h = harness
    poll, pair_id, _ = _first_poll(h)
    mark = h.slack.mark()
    h.click(MENTEE, poll, f"{Action.FEEDBACK_USEFULNESS}:1", value=f"{pair_id}:0:1")
    answer = h.slack.wait_for("response_url", after=mark)
    assert "once the pairing has ended" in all_text(answer.args)
    assert count(h, Feedback) == 0


def test_one_answer_per_person_and_meeting_a_change_replaces_it(harness: Harness) -> None:
    h = harness
    poll, _, _ = _first_poll(h)
    h.click(MENTEE, poll, f"{Action.FEEDBACK_USEFULNESS}:4")
    h.click(MENTEE, h.slack.message(poll["ts"]), f"{Action.FEEDBACK_USEFULNESS}:2")
    with h.db.session() as s:
        rows = list(s.scalars(select(Feedback).where(Feedback.user_id == MENTEE)))
    assert [r.usefulness for r in rows] == [2]


def test_forged_feedback_notes_beyond_the_limit_are_refused(harness: Harness) -> None:
    h = harness
    poll, _, _ = _first_poll(h)
    h.click(MENTEE, poll, Action.OPEN_FEEDBACK_DETAILS)
    view = h.driver.last_view_opened(MENTEE)
    response = h.submit(
        MENTEE,
        view,
        {Block.HELPED: {"value": Input.plain_text(HUGE)}},
    )
    assert response.status == 200
    assert "Keep it under" in all_text(response.json)
    assert count(h, Feedback) == 0


def test_a_form_cannot_name_someone_elses_message_for_chat_update(harness: Harness) -> None:
    h = harness
    poll, _, _ = _first_poll(h)
    victim = h.last_dm(MENTOR)  # the mentor's own poll for the same meeting
    assert victim["text"] == "How did your mentoring meeting go?"
    h.click(MENTEE, poll, Action.OPEN_FEEDBACK_DETAILS)
    view = h.driver.last_view_opened(MENTEE)
    # The old form carried the poll's channel and ts; a forged one names the mentor's.
    forged = {
        **view,
        "private_metadata": json.dumps(
            {
                **json.loads(view["private_metadata"]),
                "channel": h.slack.dm_channel(MENTOR),
                "ts": victim["ts"],
            }
        ),
    }
    mark = h.slack.mark()
    response = h.submit(MENTEE, forged, {Block.HELPED: {"value": Input.plain_text("kind")}})
    assert response.status == 200
    assert h.slack.message(victim["ts"]) == victim  # untouched
    updates = [c for c in h.slack.calls[mark:] if c.method == "chat.update"]
    assert [c.args["ts"] for c in updates] == [poll["ts"]]  # only the mentee's own poll
