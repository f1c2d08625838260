"""Answers where Slack gives no response_url: buttons in App Home and in modals.

Slack sends no ``response_url`` for a block_actions payload from a view
(docs.slack.dev/reference/interaction-payloads/block_actions-payload), so a
refusal cannot go back "in the conversation": the app answers 200 at once and
then says why in the view itself (a modal is updated, Home is published again
with a notice) or in a DM. Every request here also runs under the strict driver:
no Slack call before the ack.
"""

from __future__ import annotations

import copy
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.ids import Action
from bot.store.models import Meeting, Pair, ScheduledMessage
from tests.conftest import COORDINATOR, MENTEE, MENTOR, STRANGER, Harness, all_text
from tests.scenario.test_coaching import pair_up, schedule


def state(h: Harness) -> list[tuple]:
    """What a refused press must leave as it was."""
    with h.db.session() as s:
        pairs = [(p.id, p.status, p.mentor_id, p.mentee_id) for p in s.scalars(select(Pair))]
        meetings = [(m.id, m.starts_at, m.status) for m in s.scalars(select(Meeting))]
        outbox = [(o.id, o.status, o.due_at) for o in s.scalars(select(ScheduledMessage))]
    return sorted(map(repr, pairs + meetings + outbox))


def home_of(h: Harness, user: str) -> dict:
    h.driver.app_home_opened(user)
    h.app.drain()
    home = h.slack.home_view(user)
    assert home is not None
    return home


def meeting_block(home: dict) -> dict:
    return next(b for b in home["blocks"] if str(b.get("block_id", "")).startswith("meeting:"))


def test_home_menu_on_someone_elses_meeting_is_refused_in_home(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    start = h.clock.now + timedelta(days=2)
    schedule(h, group, [start, start + timedelta(days=7), start + timedelta(days=14)])
    theirs = meeting_block(home_of(h, MENTEE))
    meeting_id = theirs["block_id"].split(":")[1]
    # A stale or forged Home: the stranger's own Home carrying the pair's meeting menu.
    forged = copy.deepcopy(home_of(h, STRANGER))
    forged["blocks"].insert(1, theirs)
    before = state(h)

    action = f"{Action.MOVE_MEETING}:{meeting_id}"
    for verb in ("cancel", "move"):
        mark = h.slack.mark()
        response = h.driver.click_in_view(STRANGER, forged, action, value=f"{verb}:{meeting_id}")
        h.app.drain()
        assert response.status == 200 and response.body == b""
        # Told in the Home they are looking at, with nothing opened or posted elsewhere.
        notice = all_text(h.slack.home_view(STRANGER)["blocks"][:3])
        assert "not part of" in notice, notice
        assert not h.slack.calls_to("views.open")[mark:]
        assert all(c.method != "chat.postMessage" for c in h.slack.calls[mark:])
    assert state(h) == before


def test_home_accept_on_an_answered_invitation_says_so(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    stale_home = home_of(h, MENTEE)  # shows Accept / Decline while invited
    h.click(MENTEE, h.last_dm(MENTEE), Action.DECLINE_INVITE)
    before = state(h)

    response = h.driver.click_in_view(MENTEE, stale_home, Action.ACCEPT_INVITE)
    h.app.drain()
    assert response.status == 200
    notice = all_text(h.slack.home_view(MENTEE)["blocks"][:3])
    assert ":warning:" in notice and "invitation" in notice.lower(), notice
    assert state(h) == before
    assert not h.slack.calls_to("conversations.open")
    # A refusal on Home is answered there, as it should be: nothing went wrong.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_accepting_on_home_refreshes_it(harness: Harness) -> None:
    """Accept pressed on App Home: the Home shows the pairing, not the invitation with
    its buttons still there to be pressed again."""
    h = harness
    accept = "Accept plain_text"  # the button, as all_text shows it
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    home = home_of(h, MENTEE)
    assert accept in all_text(home) and "Answer it below or in our DM" in all_text(home)
    h.driver.click_in_view(MENTEE, home, Action.ACCEPT_INVITE)
    h.app.drain()
    shown = all_text(h.slack.home_view(MENTEE))
    assert accept not in shown and "You are the mentee" in shown, shown


def test_a_pair_id_that_is_not_theirs_from_home_is_refused(harness: Harness) -> None:
    h = harness
    pair_up(h)
    with h.db.session() as s:
        pair_id = s.scalars(select(Pair.id)).one()
    home = copy.deepcopy(home_of(h, STRANGER))
    home["blocks"].insert(
        1,
        {
            "type": "actions",
            "block_id": f"home_pair:{pair_id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": Action.OPEN_SCHEDULE,
                    "text": {"type": "plain_text", "text": "Schedule"},
                    "value": str(pair_id),
                }
            ],
        },
    )
    before = state(h)
    for value in (str(pair_id), "²", "9" * 40, ""):
        response = h.driver.click_in_view(STRANGER, home, Action.OPEN_SCHEDULE, value=value)
        h.app.drain()
        assert response.status == 200
        assert ":warning:" in all_text(h.slack.home_view(STRANGER)["blocks"][:3])
    assert not h.slack.calls_to("views.open")
    assert state(h) == before


def test_a_refused_button_in_a_modal_updates_that_modal(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    h.slash(MENTOR, "schedule")
    modal = h.driver.last_view_opened(MENTOR)
    assert modal["callback_id"] == "schedule_modal"
    # A button in the modal naming a pair that is not theirs (or no pair at all).
    forged = copy.deepcopy(modal)
    forged["blocks"].append(
        {
            "type": "actions",
            "block_id": "forged",
            "elements": [
                {
                    "type": "button",
                    "action_id": Action.OPEN_SCHEDULE,
                    "text": {"type": "plain_text", "text": "Schedule"},
                    "value": "424242",
                }
            ],
        }
    )
    before = state(h)
    response = h.driver.click_in_view(MENTOR, forged, Action.OPEN_SCHEDULE)
    h.app.drain()
    assert response.status == 200 and response.body == b""
    shown = h.slack.view(modal["id"])
    assert shown["type"] == "modal" and "Close" in all_text(shown)
    assert "pairing" in all_text(shown["blocks"])  # "I can't find that pairing any more…"
    assert state(h) == before
    assert group  # the pair's own conversation got nothing
    assert not [m for m in h.slack.messages_in(group) if "not part of" in all_text(m)]


def test_a_slack_failure_after_the_ack_delays_the_announcement_and_loses_nothing(
    harness: Harness,
) -> None:
    h = harness
    group = pair_up(h)
    start = h.clock.now + timedelta(days=2)
    schedule(h, group, [start, start + timedelta(days=7), start + timedelta(days=14)])
    home = home_of(h, MENTEE)
    block = meeting_block(home)
    meeting_id = block["block_id"].split(":")[1]
    # The cancellation is saved with its announcement in one transaction; Slack then
    # fails the announcement.
    h.slack.inject("chat.postMessage", error="internal_error", times=5)
    response = h.driver.click_in_view(
        MENTEE, home, f"{Action.MOVE_MEETING}:{meeting_id}", value=f"cancel:{meeting_id}"
    )
    h.app.drain()
    h.slack.clear_faults()
    assert response.status == 200
    assert f"<!date^{int(start.timestamp())}^" not in all_text(h.slack.home_view(MENTEE))
    with h.db.session() as s:
        waiting = s.scalars(
            select(ScheduledMessage).where(ScheduledMessage.kind == "meeting_changed")
        ).one()
        assert (waiting.status, waiting.attempts) == ("pending", 1)
    # Retried by the sender once its backoff is over: it arrives, once.
    h.tick(h.clock.now + timedelta(minutes=2))
    announced = [m for m in h.slack.messages_in(group) if "cancelled the meeting" in m["text"]]
    assert len(announced) == 1


def test_a_coordinator_check_that_needs_slack_happens_after_the_ack(harness: Harness) -> None:
    h = harness
    pair_up(h)
    # No first meeting: the pair is nudged at 21 days, and shows at risk to coordinators
    # once a week has passed with nothing changed.
    h.tick(h.clock.now + timedelta(days=21, hours=1))
    h.clock.advance(days=8)
    home = home_of(h, COORDINATOR)
    # Someone who is not in MENTOR_ADMINS: only users.info can tell whether they
    # are a workspace admin, so the answer is 200 at once and the refusal follows.
    before = state(h)
    mark = h.slack.mark()
    response = h.driver.click_in_view(STRANGER, home, Action.NUDGE_PAIR)
    assert response.status == 200
    h.app.drain()
    assert h.slack.calls_to("users.info", user=STRANGER)
    assert "Only program coordinators" in all_text(h.slack.home_view(STRANGER) or {}) or any(
        "Only program coordinators" in m.get("text", "") for m in h.slack.messages_in(STRANGER)
    )
    assert [c for c in h.slack.calls[mark:] if c.method == "chat.postMessage"] == [] or all(
        c.args.get("channel") == STRANGER
        for c in h.slack.calls[mark:]
        if c.method == "chat.postMessage"
    )
    assert state(h) == before


def test_a_button_no_listener_knows_is_answered_not_404(harness: Harness) -> None:
    h = harness
    home = copy.deepcopy(home_of(h, STRANGER))
    home["blocks"].insert(
        1,
        {
            "type": "actions",
            "block_id": "from_an_older_version",
            "elements": [
                {
                    "type": "button",
                    "action_id": "renamed_long_ago",
                    "text": {"type": "plain_text", "text": "Old"},
                    "value": "1",
                }
            ],
        },
    )
    response = h.driver.click_in_view(STRANGER, home, "renamed_long_ago")
    h.app.drain()
    assert response.status == 200  # Bolt alone answers 404 "unhandled request"
    assert "not something I know" in all_text(h.slack.home_view(STRANGER)["blocks"][:3])
    slash = h.driver.slash(STRANGER, "help", command="/mentor-old")
    assert slash.status == 200 and "not something I know" in slash.json["text"]
