"""GET /metrics on the real app: Slack's requests and their ack times, the outbox as the
database has it, and the scheduler pass's outcomes, after a pairing and a tick."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from bot.runtime import make_engine
from bot.store.models import ScheduledMessage, Workspace
from bot.store.outbox import OPEN_STATUSES
from tests.conftest import COORDINATOR, MENTEE, MENTOR, Harness
from tests.scenario.test_coaching import pair_up, schedule

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(h: Harness) -> tuple[Samples, str]:
    with urllib.request.urlopen(f"{h.app.url}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    return samples, text


def by_prefix(samples: Samples, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: value for (n, labels), value in samples.items() if n == name}


def expected_outbox(h: Harness, now: datetime) -> tuple[dict, dict, dict]:
    """What the gauges should say, worked out row by row in Python."""
    with h.db.session() as session:
        rows = session.query(ScheduledMessage).filter(ScheduledMessage.status.in_(OPEN_STATUSES))
        paused = {w.team_id for w in session.query(Workspace)}
        depth: dict = {}
        due: dict = {}
        age: dict = {}
        for row in rows:
            key = (("kind", row.kind), ("status", row.status))
            depth[key] = depth.get(key, 0) + 1
            kind = (("kind", row.kind),)
            due.setdefault(kind, 0)
            age.setdefault(kind, 0.0)
            claimable = row.team_id not in paused and (
                (row.status == "pending" and row.due_at <= now)
                or (row.status == "sending" and row.lease_until < now)
            )
            if claimable:
                due[kind] += 1
                age[kind] = max(age[kind], (now - row.due_at).total_seconds())
    return depth, due, age


def test_metrics_after_commands_and_a_tick(harness: Harness) -> None:
    h = harness
    for _ in range(2):
        assert h.slash(MENTOR, "help").status == 200
    group = pair_up(h)  # a slash command and a button
    meeting = h.clock.now + timedelta(days=2)
    schedule(h, group, [meeting, meeting + timedelta(days=7), meeting + timedelta(days=14)])

    samples, text = scrape(h)
    requests = by_prefix(samples, "mentor_slack_requests_total")
    assert requests[(("kind", "slash_command"), ("status", "200"))] == 3
    assert requests[(("kind", "block_actions"), ("status", "200"))] == 2  # accept, open
    assert requests[(("kind", "view_submission"), ("status", "200"))] == 1
    acks = by_prefix(samples, "mentor_slack_ack_seconds_count")
    assert acks[(("kind", "slash_command"),)] == 3
    slash = (("kind", "slash_command"),)
    assert samples[("mentor_slack_ack_seconds_bucket", (*slash, ("le", "3.0")))] == 3
    assert 0 < samples[("mentor_slack_ack_seconds_sum", slash)] < 9
    assert samples[("mentor_database_up", ())] == 1
    depth, due, age = expected_outbox(h, h.clock.now)
    assert depth, "scheduling meetings planned prompts in the outbox"
    assert by_prefix(samples, "mentor_outbox_messages") == depth
    assert by_prefix(samples, "mentor_outbox_due_messages") == due
    assert by_prefix(samples, "mentor_outbox_oldest_due_age_seconds") == age
    assert not by_prefix(samples, "mentor_outbox_sends_total")  # no pass has run yet

    # Hours after the first meeting: its prompts are due, some of them long since.
    when = meeting + timedelta(hours=3)
    h.clock.set(when)
    samples, _ = scrape(h)
    depth, due, age = expected_outbox(h, when)
    assert sum(due.values()) > 0 and max(age.values()) > 3600
    assert by_prefix(samples, "mentor_outbox_due_messages") == due
    assert by_prefix(samples, "mentor_outbox_oldest_due_age_seconds") == age

    # The pass as `serve` wires it: its outcomes land in this app's metrics.
    engine = make_engine(h.settings, h.app.deps.content, h.db, h.app.deps.metrics)
    try:
        report = engine.run_pass(when)
    finally:
        close = getattr(engine, "close", None)  # its worker identity (a lock on PostgreSQL)
        if close is not None:
            close()
    assert report.sent > 0
    samples, text = scrape(h)
    sends = by_prefix(samples, "mentor_outbox_sends_total")
    assert sends == {(("outcome", name),): float(n) for name, n in report.outcomes.items()}
    depth, due, age = expected_outbox(h, when)
    assert by_prefix(samples, "mentor_outbox_messages") == depth
    assert sum(by_prefix(samples, "mentor_outbox_due_messages").values()) == 0
    # Labels are kinds, statuses and outcomes: never a person.
    for user in (MENTOR, MENTEE, COORDINATOR):
        assert user not in text


def test_metrics_is_get_only_and_counts_refused_requests(harness: Harness) -> None:
    h = harness
    request = urllib.request.Request(f"{h.app.url}/metrics", method="POST", data=b"")
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("POST /metrics was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 405
    # A request Slack did not sign is counted (and refused).
    assert h.driver.post("command=%2Fmentor", bad_signature=True).status == 401
    # So is a body larger than any of Slack's.
    too_big = urllib.request.Request(
        f"{h.app.url}/slack/events", method="POST", data=b"x" * (1024 * 1024 + 1)
    )
    try:
        urllib.request.urlopen(too_big, timeout=10)
        raise AssertionError("an oversized body was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 413
    samples, _ = scrape(h)
    assert samples[("mentor_slack_requests_total", (("kind", "slash_command"), ("status", "401")))]
    assert samples[("mentor_slack_requests_total", (("kind", "other"), ("status", "413")))] == 1
