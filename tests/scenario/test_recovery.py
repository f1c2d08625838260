"""Delivery when processes die, stop, or meet Slack's limits: real `mentor-bot tick` and
`worker` processes against the emulated Slack, on SQLite and on PostgreSQL.

- a process killed with SIGKILL mid fan-out: the next pass, started at once in
  another process, releases its claims (dead pid, or its advisory lock gone) and
  finishes the wave; nothing is lost and at most the calls in flight are doubled;
- SIGTERM mid pass: the process stops claiming, hands back what it had not started,
  finishes its calls in flight and exits within 10 s; nothing lost, nothing doubled;
- `tick --now T` under 429 storms and Slack's default limits: nothing due at T is left
  unsent, because 429s are waited out inside the pass; `--budget` ends it early;
- rows committed by another process leave within seconds (LISTEN/NOTIFY, or a 1 s
  poll on SQLite), not at the next planning pass.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text

from bot.scheduling.engine import Engine, PassReport
from bot.scheduling.loop import SenderLoop
from bot.scheduling.pacing import Pacer
from bot.store import outbox, workers
from bot.store.db import Database
from bot.store.models import ScheduledMessage
from slackemu import RateLimits, SlackEmulator
from tests.scenario.test_delivery import (
    NOW,
    plan_tips_for,
    posted_channels,
    rows,
    sender_for,
    statuses,
    tip,
    user_ids,
)

ROOT = Path(__file__).resolve().parents[2]
AT = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")


def cli_env(database_url: str, slack: SlackEmulator, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "SLACK_BOT_TOKEN": "xoxb-recovery-test",
        "SLACK_SIGNING_SECRET": "recovery-secret",
        "SLACK_API_URL": slack.base_url,
        "DATABASE_URL": database_url,
        **extra,
    }


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_posts(slack: SlackEmulator, count: int, process: subprocess.Popen[str]) -> None:
    """Until Slack has answered ``count`` posts (a process's real progress, not app time)."""
    deadline = time.monotonic() + 60
    while len(slack.calls_to("chat.postMessage")) < count:
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "the process sent too little"
        time.sleep(0.01)


def add_users(slack: SlackEmulator, users: list[str]) -> None:
    for u in users:
        slack.add_user(u, name=u.lower())


def test_a_killed_process_wave_is_finished_at_once_by_the_next_pass(
    database_url: str, db: Database, content: Any
) -> None:
    n = 2000
    users = user_ids(n)
    # Slack's per-channel limits stay on; the workspace cap is raised (and the app's
    # pacing with it) so that a wave of 2,000 takes seconds, not minutes.
    limits = RateLimits(workspace_per_minute=120_000)
    with SlackEmulator(rate_limits=limits, latency=0.02) as slack:
        add_users(slack, users)
        assert plan_tips_for(db, content, users) == n
        env = cli_env(database_url, slack, MENTOR_SLACK_POSTS_PER_MINUTE="120000")
        first = start(["tick", "--now", AT], env)
        wait_for_posts(slack, 350, first)  # mid-batch: claims are 100 at a time
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
        left_claimed = statuses(db).get("sending", 0)
        assert left_claimed > 0, "the kill left no claimed rows; nothing to recover"

        started = time.monotonic()
        second = subprocess.run(
            [sys.executable, "-m", "bot", "tick", "--now", AT],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        took = time.monotonic() - started
        assert second.returncode == 0, second.stderr
        # The lease (5 minutes) was not waited for: the dead process's claims were
        # released the moment this pass looked.
        assert f"recovered {left_claimed}" in second.stdout, second.stdout
        assert took < 60
        assert statuses(db) == {"sent": n}
        delivered = posted_channels(slack)
        assert len(delivered) == n, "nothing lost"
        doubled = sum(delivered.values()) - n
        # Only calls in flight when the process died (8 threads) can go twice.
        assert doubled <= 8, delivered.most_common(10)


def test_sigterm_mid_pass_hands_back_and_exits_within_10_s(
    database_url: str, db: Database, content: Any
) -> None:
    n = 2000
    users = user_ids(n)
    now = datetime.now(UTC).replace(microsecond=0)
    limits = RateLimits(workspace_per_minute=120_000)
    with SlackEmulator(rate_limits=limits, latency=0.02) as slack:
        add_users(slack, users)
        assert plan_tips_for(db, content, users, due=now - timedelta(minutes=1)) == n
        env = cli_env(database_url, slack, MENTOR_SLACK_POSTS_PER_MINUTE="120000")
        worker = start(["worker"], env)
        wait_for_posts(slack, 350, worker)
        stopped = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=15)
        assert time.monotonic() - stopped < 10, output
        assert worker.returncode == 0, output
        assert "Traceback" not in output

        # Nothing is left claimed: what was not started went back, due as it was.
        after_stop = statuses(db)
        assert "sending" not in after_stop, after_stop
        assert after_stop.get("pending", 0) > 0, "the stop came after the wave"
        sent = after_stop["sent"]
        assert sent + after_stop["pending"] == n
        assert sum(posted_channels(slack).values()) == sent, "each Slack call settled"
        pending = [r for r in rows(db) if r.status == "pending"]
        assert all(r.claimed_by is None and r.lease_until is None for r in pending)
        assert {r.attempts for r in pending} == {0}, "a hand-back is not an attempt"

        finish = subprocess.run(
            [sys.executable, "-m", "bot", "tick", "--now", now.isoformat()],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert finish.returncode == 0, finish.stderr
        assert statuses(db) == {"sent": n}
        delivered = posted_channels(slack)
        assert len(delivered) == n and set(delivered.values()) == {1}, "nothing doubled"


def test_tick_under_429_storms_leaves_nothing_due_unsent(
    database_url: str, db: Database, content: Any
) -> None:
    # Slack's default limits (600 posts a minute, a burst of a minute's worth), more
    # posts than one burst, and a storm of 429s on top: three rounds of the pass's
    # eight threads. Before, a row answered 429 three times in a row was re-dated
    # past the pass and `tick --now T` exited with it unsent.
    n = 650
    users = user_ids(n)
    with SlackEmulator() as slack:
        add_users(slack, users)
        assert plan_tips_for(db, content, users) == n
        slack.inject("chat.postMessage", status=429, retry_after=1, times=24)
        result = subprocess.run(
            [sys.executable, "-m", "bot", "tick", "--now", AT],
            env=cli_env(database_url, slack),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"tick: planned 0, sent {n}", result.stdout
        assert statuses(db) == {"sent": n}
        assert {r.attempts for r in rows(db)} == {1}, "a 429 waited out is not an attempt"
        delivered = posted_channels(slack)
        assert len(delivered) == n and set(delivered.values()) == {1}
        refused = Counter(c.status for c in slack.calls_to("chat.postMessage"))[429]
        # The injected 24, and few of Slack's own: the pass paces itself.
        assert refused <= 24 + 8, refused


def test_tick_budget_ends_the_pass_and_says_what_is_left(
    database_url: str, db: Database, content: Any
) -> None:
    users = user_ids(20)
    with SlackEmulator() as slack:
        add_users(slack, users)
        plan_tips_for(db, content, users)
        slack.inject("chat.postMessage", status=429, retry_after=1, times=100_000)
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "bot", "tick", "--now", AT, "--budget", "2"],
            env=cli_env(database_url, slack),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert time.monotonic() - started < 20
        assert "left 20 (budget of 2 s ran out)" in result.stdout, result.stdout
        assert statuses(db) == {"pending": 20}
        assert all(
            r.due_at == NOW and r.attempts == 0 and r.claimed_by is None for r in rows(db)
        ), "handed back as they were, not re-dated"
        bad = subprocess.run(
            [sys.executable, "-m", "bot", "tick", "--budget", "soon"],
            env=cli_env(database_url, slack),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert bad.returncode == 2 and "number of seconds" in bad.stderr


def test_rows_committed_elsewhere_leave_within_seconds(
    database_url: str, db: Database, content: Any
) -> None:
    # The worker plans every 60 s; only its sender loop (PostgreSQL: LISTEN/NOTIFY,
    # SQLite: a 1 s poll) can send these within seconds.
    with SlackEmulator() as slack:
        add_users(slack, ["U0000001", "U0000002"])
        worker = start(["worker"], cli_env(database_url, slack))
        output: list[str] = []
        try:
            reader = wait_for_line(worker, "Mentor Bot worker", output)
            time.sleep(1.5)  # past the worker's first (empty) planning pass
            for user in ("U0000001", "U0000002"):
                mark = slack.mark()
                committed = time.monotonic()
                now = datetime.now(UTC)  # as a service plans "due now"
                db.call(outbox.plan, [tip(content, user, due=now)], now=now)
                slack.wait_for("chat.postMessage", after=mark, timeout=10)
                assert time.monotonic() - committed < 3
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=15)
            reader.join(timeout=5)
            assert worker.stdout is not None
            worker.stdout.close()
        assert worker.returncode == 0, "".join(output)
        assert statuses(db) == {"sent": 2}


def wait_for_line(process: subprocess.Popen[str], marker: str, seen: list[str]) -> threading.Thread:
    """Read the process's output until ``marker``; then keep reading it into ``seen``
    in a thread, so that the process never blocks writing its log."""
    assert process.stdout is not None
    stream = process.stdout
    for line in stream:
        seen.append(line)
        if marker in line:
            reader = threading.Thread(target=lambda: seen.extend(stream), daemon=True)
            reader.start()
            return reader
    raise AssertionError("".join(seen))


def test_the_sender_loop_sends_at_once_when_woken_or_notified(
    database_url: str, db: Database, content: Any
) -> None:
    with SlackEmulator() as slack:
        add_users(slack, ["U0000001", "U0000002"])
        engine = Engine(db, sender_for(slack), content)  # its own worker id (and lock)
        # A poll too slow to matter: only a wake or a notification sends at once.
        loop = SenderLoop(engine, poll_seconds=60, clock=lambda: NOW).start()
        try:
            plan_tips_for(db, content, ["U0000001"])
            mark = slack.mark()
            loop.wake()  # as deps.wake_scheduler does after a service commits
            slack.wait_for("chat.postMessage", after=mark, timeout=3)
            if database_url.startswith("postgresql"):
                other = Database(database_url)  # another process's commit: NOTIFY
                try:
                    mark = slack.mark()
                    plan_tips_for(other, content, ["U0000002"])
                    slack.wait_for("chat.postMessage", after=mark, timeout=3)
                finally:
                    other.dispose()
        finally:
            assert loop.stop(5)
            engine.close()


def claim_as(db: Database, worker: str) -> None:
    claimed = db.call(outbox.claim_due, now=NOW, worker=worker)
    assert claimed


def test_claims_of_dead_workers_are_released_and_live_ones_kept(
    database_url: str, db: Database, content: Any
) -> None:
    users = user_ids(4)
    plan_tips_for(db, content, users[:1])
    me = workers.this_process()
    # A process of this host that has exited (a finished child's pid), and one that
    # runs with that pid but started at another time (the pid was reused).
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    gone = workers.WorkerId(me.host, int(child.stdout), "12345")
    claim_as(db, str(gone))
    plan_tips_for(db, content, users[1:2])
    reused = workers.WorkerId(me.host, me.pid, str(int(me.start) + 1))
    claim_as(db, str(reused))
    plan_tips_for(db, content, users[2:3])
    alive = str(me)
    claim_as(db, alive)
    plan_tips_for(db, content, users[3:4])
    claim_as(db, "some-other-name")  # no known form: its lease decides
    expected_dead = {str(gone), str(reused)}

    if database_url.startswith("postgresql"):
        # On PostgreSQL a worker lives as long as its advisory lock.
        holder = create_engine(database_url)
        with holder.connect() as connection:
            connection.execute(
                text("SELECT pg_advisory_lock(:ns, 424242)"), {"ns": workers.LOCK_NAMESPACE}
            )
            locked = str(workers.WorkerId("elsewhere", 1, "1", 424242))
            unlocked = str(workers.WorkerId("elsewhere", 1, "1", 434343))
            for worker in (locked, unlocked):
                plan_tips_for(db, content, [f"UPG{worker[-6:]}"])
                claim_as(db, worker)
            expected_dead.add(unlocked)
            assert set(db.call(workers.dead_workers, me="me")) == expected_dead
            assert db.call(workers.release_dead, me="me") == len(expected_dead)
        holder.dispose()
    else:
        assert set(db.call(workers.dead_workers, me="me")) == expected_dead
        assert db.call(workers.release_dead, me="me") == 2

    by_holder = {r.claimed_by: r.status for r in rows(db) if r.status == "sending"}
    assert set(by_holder) >= {alive, "some-other-name"}
    assert not set(by_holder) & expected_dead
    released = [r for r in rows(db) if r.status == "pending"]
    assert all(r.last_error == workers.RELEASED and r.claimed_by is None for r in released)


def test_two_workers_with_slack_limits_on_send_each_message_once(
    database_url: str, db: Database, content: Any
) -> None:
    # The variant of test_delivery's two-worker test with Slack's limits on: each
    # process paces itself at 600 a minute, together they overrun Slack's workspace
    # cap, and the 429s are waited out inside the passes, never re-dated.
    n = 650
    users = user_ids(n)
    with SlackEmulator() as slack:
        add_users(slack, users)
        assert plan_tips_for(db, content, users) == n
        databases = [Database(database_url), Database(database_url)]
        engines = [
            Engine(database, sender_for(slack), content, worker=f"worker-{i}", pacer=Pacer())
            for i, database in enumerate(databases)
        ]
        reports: list[PassReport] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(2)

        def work(engine: Engine) -> None:
            try:
                barrier.wait()
                reports.append(engine.run_pass(NOW))
            except BaseException as error:  # noqa: BLE001 - reported by the test thread
                errors.append(error)

        threads = [threading.Thread(target=work, args=(e,)) for e in engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        for database in databases:
            database.dispose()
        assert not errors, errors
        assert sum(r.sent for r in reports) == n
        assert sum(sum(r.outcomes.values()) for r in reports) == n, "no retry, no re-date"
        assert statuses(db) == {"sent": n}
        delivered = posted_channels(slack)
        assert len(delivered) == n and set(delivered.values()) == {1}
        with db.session() as s:
            assert set(s.scalars(select(ScheduledMessage.attempts))) == {1}
            assert set(s.scalars(select(ScheduledMessage.claimed_by))) == {
                "worker-0",
                "worker-1",
            }


def test_a_stopping_pass_hands_back_what_it_has_not_started(db: Database, content: Any) -> None:
    users = user_ids(300)
    with SlackEmulator(rate_limits=None, latency=0.01) as slack:
        add_users(slack, users)
        plan_tips_for(db, content, users)
        engine = Engine(
            db,
            sender_for(slack),
            content,
            worker="w1",
            concurrency=4,
            # Stopped mid-pass, once the first tips are out (not after a fixed time,
            # which a loaded machine may spend before the first send).
            on_outcomes=lambda outcomes: "sent" in outcomes and engine.stop(),
        )
        report = engine.run_pass(NOW)
    assert report.stopped == "stopped" and report.left > 0
    assert report.outcomes["handed_back"] > 0
    counts = statuses(db)
    assert counts == {"sent": report.sent, "pending": report.left}
    assert report.summary().endswith(f"left {report.left} (stopped)")
    # Back as they were: due at NOW, unclaimed, no attempt counted.
    pending = [r for r in rows(db) if r.status == "pending"]
    assert {(r.due_at, r.claimed_by, r.attempts) for r in pending} == {(NOW, None, 0)}
