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


# Work after the ack shares the event loop with the acks themselves; an unbounded
# burst of it (hundreds of invitations at once) would make every ack wait behind
# it. Queued work keeps its order and runs as soon as a place frees up.
CONCURRENCY = 8


class Background:
    def __init__(self, *, concurrency: int = CONCURRENCY) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._concurrency = concurrency
        self._places: asyncio.Semaphore | None = None

    def spawn(
        self, work: Coroutine[Any, Any, Any], *, on_error: ErrorReporter | None = None
    ) -> None:
        task = asyncio.get_running_loop().create_task(self._guard(work, on_error))
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._forget)

    async def _guard(self, work: Coroutine[Any, Any, Any], on_error: ErrorReporter | None) -> None:
        if self._places is None:
            self._places = asyncio.Semaphore(self._concurrency)
        try:
            async with self._places:
                await work
        except Exception as error:  # noqa: BLE001 - the reporter decides what the user sees
            if on_error is None:
                logger.exception("background work failed")
                return
            try:
                await on_error(error)
            except Exception:  # noqa: BLE001
                logger.exception("reporting a background failure failed")

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
