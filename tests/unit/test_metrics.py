"""What operators see in /metrics: the outbox collector on both databases, the counters,
429s counted per workspace, and one registry per app instance."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import update

from bot.metrics import CURRENT_TEAM, Metrics, request_kind
from bot.scheduling.sender import DeliveryError, SlackSender
from bot.store import outbox, workspaces
from bot.store.db import Database
from bot.store.models import ScheduledMessage
from slackemu import SlackEmulator

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def message(key: str, kind: str, due: datetime, team: str = "T1") -> outbox.PlannedMessage:
    return outbox.PlannedMessage(
        team_id=team, key=key, kind=kind, recipient="U1", due_at=due, payload={"text": "private"}
    )


def set_status(db: Database, key: str, status: str, **values: object) -> None:
    with db.session() as session:
        session.execute(
            update(ScheduledMessage)
            .where(ScheduledMessage.key == key)
            .values(status=status, **values)
        )


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The scrape as Prometheus reads it (parsed, so the format is checked too)."""
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def test_outbox_depth_and_lag_by_kind(db: Database) -> None:
    with db.session() as session:
        outbox.plan(
            session,
            [
                message("tip-old", "tip", NOW - timedelta(minutes=10)),
                message("tip-due", "tip", NOW - timedelta(minutes=2)),
                message("tip-later", "tip", NOW + timedelta(hours=5)),
                message("prep-stuck", "prep_mentee", NOW - timedelta(minutes=30)),
                message("prep-sending", "prep_mentee", NOW - timedelta(minutes=1)),
                message("feedback-failed", "feedback", NOW - timedelta(days=1)),
                message("feedback-sent", "feedback", NOW - timedelta(days=2)),
                message("invite-paused-team", "match_invite", NOW - timedelta(hours=3), "T2"),
                message("invite-held", "match_invite", NOW - timedelta(hours=4), "T2"),
            ],
            now=NOW,
        )
    # A worker died holding this one: its lease ran out, so it is due again.
    set_status(db, "prep-stuck", "sending", lease_until=NOW - timedelta(minutes=1))
    set_status(db, "prep-sending", "sending", lease_until=NOW + timedelta(minutes=4))
    set_status(db, "feedback-failed", "failed")
    set_status(db, "feedback-sent", "sent")
    with db.session() as session:
        workspaces.pause(session, team_id="T2", reason="invalid_auth", now=NOW, token=None)
    set_status(db, "invite-paused-team", "pending")  # planned after the pause: waits too

    metrics = Metrics()
    metrics.watch_outbox(db, lambda: NOW)
    seen = samples(metrics)

    def value(name: str, **labels: str) -> float | None:
        return seen.get((name, tuple(sorted(labels.items()))))

    assert value("mentor_database_up") == 1
    assert value("mentor_outbox_messages", kind="tip", status="pending") == 3
    assert value("mentor_outbox_messages", kind="prep_mentee", status="sending") == 2
    assert value("mentor_outbox_messages", kind="feedback", status="failed") == 1
    assert value("mentor_outbox_messages", kind="feedback", status="sent") is None
    assert value("mentor_outbox_messages", kind="match_invite", status="held") == 1
    assert value("mentor_outbox_messages", kind="match_invite", status="pending") == 1
    assert value("mentor_outbox_due_messages", kind="tip") == 2
    assert value("mentor_outbox_due_messages", kind="prep_mentee") == 1
    assert value("mentor_outbox_due_messages", kind="feedback") == 0
    # A paused workspace's rows are not claimable: no lag alert for them.
    assert value("mentor_outbox_due_messages", kind="match_invite") == 0
    assert value("mentor_outbox_oldest_due_age_seconds", kind="tip") == 600
    assert value("mentor_outbox_oldest_due_age_seconds", kind="prep_mentee") == 1800
    assert value("mentor_outbox_oldest_due_age_seconds", kind="feedback") == 0
    assert value("mentor_outbox_oldest_due_age_seconds", kind="match_invite") == 0
    assert b"private" not in metrics.render()[0] and b"U1" not in metrics.render()[0]


def test_database_down_is_a_gauge_not_a_failed_scrape(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path}/never-migrated.db")  # no tables at all
    metrics = Metrics()
    metrics.watch_outbox(db, lambda: NOW)
    metrics.count_outcomes(["sent"])
    seen = samples(metrics)
    assert seen[("mentor_database_up", ())] == 0
    assert seen[("mentor_outbox_sends_total", (("outcome", "sent"),))] == 1
    assert not any(name.startswith("mentor_outbox_messages") for name, _ in seen)
    db.dispose()


def test_counters_and_one_registry_per_app() -> None:
    first, second = Metrics(), Metrics()
    first.count_outcomes(["sent", "sent", "retry", "failed"])
    first.observe_request("slash_command", 200, 0.02)
    first.observe_request("slash_command", 200, 1.5)
    first.observe_request("event", 401, 0.001)
    second.count_outcomes(["held"])
    seen = samples(first)
    assert seen[("mentor_outbox_sends_total", (("outcome", "sent"),))] == 2
    assert seen[("mentor_outbox_sends_total", (("outcome", "retry"),))] == 1
    assert ("mentor_outbox_sends_total", (("outcome", "held"),)) not in seen
    slash = (("kind", "slash_command"),)
    assert seen[("mentor_slack_ack_seconds_count", slash)] == 2
    assert seen[("mentor_slack_ack_seconds_bucket", (*slash, ("le", "1.0")))] == 1
    assert seen[("mentor_slack_ack_seconds_bucket", (*slash, ("le", "2.0")))] == 2
    assert seen[("mentor_slack_requests_total", (("kind", "event"), ("status", "401")))] == 1
    assert not any(name.endswith("_created") for name, _ in seen)
    # Nothing lands in prometheus_client's global registry.
    assert prometheus_client.REGISTRY.get_sample_value("mentor_outbox_sends_total") is None
    assert samples(second)[("mentor_outbox_sends_total", (("outcome", "held"),))] == 1


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"command": "/mentor", "text": "help"}, "slash_command"),
        ({"type": "block_actions", "actions": []}, "block_actions"),
        ({"type": "view_submission"}, "view_submission"),
        ({"type": "event_callback", "event": {"type": "app_home_opened"}}, "event"),
        ({"type": "url_verification", "challenge": "x"}, "event"),
        ({"type": "view_closed"}, "other"),
        ({}, "other"),
    ],
)
def test_request_kind(body: dict, kind: str) -> None:
    assert request_kind(body) == kind


@pytest.fixture
def slack():
    with SlackEmulator() as emu:
        emu.add_user("U0ALICE", name="alice", tz="Europe/Paris")
        yield emu


def test_scheduler_429s_are_counted_per_workspace(slack: SlackEmulator) -> None:
    metrics = Metrics()
    sender = SlackSender(
        api_url=slack.base_url,
        token_for_team=lambda _team: "xoxb-test",
        retries=0,  # no Retry-After sleep here: the 429 goes straight back to the pass
        metrics=metrics,
    )
    slack.inject("chat.postMessage", status=429, retry_after=1, times=2)
    for _ in range(2):
        with pytest.raises(DeliveryError) as failure:
            sender.post("T0ACME", "U0ALICE", text="hi", blocks=[])
        assert failure.value.error == "ratelimited"
    sender.post("T0ACME", "U0ALICE", text="hi", blocks=[])
    seen = samples(metrics)
    key = ("mentor_slack_ratelimited_total", (("source", "scheduler"), ("team_id", "T0ACME")))
    assert seen[key] == 2


def test_app_429s_are_counted_for_the_requests_workspace(slack: SlackEmulator) -> None:
    metrics = Metrics()

    async def call() -> None:
        client = AsyncWebClient(
            token="xoxb-test",
            base_url=slack.base_url,
            retry_handlers=[metrics.counting_async_handler(max_retry_count=0)],
        )
        CURRENT_TEAM.set("T0ACME")
        with pytest.raises(SlackApiError):
            await client.chat_postMessage(channel="U0ALICE", text="hi")
        await client.chat_postMessage(channel="U0ALICE", text="hi")

    slack.inject("chat.postMessage", status=429, retry_after=1)
    asyncio.run(call())
    seen = samples(metrics)
    key = ("mentor_slack_ratelimited_total", (("source", "app"), ("team_id", "T0ACME")))
    assert seen[key] == 1


def test_the_metrics_port_of_a_worker_serves_metrics_only(tmp_path) -> None:
    """prometheus_client's own server answers every path with the figures: a probe of
    /healthz on a worker's metrics port read it as healthy, whatever its database."""
    import socket
    import urllib.error
    import urllib.request

    from bot.metrics import start_metrics_server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db = Database(f"sqlite:///{tmp_path}/gone.db")
    metrics = Metrics()
    metrics.watch_outbox(db, lambda: NOW)
    server = start_metrics_server(metrics, port)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            assert answer.status == 200 and b"mentor_database_up" in answer.read()
        for path in ("/healthz", "/", "/metrics/x"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10)
            refused.value.close()
            assert refused.value.code == 404, path
    finally:
        server.shutdown()
        server.server_close()
        db.dispose()
