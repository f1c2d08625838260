"""Sentences of README "Delivery guarantees" that had no test that could fail, or
were false: each test here fails with the guard it names removed.

Found by an audit that took each guard out in turn and ran the suite."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot import outgoing
from bot.ids import Action
from bot.scheduling.engine import MAX_ATTEMPTS, Engine
from bot.services import coaching, pairing
from bot.store import outbox, workers
from bot.store.db import Database
from bot.store.models import Meeting, Pair, ScheduledMessage
from slackemu import TEAM_ID, SlackEmulator
from tests.conftest import MENTEE, MENTOR, Harness
from tests.scenario.test_coaching import pair_up, schedule
from tests.scenario.test_delivery import NOW, plan_tips_for, rows, sender_for


def _row(h: Harness, kind: str) -> ScheduledMessage:
    with h.db.session() as s:
        return s.scalars(
            select(ScheduledMessage)
            .where(ScheduledMessage.kind == kind)
            .order_by(ScheduledMessage.id.desc())
        ).first()


def test_a_live_workers_claim_is_never_taken_over(db: Database, content: Any) -> None:
    """Its lane may reach the row after the lease (Slack's pace, 429s), or `tick --now`
    a day ahead may look: the row was taken over and sent twice, with no crash."""
    with SlackEmulator(rate_limits=None) as slack:
        slack.add_user("U0000001", name="one")
        plan_tips_for(db, content, ["U0000001"])
        me = str(workers.this_process())  # a live worker: this very process
        (claimed,) = db.call(outbox.claim_due, now=NOW, worker=me)
        later = NOW + outbox.LEASE + timedelta(seconds=1)
        assert Engine(db, sender_for(slack), content, worker="w2").run_pass(later).sent == 0
        mine = Engine(db, sender_for(slack), content, worker=me)
        assert mine._deliver(claimed, later) == "sent"
        assert len(slack.messages_in("U0000001")) == 1
        # A claim whose worker nobody can vouch for still waits only for its lease.
        plan_tips_for(db, content, ["U0000001"], day="2026-03-04", due=NOW + timedelta(days=1))
        (orphan,) = db.call(outbox.claim_due, now=NOW + timedelta(days=1), worker="elsewhere")
        after_lease = NOW + timedelta(days=1) + outbox.LEASE + timedelta(seconds=1)
        assert Engine(db, sender_for(slack), content, worker="w2").run_pass(after_lease).sent == 1


def test_a_row_left_claimed_by_a_fault_is_taken_over_an_hour_after_its_lease(
    db: Database, content: Any
) -> None:
    """A running worker that failed to settle a row (a database error) keeps its claim:
    another pass takes it over once ``STUCK_AFTER`` has passed, not never."""
    with SlackEmulator(rate_limits=None) as slack:
        slack.add_user("U0000001", name="one")
        plan_tips_for(db, content, ["U0000001"])
        me = str(workers.this_process())
        db.call(outbox.claim_due, now=NOW, worker=me)
        w2 = Engine(db, sender_for(slack), content, worker="w2")
        assert w2.run_pass(NOW + outbox.LEASE + timedelta(minutes=30)).sent == 0
        stuck = NOW + outbox.LEASE + outbox.STUCK_AFTER + timedelta(seconds=1)
        assert w2.run_pass(stuck).sent == 1


def test_a_lane_that_reaches_its_row_late_renews_the_lease(db: Database, content: Any) -> None:
    """Without the renewal another pass takes the row over while its lane sends it."""
    with SlackEmulator(rate_limits=None) as slack:
        slack.add_user("U0000001", name="one")
        plan_tips_for(db, content, ["U0000001"])
        (claimed,) = db.call(outbox.claim_due, now=NOW, worker="elsewhere")  # unknown host
        slow = Engine(db, sender_for(slack), content, worker="elsewhere")
        assert slow._lease_held(claimed, NOW + timedelta(minutes=4))  # more than half spent
        w2 = Engine(db, sender_for(slack), content, worker="w2")
        assert w2.run_pass(NOW + timedelta(minutes=6)).sent == 0  # renewed: still its own
        assert w2.run_pass(NOW + timedelta(minutes=10)).sent == 1  # lapsed: taken over
        # The lane, reaching it only now, finds the claim lost and does not send it.
        assert not slow._lease_held(claimed, NOW + timedelta(minutes=11))
        assert len(slack.messages_in("U0000001")) == 1


def test_a_429_storm_never_fails_a_row(db: Database, content: Any) -> None:
    """Each reschedule after waiting out 429s counted as an attempt: six of them (about
    12 minutes of 429s) failed the row, and the message was lost."""
    with SlackEmulator(rate_limits=None) as slack:
        slack.add_user("U0000001", name="one")
        plan_tips_for(db, content, ["U0000001"])
        slack.inject("chat.postMessage", status=429, retry_after=1, times=3 * MAX_ATTEMPTS)
        engine = Engine(db, sender_for(slack), content, worker="w1")
        engine.sender.gate.max_wait = 0.0  # stands for the 120 s allowance, spent
        now = NOW
        for _ in range(3 * MAX_ATTEMPTS):
            engine.run_pass(now)
            now += timedelta(seconds=30)
        ((status, attempts),) = [(r.status, r.attempts) for r in rows(db)]
        assert status == "pending" and attempts == 0
        engine.run_pass(now)
        assert [r.status for r in rows(db)] == ["sent"]


def test_a_kickoff_is_retried_past_six_attempts(harness: Harness) -> None:
    h = harness
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.slack.inject("conversations.open", error="internal_error", times=MAX_ATTEMPTS + 2)
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    for _ in range(MAX_ATTEMPTS + 3):
        h.tick(h.clock.now + timedelta(minutes=61))
    assert _row(h, "kickoff").status == "sent"
    with h.db.session() as s:
        assert s.scalars(select(Pair.channel_id)).one() is not None


def test_a_message_slack_has_is_not_sent_again_when_recording_it_fails(
    harness: Harness, monkeypatch: Any
) -> None:
    """Its settle step raising (a bug, the database refusing the commit) retried the row:
    six identical invitations, then failed."""
    h = harness

    def broken(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("the database refused the commit")

    monkeypatch.setattr(pairing, "invitation_delivered", broken)
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    for _ in range(3):
        h.tick(h.clock.now + timedelta(minutes=61))
    invites = [m for m in h.slack.messages_in(MENTEE) if "invited you" in m.get("text", "")]
    assert len(invites) == 1
    failed = _row(h, "invitation")
    assert failed.status == "failed"
    assert failed.last_error == "sent, but recording it failed (RuntimeError)"


def _claimed_prep(h: Harness) -> tuple[Any, int]:
    """A prep prompt claimed by a slow worker, not yet sent."""
    group = pair_up(h)
    first = h.clock.now + timedelta(days=3)
    schedule(h, group, [first, first + timedelta(days=7), first + timedelta(days=14)])
    with h.db.session() as s:
        prep = s.scalars(
            select(ScheduledMessage)
            .where(ScheduledMessage.kind == "prep_mentee")
            .order_by(ScheduledMessage.due_at)
        ).first()
        due, meeting_id = prep.due_at, prep.meeting_id
    claimed = [
        m
        for m in h.db.call(outbox.claim_due, now=due, worker="w-slow", limit=1000)
        if m.kind == "prep_mentee" and m.meeting_id == meeting_id
    ]
    h.clock.set(due)
    return claimed[0], meeting_id


def test_a_claimed_prep_of_a_cancelled_meeting_is_skipped(harness: Harness) -> None:
    h = harness
    claimed, meeting_id = _claimed_prep(h)
    h.db.call(
        coaching.cancel_meeting,
        team_id=TEAM_ID,
        meeting_id=meeting_id,
        user_id=MENTOR,
        content=h.app.deps.content,
        now=h.clock.now,
    )
    engine = Engine(h.db, sender_for(h.slack), h.app.deps.content, worker="w-slow")
    assert engine._deliver(claimed, h.clock.now) == "skipped"


def test_a_claimed_prep_of_a_moved_meeting_is_skipped(harness: Harness) -> None:
    """The move cancels only the rows not yet claimed: a claimed prep went out with the
    old time (the meeting is still "scheduled"). The move's own prompts go instead."""
    h = harness
    claimed, meeting_id = _claimed_prep(h)
    with h.db.session() as s:
        old = s.get(Meeting, meeting_id).starts_at
    h.db.call(
        coaching.move_meeting,
        team_id=TEAM_ID,
        meeting_id=meeting_id,
        user_id=MENTOR,
        starts_at=old + timedelta(days=2),
        content=h.app.deps.content,
        now=h.clock.now,
    )
    engine = Engine(h.db, sender_for(h.slack), h.app.deps.content, worker="w-slow")
    assert engine._deliver(claimed, h.clock.now) == "skipped"


def test_a_claimed_kickoff_of_a_pair_that_ended_meanwhile_is_skipped(harness: Harness) -> None:
    h = harness
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.slack.inject("conversations.open", error="internal_error")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    later = h.clock.now + timedelta(minutes=5)
    claimed = [
        m for m in h.db.call(outbox.claim_due, now=later, worker="w-slow") if m.kind == "kickoff"
    ]
    with h.db.session() as s:  # ended while the kickoff waited in its lane
        s.scalars(select(Pair)).one().status = "ended"
    engine = Engine(h.db, sender_for(h.slack), h.app.deps.content, worker="w-slow")
    assert engine._deliver(claimed[0], later) == "skipped"
    assert [c.response.get("ok") for c in h.slack.calls_to("conversations.open")] == [False]


def test_an_invitation_answered_after_its_claim_is_not_sent(harness: Harness) -> None:
    h = harness
    h.driver.slash(MENTOR, f"start <@{MENTEE}|bob>")  # the ack; the row not sent yet
    (claimed,) = h.db.call(outbox.claim_due, now=h.clock.now, worker="w-slow")
    with h.db.session() as s:  # answered meanwhile (from App Home, say)
        s.scalars(select(Pair)).one().status = "declined"
    engine = Engine(h.db, sender_for(h.slack), h.app.deps.content, worker="w-slow")
    assert engine._deliver(claimed, h.clock.now) == "skipped"
    assert not [m for m in h.slack.messages_in(MENTEE) if "invited you" in m.get("text", "")]


def test_a_change_while_home_is_being_built_plans_another_refresh(harness: Harness) -> None:
    """The refresh in flight frees its key first, so a change committed meanwhile plans
    its own refresh instead of being folded into one built before it."""
    h = harness
    h.driver.app_home_opened(MENTOR)  # a home_refresh row, not yet sent
    planned: list[int] = []

    def change_meanwhile(args: dict) -> bool:
        if planned:
            return False  # once
        refresh = outgoing.home_refresh(
            team_id=TEAM_ID, user_id=MENTOR, listed=False, now=h.clock.now
        )
        other = Database(h.settings.database_url)  # as another request's process would
        try:
            planned.append(other.call(outbox.plan, [refresh], now=h.clock.now))
        finally:
            other.dispose()
        return False  # no fault: only the side effect

    h.slack.inject("users.info", error="x", when=change_meanwhile)
    h.app.drain()
    assert planned == [1], "the change's refresh was folded into the one in flight"
    assert len(h.slack.calls_to("views.publish")) == 2


def test_a_person_slack_refused_resumes_on_mentor_status(harness: Harness) -> None:
    h = harness
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    theirs = (MENTEE, h.slack.dm_channel(MENTEE))
    h.slack.inject(
        "chat.postMessage",
        error="messages_tab_disabled",
        when=lambda args: args.get("channel") in theirs,
    )
    h.slash(MENTEE, "my-data")
    assert ("my_data", MENTEE, "paused") in [(r.kind, r.recipient, r.status) for r in rows(h.db)]
    h.clock.advance(hours=1)
    h.slash(MENTEE, "status")
    h.tick(h.clock.now)
    assert "stores about you" in h.last_dm(MENTEE)["text"]


def test_a_listeners_own_call_is_retried_on_a_brief_5xx(harness: Harness) -> None:
    """The calls a listener makes itself (views.open within the trigger's 3 s) use the
    same retry handlers as the sender: a 503 once, and the modal opens all the same."""
    h = harness
    pair_up(h)
    h.slack.inject("views.open", status=503, times=1)
    h.slash(MENTOR, "schedule")
    assert h.driver.last_view_opened(MENTOR)["callback_id"] == "schedule_modal"


def test_healthz_answers_503_while_the_database_is_unreachable(content: Any) -> None:
    import urllib.error
    import urllib.request

    from bot.config import load_settings
    from bot.local import LocalApp
    from tests.conftest import START, Clock

    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1"
    with SlackEmulator() as slack:
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxb-health",
                "SLACK_SIGNING_SECRET": "health",
                "SLACK_API_URL": slack.base_url,
                "DATABASE_URL": unreachable,
                "MENTOR_SCHEDULER": "off",
            }
        )
        db = Database(unreachable)
        try:
            with LocalApp(settings, content=content, db=db, clock=Clock(START)) as app:
                try:
                    urllib.request.urlopen(f"{app.url}/healthz", timeout=10)
                except urllib.error.HTTPError as error:
                    assert error.code == 503
                    assert b'"database": "unreachable"' in error.read()
                else:
                    raise AssertionError("/healthz said 200 with no database")
        finally:
            db.dispose()


def test_a_kickoff_whose_record_failed_is_sent_again(harness: Harness, monkeypatch: Any) -> None:
    """Failed like other rows, the pair kept no group DM and every later message to it
    was dropped: a second welcome is the lesser harm."""
    h = harness
    real = pairing.kickoff_delivered
    calls: list[int] = []

    def fails_once(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database refused the commit")
        real(*args, **kwargs)

    monkeypatch.setattr(pairing, "kickoff_delivered", fails_once)
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    h.tick(h.clock.now + timedelta(minutes=5))
    assert _row(h, "kickoff").status == "sent"
    with h.db.session() as s:
        assert s.scalars(select(Pair.channel_id)).one() is not None


def test_a_plain_post_whose_record_failed_is_not_sent_again(
    db: Database, content: Any, monkeypatch: Any
) -> None:
    from bot.scheduling import tipchoice

    def broken(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("the database refused the commit")

    with SlackEmulator(rate_limits=None) as slack:
        slack.add_user("U0000001", name="one")
        plan_tips_for(db, content, ["U0000001"])
        monkeypatch.setattr(tipchoice, "mark_sent", broken)
        engine = Engine(db, sender_for(slack), content, worker="w1")
        engine.run_pass(NOW)
        engine.run_pass(NOW + timedelta(hours=2))
        assert len(slack.messages_in("U0000001")) == 1
        assert [(r.status, r.last_error) for r in rows(db)] == [
            ("failed", "sent, but recording it failed (RuntimeError)")
        ]
