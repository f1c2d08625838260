"""The little that runs after Slack has been acknowledged, outside the outbox.

Everything a person must receive is an outbox row, written with the change that
causes it and delivered by the sender (``bot.scheduling``). What is left here is
what Slack makes immediate and short-lived, so that it cannot wait in a queue:
opening a modal (a ``trigger_id`` is good for 3 s) and answering an error where they
acted. (App Home after a change is an outbox row, ``home_refresh``.) Losing it to a
crash loses nothing that matters: the person presses again.

Bolt's own lazy listeners deep-copy the request context (and with it the
database engine), so the app keeps its own small task set instead. Tracking the
tasks lets shutdown finish work in flight and lets tests wait for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

logger = logging.getLogger(__name__)

ErrorReporter = Callable[[BaseException], Awaitable[None]]

# At most this many pieces run at once; the rest wait their turn, in order.
CONCURRENCY = 8

# The answer to the Slack request being handled, while it is not yet sent: work
# spawned meanwhile waits for it (see ``Background.after_response``).
_RESPONSE_SENT: ContextVar[asyncio.Future[None] | None] = ContextVar(
    "mentor_bot_response_sent", default=None
)


class Background:
    def __init__(self, *, concurrency: int = CONCURRENCY) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._concurrency = concurrency
        self._running = 0
        # Work waiting for a place, first come first served; a freed place wakes
        # exactly one of them.
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._paused = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    @contextmanager
    def after_response(self) -> Iterator[Callable[[], None]]:
        """Hold work spawned inside the block until the request's answer is sent.

        With ``process_before_response`` Bolt returns the answer only when the
        listener returns, and the HTTP layer writes it after that; work that
        started meanwhile could call Slack before Slack has its ack. The block
        yields a function to call once the answer is written; leaving the block
        releases the work in any case.
        """
        sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        token = _RESPONSE_SENT.set(sent)

        def release() -> None:
            if not sent.done():
                sent.set_result(None)

        try:
            yield release
        finally:
            _RESPONSE_SENT.reset(token)
            release()

    def spawn(
        self,
        work: Coroutine[Any, Any, Any],
        *,
        on_error: ErrorReporter | None = None,
        first: bool = False,
    ) -> None:
        """Run ``work`` after the ack. ``first``: ahead of queued work, for what
        must happen within seconds (a trigger_id is good for 3 s)."""
        gate = _RESPONSE_SENT.get()
        task = asyncio.get_running_loop().create_task(self._guard(work, on_error, gate, first))
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._forget)

    def pause(self) -> None:
        """Start no new work until ``resume`` (tests use this to keep each Slack
        request alone on the wire); work already running carries on."""
        self._paused += 1

    def resume(self) -> None:
        self._paused = max(0, self._paused - 1)
        self._hand_out_places()

    async def settle(self, timeout: float | None = None) -> bool:
        """Wait until no work is running (queued work may wait); False on timeout."""
        try:
            await asyncio.wait_for(self._quiet.wait(), timeout)
            return True
        except TimeoutError:
            return False

    def _hand_out_places(self) -> None:
        while self._waiting and not self._paused and self._running < self._concurrency:
            place = self._waiting.popleft()
            if not place.done():
                self._running += 1
                self._quiet.clear()
                place.set_result(None)

    async def _take_place(self, first: bool) -> None:
        place = asyncio.get_running_loop().create_future()
        if first:
            self._waiting.appendleft(place)
        else:
            self._waiting.append(place)
        self._hand_out_places()
        await place

    async def _guard(
        self,
        work: Coroutine[Any, Any, Any],
        on_error: ErrorReporter | None,
        gate: asyncio.Future[None] | None = None,
        first: bool = False,
    ) -> None:
        try:
            if gate is not None:
                await asyncio.shield(gate)
            await self._take_place(first)
        except asyncio.CancelledError:
            work.close()  # never started: close it so it is not reported as never awaited
            raise
        try:
            await work
        except Exception as error:  # noqa: BLE001 - the reporter decides what the user sees
            if on_error is None:
                logger.exception("background work failed")
                return
            try:
                await on_error(error)
            except Exception:  # noqa: BLE001
                logger.exception("reporting a background failure failed")
        finally:
            self._running -= 1
            if not self._running:
                self._quiet.set()
            self._hand_out_places()

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until no work is in flight; False if the timeout ran out first."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            return False
