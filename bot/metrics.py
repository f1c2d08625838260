"""What operators see: Prometheus metrics of one app instance (SPEC §3, ``GET /metrics``).

Each ``Metrics`` has its own ``CollectorRegistry``, never prometheus_client's global
one, so several apps in one process (tests, the demo) keep their figures apart.

- ``mentor_slack_requests_total{kind,status}`` and ``mentor_slack_ack_seconds{kind}``:
  Slack's requests, from the start of the handler to the answer written (bot/web.py).
- ``mentor_outbox_messages{kind,status}``, ``mentor_outbox_due_messages{kind}`` and
  ``mentor_outbox_oldest_due_age_seconds{kind}``: read from the database at scrape
  time, in one grouped query (``outbox.depth``); ``mentor_database_up`` says whether
  it answered.
- ``mentor_outbox_sends_total{outcome}``: what the scheduler pass did with each
  message it claimed (sent, retry, failed, held, paused, skipped, deleted …).
- ``mentor_slack_ratelimited_total{team_id,source}``: Slack's 429 answers, per
  workspace, from the scheduler's sender and from the app's own Web API calls.

Labels carry kinds, outcomes and workspace IDs only: never a person or their words.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

if TYPE_CHECKING:
    from bot.store.db import Database

logger = logging.getLogger(__name__)

# Slack gives up on an ack after 3 s; the buckets are fine where acks should be
# (tens of ms) and still tell 1 s from 2.5 s from "too late".
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 3.0, 5.0)
REQUEST_KINDS = ("slash_command", "block_actions", "view_submission", "event", "other")
# The workspace a request is about, for the 429s the app's own Web API calls meet.
# Set per request by the app's middleware; work spawned after the ack inherits it.
CURRENT_TEAM: contextvars.ContextVar[str] = contextvars.ContextVar("mentor_team", default="")


def request_kind(body: dict[str, Any]) -> str:
    """The ``kind`` label of one of Slack's requests, from its parsed body."""
    if body.get("command"):
        return "slash_command"
    kind = body.get("type")
    if kind in ("block_actions", "view_submission"):
        return str(kind)
    if kind in ("event_callback", "url_verification", "app_rate_limited"):
        return "event"
    return "other"


class Metrics:
    """The metrics of one app instance, and their registry."""

    def __init__(self) -> None:
        # No ``*_created`` twin of every counter and histogram: Prometheus needs none,
        # and they double what a scrape carries (a process-wide switch of the library).
        disable_created_metrics()
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "mentor_slack_requests",
            "Slack's requests on /slack/events, by kind and HTTP status answered",
            ["kind", "status"],
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "mentor_slack_ack_seconds",
            "Seconds from a Slack request's arrival to its answer written (Slack waits 3 s)",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        self.sends = Counter(
            "mentor_outbox_sends",
            "Scheduled messages settled by the scheduler pass, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.ratelimited = Counter(
            "mentor_slack_ratelimited",
            "HTTP 429 answers from Slack's Web API, by workspace and by who called "
            "(scheduler: the outbox sender; app: listeners)",
            ["team_id", "source"],
            registry=self.registry,
        )
        self._outbox: OutboxCollector | None = None

    def watch_outbox(self, db: Database, clock: Callable[[], datetime]) -> None:
        """Report the outbox's depth and lag, read from ``db`` at each scrape."""
        if self._outbox is None:
            self._outbox = OutboxCollector(db, clock)
            self.registry.register(self._outbox)

    def observe_request(self, kind: str, status: int, seconds: float) -> None:
        self.requests.labels(kind, str(status)).inc()
        self.ack_seconds.labels(kind).observe(seconds)

    def count_outcomes(self, outcomes: Iterable[str]) -> None:
        for outcome in outcomes:
            self.sends.labels(outcome).inc()

    def count_ratelimited(self, team_id: str, source: str) -> None:
        self.ratelimited.labels(team_id or "unknown", source).inc()

    def render(self, accept: str | None = None) -> tuple[bytes, str]:
        """The exposition for a scrape (Prometheus' text format unless the scraper asks
        for OpenMetrics) and its content type. Reads the database: call off the loop."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type

    def counting_handler(self, team_id: str, *, max_retry_count: int) -> RateLimitErrorRetryHandler:
        """slack_sdk's 429 handler for a synchronous client of one workspace, counting."""
        return CountingRateLimitHandler(
            lambda: self.count_ratelimited(team_id, "scheduler"), max_retry_count=max_retry_count
        )

    def counting_async_handler(self, *, max_retry_count: int) -> AsyncRateLimitErrorRetryHandler:
        """slack_sdk's async 429 handler for the app's client; the workspace is the
        request's (``CURRENT_TEAM``)."""
        return AsyncCountingRateLimitHandler(
            lambda: self.count_ratelimited(CURRENT_TEAM.get(), "app"),
            max_retry_count=max_retry_count,
        )


class OutboxCollector(Collector):
    """Outbox gauges computed when Prometheus scrapes: one grouped query."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    def describe(self) -> list[Metric]:
        return []  # nothing to check at registration, and no query then

    def collect(self) -> Iterator[Metric]:
        from bot.store import outbox

        up = GaugeMetricFamily(
            "mentor_database_up", "1 if the database answered the outbox query at this scrape"
        )
        now = self._clock()
        try:
            rows = self._db.read(outbox.depth, now=now)
        except Exception as error:  # noqa: BLE001 - a scrape reports, it never fails
            logger.warning("metrics: the outbox query failed: %s", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily(
            "mentor_outbox_messages",
            "Open outbox rows by kind and status (pending, sending, failed, held, paused)",
            labels=["kind", "status"],
        )
        due = GaugeMetricFamily(
            "mentor_outbox_due_messages",
            "Outbox rows a scheduler pass would claim now, by kind",
            labels=["kind"],
        )
        age = GaugeMetricFamily(
            "mentor_outbox_oldest_due_age_seconds",
            "Seconds since the oldest claimable row of each kind was due (0: none overdue)",
            labels=["kind"],
        )
        due_counts: dict[str, int] = {}
        oldest: dict[str, datetime | None] = {}
        for row in rows:
            depth.add_metric([row.kind, row.status], row.count)
            due_counts[row.kind] = due_counts.get(row.kind, 0) + row.due
            earliest = oldest.get(row.kind)
            if row.oldest_due_at is not None and (earliest is None or row.oldest_due_at < earliest):
                earliest = row.oldest_due_at
            oldest[row.kind] = earliest
        for kind in sorted(due_counts):
            due.add_metric([kind], due_counts[kind])
            earliest = oldest[kind]
            age.add_metric([kind], max(0.0, (now - earliest).total_seconds()) if earliest else 0.0)
        yield depth
        yield due
        yield age


class CountingRateLimitHandler(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (wait Retry-After, retry) that also counts every 429,
    the last one it no longer retries included."""

    def __init__(self, on_429: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_429 = on_429

    def can_retry(
        self, *, state: Any, request: Any, response: Any = None, error: Any = None
    ) -> bool:
        if response is not None and response.status_code == 429:
            self._on_429()
        return super().can_retry(state=state, request=request, response=response, error=error)


class AsyncCountingRateLimitHandler(AsyncRateLimitErrorRetryHandler):
    """The async twin of ``CountingRateLimitHandler``, for the app's AsyncWebClient."""

    def __init__(self, on_429: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_429 = on_429

    async def can_retry_async(
        self, *, state: Any, request: Any, response: Any = None, error: Any = None
    ) -> bool:
        # slack_sdk offers each response once without an error; a connection error
        # that follows may come with the previous response still attached.
        if error is None and response is not None and response.status_code == 429:
            self._on_429()
        return await super().can_retry_async(
            state=state, request=request, response=response, error=error
        )


def start_metrics_server(metrics: Metrics, port: int) -> Any:
    """``/metrics`` for a process with no HTTP server of its own (the worker, Socket
    Mode): prometheus_client's WSGI app in a daemon thread, on all interfaces, and
    nothing else. (Its ``start_http_server`` answers every path with the figures, so a
    probe of ``/healthz`` there read a worker as healthy, whatever its database.)"""
    import threading
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from prometheus_client import make_wsgi_app

    figures = make_wsgi_app(metrics.registry)

    def only_metrics(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/metrics":
            return figures(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"Not found: this port serves GET /metrics only\n"]

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - its name
            pass  # one line a scrape on stderr: nothing an operator reads

    server = make_server("0.0.0.0", port, only_metrics, Server, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    logger.info("metrics on http://0.0.0.0:%d/metrics", port)
    return server  # its shutdown() and server_close() stop it (the process's exit does)
