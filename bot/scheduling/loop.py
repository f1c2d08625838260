"""The sender loop: due rows leave as soon as they are committed, not at the next pass.

``serve`` and ``worker`` run one in a thread of their own. It delivers (claim → send →
settle, ``Engine.deliver_due``; no planning) whenever it is woken:

- in this process by ``wake()``, which ``deps.wake_scheduler`` calls after a service
  has committed rows due now;
- from other processes, on PostgreSQL, by ``NOTIFY mentor_outbox`` (sent in the
  transaction that planned due rows, so it arrives when they are committed), received
  with ``LISTEN`` on the connection that holds this worker's advisory lock;
- and by a short poll (1 s on SQLite, which has no NOTIFY; 10 s on PostgreSQL, in case a
  notification was missed while the connection was being replaced). An idle poll is
  one indexed read (``outbox.any_due``) and one for dead workers' claims.

APScheduler still decides when the periodic planning pass runs; it wakes this loop.
A ``serve`` with ``MENTOR_SCHEDULER=off`` runs the loop with ``listen=False``: it sends
what its own requests queue, when they wake it, and leaves the rest to the workers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bot.scheduling.engine import Engine
from bot.store import workers

logger = logging.getLogger(__name__)

POLL_SQLITE = 1.0
POLL_POSTGRESQL = 10.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SenderLoop:
    def __init__(
        self,
        engine: Engine,
        *,
        poll_seconds: float | None = None,
        listen: bool = True,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.engine = engine
        postgres = engine.db.dialect == "postgresql"
        self.poll_seconds: float | None = poll_seconds or (
            POLL_POSTGRESQL if postgres else POLL_SQLITE
        )
        if not listen:
            self.poll_seconds = None  # only wake() starts a delivery
        self.clock = clock
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sender-loop", daemon=True)
        self._listener: threading.Thread | None = None
        presence = engine.presence
        if listen and postgres and presence is not None and presence.connection is not None:
            self._listener = threading.Thread(
                target=self._listen, name="sender-listen", daemon=True
            )

    def start(self) -> SenderLoop:
        self._thread.start()
        if self._listener is not None:
            self._listener.start()
        return self

    def wake(self) -> None:
        """Deliver now (thread-safe, cheap; wakes coalesce). A delivery in progress
        claims the new rows as soon as a thread is free."""
        self.engine.rows_arrived()
        self._wake.set()

    def stop(self, timeout: float) -> bool:
        """Stop claiming, hand back what was not started, finish the Slack calls in
        flight; False if that took longer than ``timeout`` seconds."""
        self.engine.stop()
        self._wake.set()
        deadline = time.monotonic() + timeout
        for thread in (self._thread, self._listener):
            if thread is not None and thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))
        return not self._thread.is_alive()

    def _run(self) -> None:
        stopping = self.engine.stopping
        while not stopping.is_set():
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
            if stopping.is_set():
                break
            try:
                report = self.engine.deliver_due(self.clock(), clock=self.clock)
            except Exception:  # noqa: BLE001 - the loop must outlive one bad round
                logger.exception("sender loop: delivery failed")
                stopping.wait(self.poll_seconds or POLL_SQLITE)
                continue
            if report.outcomes or report.recovered:
                logger.info(report.summary().replace("tick:", "sent at once:", 1))

    def _listen(self) -> None:
        presence = self.engine.presence
        assert presence is not None
        stopping = self.engine.stopping
        listening = False
        while not stopping.is_set():
            try:
                connection = presence.connection
                if not listening:
                    connection.execute(f"LISTEN {workers.CHANNEL}")
                    listening = True
                    self.wake()  # anything committed while we were not listening
                for _ in connection.notifies(timeout=1.0, stop_after=1):
                    self.wake()
            except Exception as error:  # noqa: BLE001 - a lost connection is replaced
                if stopping.is_set():
                    break
                # The lock went with the connection: claim nothing until it is back.
                presence.lost.set()
                listening = False
                logger.warning("sender loop: lost the worker connection (%s)", error)
                while not stopping.wait(1.0):
                    try:
                        presence.reacquire()
                        logger.info("sender loop: worker lock taken again")
                        break
                    except Exception as again:  # noqa: BLE001 - retried every second
                        logger.warning("sender loop: worker lock not back yet (%s)", again)
