"""Running the real app in a background thread on loopback: for tests, the demo and benches.

It is the same factory and web stack as ``serve``; only the port (0: any free
one), the thread and the clock differ.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, TypeVar

from bot.config import Settings
from bot.content import Content
from bot.deps import Clock, Deps, utc_now
from bot.store.db import Database

T = TypeVar("T")


class LocalApp:
    def __init__(
        self,
        settings: Settings,
        *,
        content: Content | None = None,
        db: Database | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self._content = content
        self._db = db
        self._clock = clock
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="local-app", daemon=True
        )
        self._stop: asyncio.Event | None = None
        self._serving: Future[None] | None = None
        self.deps: Deps
        self.port = 0
        self._sender: Any = None  # the Engine that delivers on drain(), made on first use

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalApp:
        from bot.app import create_app
        from bot.web import create_web_app, serve_http

        self._thread.start()
        started: Future[int] = Future()

        async def boot() -> None:
            bolt, deps = create_app(
                self.settings, content=self._content, db=self._db, clock=self._clock
            )
            self.deps = deps
            self._stop = asyncio.Event()
            await serve_http(
                create_web_app(bolt, deps),
                deps,
                port=0,
                host="127.0.0.1",
                on_started=started.set_result,
                stop=self._stop,
            )

        self._serving = asyncio.run_coroutine_threadsafe(boot(), self._loop)
        self._serving.add_done_callback(
            lambda f: f.exception() and not started.done() and started.set_exception(f.exception())  # type: ignore[arg-type]
        )
        self.port = started.result(timeout=30)
        return self

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def drain(self, timeout: float = 10) -> None:
        """Wait until work started after acks has finished, then deliver what the
        requests wrote to the outbox (see ``deliver_due_now``)."""
        if not self.run(self.deps.background.drain(timeout), timeout + 1):
            raise TimeoutError("background work still running")
        self.deliver_due_now()

    def deliver_due_now(self) -> Any:
        """What ``serve``'s sender loop does when a request wakes it, done here in the
        caller's thread: claim, send and settle every outbox row due at the app's clock
        (no planning: that is ``tick``). Tests stay in step with time this way; nothing
        is sent while a request is in flight."""
        if self._sender is None:
            from bot.runtime import make_engine

            self._sender = make_engine(self.settings, self.deps.content, self.deps.db)
        return self._sender.deliver_due(self._clock())

    @contextmanager
    def background_held(self, timeout: float = 10) -> Iterator[None]:
        """No work after earlier acks runs inside the block: what is already running
        finishes first, what is queued waits. The strict test driver holds this
        around each request, so every Slack call it sees meanwhile is the
        request's own, made before its ack."""
        background = self.deps.background

        async def hold() -> bool:
            background.pause()
            return await background.settle(timeout)

        async def release() -> None:
            background.resume()

        settled = self.run(hold(), timeout + 1)
        try:
            if not settled:
                raise TimeoutError("background work still running")
            yield
        finally:
            self.run(release())

    def stop(self) -> None:
        if self._sender is not None:
            self._sender.close()
            self._sender = None
        if self._loop.is_closed():
            return
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            if self._serving is not None:
                self._serving.result(timeout=15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def __enter__(self) -> LocalApp:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
