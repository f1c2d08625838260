"""The delivery engine against the emulated Slack: faults, retries, leases, concurrent workers.

Time is a parameter of every pass (``run_pass(now)``); nothing here sleeps. The only
real waiting is slack_sdk's own retry handlers honouring a ``Retry-After: 1`` or a
short backoff inside one call.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.domain.tips import STALE_AFTER
from bot.scheduling.engine import MAX_ATTEMPTS, Engine, PassReport
from bot.scheduling.sender import SlackSender
from bot.services.program import program_figures
from bot.store import outbox, repo
from bot.store.db import Database
from bot.store.models import Person, ScheduledMessage
from bot.store.outbox import PlannedMessage
from slackemu import TEAM_ID, SlackEmulator

NOW = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)  # a Tuesday


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


def sender_for(slack: SlackEmulator) -> SlackSender:
    return SlackSender(api_url=slack.base_url, token_for_team=lambda _team: "xoxb-test")


def make_engine(
    db: Database, slack: SlackEmulator, content: Any, *, worker: str = "w1", concurrency: int = 8
) -> Engine:
    return Engine(db, sender_for(slack), content, worker=worker, concurrency=concurrency)


def user_ids(n: int, prefix: str = "U") -> list[str]:
    return [f"{prefix}{i:07d}" for i in range(n)]


def tip(content: Any, user: str, *, day: str = "2026-03-03", due: datetime = NOW) -> PlannedMessage:
    return PlannedMessage(
        team_id=TEAM_ID,
        key=f"tip:{TEAM_ID}:{user}:{day}",
        kind="tip",
        recipient=user,
        due_at=due,
        payload={"tip_id": content.mentor_practices[0].id, "role": "mentor", "local_day": day},
    )


def plan_tips_for(db: Database, content: Any, users: list[str], **kwargs: Any) -> int:
    return db.call(outbox.plan, [tip(content, u, **kwargs) for u in users], now=NOW)


def statuses(db: Database) -> dict[str, int]:
    return db.call(outbox.counts_by_status)


def rows(db: Database) -> list[ScheduledMessage]:
    with db.session() as s:
        return list(s.scalars(select(ScheduledMessage).order_by(ScheduledMessage.id)))


def posted_channels(slack: SlackEmulator) -> Counter[str]:
    """Successful chat.postMessage calls by the DM channel they landed in."""
    return Counter(
        c.response["channel"]
        for c in slack.calls_to("chat.postMessage")
        if c.status == 200 and c.response.get("ok")
    )


def run_until_settled(engine: Engine, start: datetime, *, max_passes: int = 12) -> list[PassReport]:
    """Passes an hour apart (backoff puts retried rows into the future) until nothing is left."""
    reports = []
    now = start
    for _ in range(max_passes):
        reports.append(engine.run_pass(now))
        if not statuses(engine.db).keys() & {"pending", "sending"}:
            return reports
        now += timedelta(hours=1)
    raise AssertionError(f"still unsettled after {max_passes} passes: {statuses(engine.db)}")


def test_slack_faults_lose_nothing_and_double_nothing(
    db: Database, slack: SlackEmulator, content: Any
) -> None:
    users = user_ids(30)
    for u in users:
        slack.add_user(u, name=u.lower())
    assert plan_tips_for(db, content, users) == 30
    # Consumed in order by whichever posts come first.
    slack.inject("chat.postMessage", status=429, retry_after=1)  # slack_sdk waits it out
    slack.inject("chat.postMessage", status=500, times=4)  # 2 in-call retries, then row retry
    slack.inject("chat.postMessage", error="internal_error", times=2)  # ok:false, row retry
    slack.inject("chat.postMessage", drop_connection=True)  # slack_sdk reconnects
    slack.inject("chat.postMessage", status=503, times=3)  # exhausts in-call retries once

    reports = run_until_settled(make_engine(db, slack, content), NOW)

    assert len(reports) >= 2, "some rows had to wait for a later pass"
    assert sum(r.sent for r in reports) == 30
    assert sum(r.outcomes["retry"] for r in reports) >= 2
    assert statuses(db) == {"sent": 30}
    delivered = posted_channels(slack)
    assert sorted(delivered) == sorted(slack.dm_channel(u) for u in users)
    assert set(delivered.values()) == {1}, "each recipient got exactly one message"
    for u in users:
        assert len(slack.messages_in(u)) == 1
    assert all(r.last_error is None and r.message_ts for r in rows(db))
    # Every fault was really served.
    failed = [
        c for c in slack.calls_to("chat.postMessage") if c.status != 200 or not c.response.get("ok")
    ]
    assert Counter(c.status for c in failed) == {429: 1, 500: 4, 200: 2, 0: 1, 503: 3}


def test_exhausted_retries_fail_the_row_visibly(
    db: Database, slack: SlackEmulator, content: Any
) -> None:
    slack.add_user("U0000001", name="one")
    slack.add_user("U0000002", name="two")
    slack.add_user("U0000003", name="three")
    plan_tips_for(db, content, ["U0000001"])
    slack.inject("chat.postMessage", error="internal_error", times=MAX_ATTEMPTS)
    engine = make_engine(db, slack, content)
    now = NOW
    outcomes: Counter[str] = Counter()
    for _ in range(MAX_ATTEMPTS):
        outcomes.update(engine.run_pass(now).outcomes)
        now += timedelta(hours=2)
    assert outcomes == {"retry": MAX_ATTEMPTS - 1, "failed": 1}
    (row,) = rows(db)
    assert (row.status, row.attempts, row.last_error) == ("failed", MAX_ATTEMPTS, "internal_error")
    assert db.call(program_figures, team_id=TEAM_ID, now=now).failed_messages == 1
    # A failed row is left alone by later passes.
    assert engine.run_pass(now + timedelta(days=1)).outcomes == {}
    assert len(slack.calls_to("chat.postMessage")) == MAX_ATTEMPTS

    # A message Slack calls malformed fails at once, without retries.
    plan_tips_for(db, content, ["U0000002"], due=now)
    slack.inject("chat.postMessage", error="invalid_blocks")
    assert engine.run_pass(now).outcomes == {"failed": 1}
    assert db.call(program_figures, team_id=TEAM_ID, now=now).failed_messages == 2

    # So does a call the install cannot make (a scope missing: fixed by reinstalling,
    # then `mentor-bot outbox retry`), where six attempts over hours would change nothing.
    plan_tips_for(db, content, ["U0000003"], due=now)
    slack.inject("chat.postMessage", error="missing_scope")
    assert engine.run_pass(now).outcomes == {"failed": 1}
    failed = [row for row in rows(db) if row.recipient == "U0000003"]
    assert [(row.status, row.attempts, row.last_error) for row in failed] == [
        ("failed", 1, "missing_scope")
    ]


def test_a_tip_too_late_is_dropped_not_sent(
    db: Database, slack: SlackEmulator, content: Any
) -> None:
    # After an outage, yesterday's 09:00 tip must not arrive in the evening.
    slack.add_user("ULATE0001", name="late")
    slack.add_user("UJUST0001", name="just")
    plan_tips_for(db, content, ["ULATE0001"], due=NOW - STALE_AFTER - timedelta(seconds=1))
    plan_tips_for(db, content, ["UJUST0001"], due=NOW - STALE_AFTER)
    report = make_engine(db, slack, content).run_pass(NOW)
    assert report.outcomes == {"skipped": 1, "sent": 1}
    assert not slack.messages_in("ULATE0001") and len(slack.messages_in("UJUST0001")) == 1
    by_recipient = {r.recipient: (r.status, r.last_error) for r in rows(db)}
    assert by_recipient == {
        "ULATE0001": ("cancelled", "no longer needed"),
        "UJUST0001": ("sent", None),
    }


def _person(db: Database, user: str, **values: Any) -> None:
    def work(session: Any) -> None:
        person = repo.ensure_person(session, team_id=TEAM_ID, user_id=user, tz="UTC")
        for key, value in values.items():
            setattr(person, key, value)

    db.call(work)


def _get_person(db: Database, user: str) -> Person:
    person = db.call(repo.get_person, team_id=TEAM_ID, user_id=user)
    assert person is not None
    return person


def test_person_level_errors_pause_only_that_person(
    db: Database, slack: SlackEmulator, content: Any
) -> None:
    fine = user_ids(5, prefix="UOK")
    gone, missing = "UGONE0001", "UMISS0001"
    for u in fine:
        slack.add_user(u, name=u.lower())
    slack.add_user(gone, name="gone", deleted=True)  # the emulator answers user_disabled
    slack.add_user(missing, name="missing")
    for u in (*fine, gone, missing):
        _person(db, u, tips_planned_until=NOW + timedelta(days=1))
    # Two rows each for the refused people: today's (due) and tomorrow's (not yet).
    plan_tips_for(db, content, [*fine, gone, missing])
    tomorrow = NOW + timedelta(days=1)
    plan_tips_for(db, content, [gone, missing], day="2026-03-04", due=tomorrow)
    # With one thread, rows go in (due_at, id) order; `missing` goes first and the
    # injected user_not_found is its answer.
    with db.session() as s:
        for row in s.scalars(
            select(ScheduledMessage).where(
                ScheduledMessage.recipient == missing, ScheduledMessage.due_at == NOW
            )
        ):
            row.due_at = NOW - timedelta(minutes=1)
    slack.inject("chat.postMessage", error="user_not_found")

    report = make_engine(db, slack, content, concurrency=1).run_pass(NOW)

    assert report.outcomes == {"sent": 5, "paused": 2}
    for u in fine:
        assert len(slack.messages_in(u)) == 1
    by_recipient: dict[str, list[str]] = {}
    for row in rows(db):
        by_recipient.setdefault(row.recipient, []).append(row.status)
    assert by_recipient[gone] == ["paused", "paused"]
    assert by_recipient[missing] == ["paused", "paused"]
    assert all(by_recipient[u] == ["sent"] for u in fine)
    for u, reason in ((gone, "user_disabled"), (missing, "user_not_found")):
        person = _get_person(db, u)
        assert person.blocked_at == NOW and person.blocked_reason == reason
        assert person.tips_planned_until is None
    assert all(_get_person(db, u).blocked_at is None for u in fine)
    # Paused rows stay put in later passes.
    later = make_engine(db, slack, content).run_pass(tomorrow + timedelta(minutes=1))
    assert later.sent == 0 and not slack.messages_in(gone)


def test_passes_and_planning_are_idempotent(
    db: Database, slack: SlackEmulator, content: Any
) -> None:
    users = user_ids(10)
    for u in users:
        slack.add_user(u, name=u.lower())
    assert plan_tips_for(db, content, users) == 10
    assert plan_tips_for(db, content, users) == 0, "the same keys plan nothing new"
    assert plan_tips_for(db, content, [*users, "UNEW00001"]) == 1
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ScheduledMessage)) == 11
    slack.add_user("UNEW00001", name="new")

    engine = make_engine(db, slack, content)
    first = engine.run_pass(NOW)
    second = engine.run_pass(NOW)
    other_worker = make_engine(db, slack, content, worker="w2").run_pass(NOW)
    assert first.sent == 11
    assert second.outcomes == {} and other_worker.outcomes == {}
    assert len(slack.calls_to("chat.postMessage")) == 11
    assert set(posted_channels(slack).values()) == {1}


def test_a_crashed_workers_claim_is_taken_over_after_its_lease(
    db: Database, slack: SlackEmulator, content: Any
) -> None:
    slack.add_user("U0000001", name="one")
    plan_tips_for(db, content, ["U0000001"])
    (claimed,) = db.call(outbox.claim_due, now=NOW, worker="crashed")  # …and never settled
    engine = make_engine(db, slack, content, worker="survivor")

    assert engine.run_pass(NOW + timedelta(minutes=1)).outcomes == {}
    assert engine.run_pass(NOW + outbox.LEASE).outcomes == {}, "the lease is still held"
    assert not slack.calls_to("chat.postMessage")

    after_lease = NOW + outbox.LEASE + timedelta(seconds=1)
    assert engine.run_pass(after_lease).outcomes == {"sent": 1}
    assert engine.run_pass(after_lease + timedelta(minutes=10)).outcomes == {}
    assert len(slack.calls_to("chat.postMessage")) == 1
    (row,) = rows(db)
    assert (row.status, row.claimed_by, row.attempts) == ("sent", "survivor", 2)
    # The crashed worker, coming back, can no longer settle the row it lost.
    assert not db.call(
        outbox.mark_sent,
        message_id=claimed.id,
        worker="crashed",
        now=after_lease,
        channel_id="D0",
        ts="1.0",
    )
    assert not db.call(
        outbox.mark_retry, message_id=claimed.id, worker="crashed", due_at=NOW, error="x"
    )
    assert rows(db)[0].status == "sent"


@pytest.fixture
def unlimited_slack() -> Iterator[SlackEmulator]:
    # For tests of claiming, not pacing: 1,000 posts in one pass exceed Slack's
    # workspace cap by 400, which takes 40 s to wait out (test_recovery.py has the
    # variant with Slack's limits on, at 650 posts).
    with SlackEmulator(rate_limits=None) as emulator:
        yield emulator


def test_two_concurrent_workers_send_each_message_once(
    database_url: str, db: Database, unlimited_slack: SlackEmulator, content: Any
) -> None:
    # On PostgreSQL the workers skip each other's locked rows; on SQLite claims are
    # serialised by BEGIN IMMEDIATE. Both must be duplicate-free.
    slack = unlimited_slack
    n = 1000
    users = user_ids(n)
    for u in users:
        slack.add_user(u, name=u.lower())
    assert plan_tips_for(db, content, users) == n
    databases = [Database(database_url), Database(database_url)]  # as two processes would
    engines = [
        make_engine(database, slack, content, worker=f"worker-{i}")
        for i, database in enumerate(databases)
    ]
    reports: list[PassReport] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(engines))

    def work(engine: Engine) -> None:
        try:
            start.wait()
            reports.append(engine.run_pass(NOW))
        except BaseException as error:  # noqa: BLE001 - reported by the test thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    for database in databases:
        database.dispose()
    assert not errors, errors
    assert len(reports) == 2

    calls = slack.calls_to("chat.postMessage")
    assert len(calls) == n
    assert len({c.response["channel"] for c in calls}) == n
    assert statuses(db) == {"sent": n}
    assert sum(r.sent for r in reports) == n
    assert sum(sum(r.outcomes.values()) for r in reports) == n
    with db.session() as s:
        by_worker = dict(
            s.execute(
                select(ScheduledMessage.claimed_by, func.count()).group_by(
                    ScheduledMessage.claimed_by
                )
            ).all()
        )
        assert set(s.scalars(select(ScheduledMessage.attempts))) == {1}
    assert sum(by_worker.values()) == n
    assert set(by_worker) == {"worker-0", "worker-1"}, "both workers took part"


def test_stale_time_zones_are_refreshed_from_slack(
    db: Database, slack: SlackEmulator, content: Any
) -> None:
    slack.add_user("UMOVED001", name="moved", tz="Asia/Tokyo")
    slack.add_user("UFRESH001", name="fresh", tz="Europe/Berlin")
    slack.add_user("UNOTIP001", name="notips", tz="Europe/Paris")
    later = NOW + timedelta(days=30)  # nothing due to plan
    _person(db, "UMOVED001", tz_checked_at=NOW - timedelta(days=8), tips_planned_until=later)
    _person(db, "UFRESH001", tz_checked_at=NOW - timedelta(days=2), tips_planned_until=later)
    _person(db, "UNOTIP001", tz_checked_at=NOW - timedelta(days=30), tips_planned_until=None)

    make_engine(db, slack, content).run_pass(NOW)

    moved = _get_person(db, "UMOVED001")
    assert (moved.tz, moved.tz_checked_at) == ("Asia/Tokyo", NOW)
    assert _get_person(db, "UFRESH001").tz == "UTC"
    assert _get_person(db, "UNOTIP001").tz == "UTC", "people without tips are not looked up"
    assert [c.args["user"] for c in slack.calls_to("users.info")] == ["UMOVED001"]
    # Refreshed: the next pass does not ask again.
    make_engine(db, slack, content).run_pass(NOW + timedelta(minutes=1))
    assert len(slack.calls_to("users.info")) == 1
