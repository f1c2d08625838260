"""Work that runs after Slack has been acknowledged.

Bolt's own lazy listeners deep-copy the request context (and with it the
database engine), so the app keeps its own small task set instead. Tracking the
tasks lets shutdown finish work in flight and lets tests wait for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

logger = logging.getLogger(__name__)

ErrorReporter = Callable[[BaseException], Awaitable[None]]


# Work after the ack shares the event loop with the acks themselves. While Slack
# requests are in flight only a little of it runs, so a burst (hundreds of
# invitations at once) never makes the acks wait; it catches up as soon as the
# burst is over. Queued work keeps its order.
CONCURRENCY = 8
CONCURRENCY_WHILE_BUSY = 1


class Background:
    def __init__(
        self, *, concurrency: int = CONCURRENCY, while_busy: int = CONCURRENCY_WHILE_BUSY
    ) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._concurrency = concurrency
        self._while_busy = while_busy
        self._running = 0
        self._requests = 0
        self._place_freed: asyncio.Event | None = None

    def request_started(self) -> None:
        self._requests += 1

    def request_finished(self) -> None:
        self._requests -= 1
        if self._requests == 0:
            self._free_a_place()

    def spawn(
        self, work: Coroutine[Any, Any, Any], *, on_error: ErrorReporter | None = None
    ) -> None:
        task = asyncio.get_running_loop().create_task(self._guard(work, on_error))
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._forget)

    def _limit(self) -> int:
        return self._while_busy if self._requests else self._concurrency

    def _free_a_place(self) -> None:
        if self._place_freed is not None:
            self._place_freed.set()

    async def _guard(self, work: Coroutine[Any, Any, Any], on_error: ErrorReporter | None) -> None:
        if self._place_freed is None:
            self._place_freed = asyncio.Event()
        while self._running >= self._limit():
            # Every waiter re-checks after a wake-up; each release or quiet moment
            # sets the event again, so no waiter is forgotten.
            self._place_freed.clear()
            await self._place_freed.wait()
        self._running += 1
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
            self._free_a_place()

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
