"""Pacing the scheduler's Slack calls so that 429s are rare, and waiting out the ones
that come inside the pass, instead of re-dating the message past it.

Slack's limits (docs.slack.dev/apis/web-api/rate-limits, and chat.postMessage's
reference page): ``chat.postMessage`` allows "1 message per second per channel" with
"short bursts", under a workspace-wide cap of "several hundred messages per minute";
other methods are limited per workspace by their tier (Tier 3: 50+ a minute, Tier 4:
100+). ``Pacer`` holds a token bucket per workspace and method, and one per channel for
``chat.postMessage``, in virtual-time form (GCRA): each call reserves the earliest slot
every bucket it touches allows, so threads sharing a pacer queue in order and no
bucket is ever overdrawn. A bucket starts full, holding a minute's worth of calls, as
Slack's per-minute limits allow bursts (the emulator's buckets do the same), less a
small margin so that a call arriving a few milliseconds early still finds a token.

The pacer belongs to one process. Several processes sending to one workspace each
pace themselves; Slack's 429 (with ``Retry-After``) then tells them all to slow down,
and ``Gate.after_429`` waits it out and holds the workspace's bucket that long.

``Gate`` is what ``SlackSender`` asks before and after each call; the engine gives it
its ``stopping`` event, so a wait ends the moment the process is told to stop (the call
that had not started raises ``Interrupted`` and its row is handed back).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

# Slack's figures (see above). The workspace cap of chat.postMessage is not published
# as a number; MENTOR_SLACK_POSTS_PER_MINUTE sets it (default: the emulator's 600).
POSTS_PER_MINUTE = 600
PER_CHANNEL_PER_SECOND = 1.0
# Tier minimums of the other methods the scheduler calls (each method's reference page).
METHOD_PER_MINUTE: dict[str, int] = {
    "users.info": 100,
    "conversations.open": 50,
    "chat.update": 50,
    "chat.delete": 50,
    "chat.postEphemeral": 100,
    "files.delete": 50,
    "views.publish": 100,
    "views.update": 100,
}
# A bucket holds a minute's worth less this share (at least one call): the margin
# that keeps a call a few milliseconds early from meeting an empty bucket at Slack.
BURST_MARGIN = 0.02
# One call waits out 429s for at most this long in all; after that its row is
# rescheduled (``Retry-After`` later), well inside the 5-minute lease.
MAX_RATELIMIT_WAIT = 120.0
# Channel buckets that are full again are forgotten once there are this many.
CHANNELS_KEPT = 20_000


class Interrupted(BaseException):  # noqa: N818 - like asyncio.CancelledError, not an error
    """The process is stopping: a Slack call that had not started will not start.

    A ``BaseException``, so that no ``except Exception`` on the way swallows it."""


class _Bucket:
    """A token bucket in virtual time: ``tat`` is when the bucket is full again."""

    __slots__ = ("interval", "tolerance", "tat", "paused_until")

    def __init__(self, per_second: float, burst: int) -> None:
        self.interval = 1.0 / per_second
        self.tolerance = (max(1, burst) - 1) * self.interval
        self.tat = -math.inf
        self.paused_until = -math.inf

    def ready(self, now: float) -> float:
        """The earliest instant a call conforms."""
        return max(now, self.tat - self.tolerance, self.paused_until)

    def take(self, at: float) -> None:
        self.tat = max(self.tat, at) + self.interval

    def hold(self, until: float) -> None:
        """Nothing before ``until``; what is left of the burst stays (a 429 may come
        from a limit this bucket does not model, and says only how long to wait)."""
        self.paused_until = max(self.paused_until, until)


def _burst(per_minute: float) -> int:
    return max(1, int(per_minute - max(1.0, per_minute * BURST_MARGIN)))


class Pacer:
    """Per-process pacing of Slack Web API calls, per workspace (thread-safe)."""

    def __init__(
        self,
        *,
        posts_per_minute: int = POSTS_PER_MINUTE,
        per_channel_per_second: float = PER_CHANNEL_PER_SECOND,
        method_per_minute: dict[str, int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.posts_per_minute = posts_per_minute
        self.per_channel_per_second = per_channel_per_second
        self.method_per_minute = dict(
            METHOD_PER_MINUTE if method_per_minute is None else method_per_minute
        )
        self.method_per_minute["chat.postMessage"] = posts_per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._channels: dict[tuple[str, str], _Bucket] = {}

    def reserve(self, team_id: str, method: str, channel: str | None = None) -> float:
        """Take the next slot for one call; returns the seconds to wait before making it."""
        with self._lock:
            now = self._clock()
            buckets = []
            bucket = self._bucket(team_id, method)
            if bucket is not None:
                buckets.append(bucket)
            if method == "chat.postMessage" and channel and self.per_channel_per_second:
                buckets.append(self._channel(team_id, channel, now))
            if not buckets:
                return 0.0
            at = max(b.ready(now) for b in buckets)
            for b in buckets:
                b.take(at)
            wait = at - now
            return wait if wait > 1e-6 else 0.0  # sums of intervals round a little

    def interval(self, method: str) -> float:
        """Seconds between two calls of ``method`` at its sustained pace (0: unpaced)."""
        per_minute = self.method_per_minute.get(method)
        return 60.0 / per_minute if per_minute else 0.0

    def ready_in(self, team_id: str, method: str) -> float:
        """Seconds until a call of ``method`` in the workspace would go (nothing taken)."""
        with self._lock:
            bucket = self._bucket(team_id, method)
            if bucket is None:
                return 0.0
            now = self._clock()
            return max(0.0, bucket.ready(now) - now)

    def hold(self, team_id: str, method: str, seconds: float) -> None:
        """Slack answered 429 with ``Retry-After: seconds``: nobody in this process calls
        ``method`` in that workspace before then."""
        with self._lock:
            bucket = self._bucket(team_id, method)
            if bucket is not None:
                bucket.hold(self._clock() + seconds)

    def _bucket(self, team_id: str, method: str) -> _Bucket | None:
        per_minute = self.method_per_minute.get(method)
        if not per_minute:
            return None
        key = (team_id, method)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(per_minute / 60.0, _burst(per_minute))
        return bucket

    def _channel(self, team_id: str, channel: str, now: float) -> _Bucket:
        key = (team_id, channel)
        bucket = self._channels.get(key)
        if bucket is None:
            if len(self._channels) >= CHANNELS_KEPT:
                self._channels = {k: b for k, b in self._channels.items() if b.tat > now}
            # One a second and no burst: Slack allows "short bursts", without a figure.
            bucket = self._channels[key] = _Bucket(self.per_channel_per_second, 1)
        return bucket


class Gate:
    """Asked by ``SlackSender`` around each call: pace it, and wait out a 429.

    A stop interrupts a wait only while the row being delivered (on this thread) has
    made no Slack call yet: a row whose first call went through is finished, so that
    handing it back never makes that call twice."""

    def __init__(
        self,
        pacer: Pacer | None,
        stopping: threading.Event,
        *,
        max_wait: float = MAX_RATELIMIT_WAIT,
    ) -> None:
        self.pacer = pacer
        self.stopping = stopping
        self.max_wait = max_wait
        self._row = threading.local()

    def begin_row(self) -> None:
        """The engine starts delivering a row on this thread."""
        self._row.started = False

    def call_made(self) -> None:
        """A Slack call of the row went through: it can no longer be handed back."""
        self._row.started = True

    def row_started(self) -> bool:
        """Whether the row being delivered on this thread has made a Slack call."""
        return bool(getattr(self._row, "started", False))

    def _wait(self, seconds: float) -> None:
        if getattr(self._row, "started", False):
            time.sleep(seconds)  # finishing a started row; the waits are Slack's own
        elif self.stopping.wait(seconds):
            raise Interrupted

    def interval(self, method: str) -> float:
        """Seconds between two calls of ``method`` at its sustained pace (0: unpaced)."""
        return 0.0 if self.pacer is None else self.pacer.interval(method)

    def ready_in(self, team_id: str, method: str) -> float:
        """Seconds a call of ``method`` would wait for its slot now (0 without pacing)."""
        return 0.0 if self.pacer is None else self.pacer.ready_in(team_id, method)

    def before(self, team_id: str, method: str, channel: str | None) -> None:
        """Wait for the call's slot; ``Interrupted`` if the process stops meanwhile."""
        if self.pacer is None:
            return
        delay = self.pacer.reserve(team_id, method, channel)
        if delay > 0:
            self._wait(delay)

    def after_429(
        self, team_id: str, method: str, retry_after: float | None, waited: float
    ) -> float | None:
        """Slack said 429: wait ``Retry-After`` (the whole process holds off that
        workspace's method as long) and return the seconds waited, so the call is made
        again; None when this call has waited long enough, or a started row's process
        is stopping (the row is rescheduled). ``Interrupted`` if the process stops
        meanwhile and the row has made no call yet."""
        seconds = max(1.0, retry_after or 1.0)
        if waited + seconds > self.max_wait:
            return None
        if getattr(self._row, "started", False) and self.stopping.is_set():
            return None
        if self.pacer is not None:
            self.pacer.hold(team_id, method, seconds)
        self._wait(seconds)
        return seconds
