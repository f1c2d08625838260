"""Which workers are alive, so that the claims of one that died are released at once.

A worker is a process that claims outbox rows (``serve``, ``worker``, ``tick``). Its
id, written into ``scheduled_messages.claimed_by`` of every row it claims, is
``host:pid:start``, where ``start`` is when the process started (clock ticks since
boot, from ``/proc/<pid>/stat``), so that another process given the same pid later is
not taken for it; on PostgreSQL ``#key`` follows: the key of a session-level advisory
lock that the process holds on a connection of its own for its whole life.

- PostgreSQL: a worker is alive while its advisory lock is held. The server drops the
  lock as soon as the worker's connection goes, however the process ended, and
  ``pg_locks`` shows which are held.
- SQLite (one box): a worker on this host is alive while a process with its pid and
  start time runs (a zombie, killed but not yet reaped, counts as dead).

Claims by ids of neither form (or from another host, on SQLite) still wait for their
lease to run out (``outbox.LEASE``).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, text, update
from sqlalchemy.orm import Session

from bot.store.models import ScheduledMessage

logger = logging.getLogger(__name__)

# pg_locks.classid of worker locks (the two-key form: objid is the worker's key).
LOCK_NAMESPACE = 0x4D42
# NOTIFY channel: outbox rows became due (planned due now, handed back, released).
CHANNEL = "mentor_outbox"
ID_LENGTH = 64  # scheduled_messages.claimed_by
RELEASED = "released: its worker stopped while sending"


@dataclass(frozen=True)
class WorkerId:
    host: str
    pid: int
    start: str
    key: int | None = None

    def __str__(self) -> str:
        tail = f":{self.pid}:{self.start}" + (f"#{self.key}" if self.key is not None else "")
        return self.host[: ID_LENGTH - len(tail)] + tail


def parse(worker: str) -> WorkerId | None:
    head, _, key = worker.partition("#")
    parts = head.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    if key and not key.isdigit():
        return None
    return WorkerId(parts[0], int(parts[1]), parts[2], int(key) if key else None)


def host_name() -> str:
    return socket.gethostname() or "localhost"


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot), or None if no live process
    has that pid. Without ``/proc`` (not Linux): "0" for any process that exists."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return None
        return "0" if _exists(pid) else None
    except (OSError, IndexError):
        return None
    # fields[0] is the state (field 3 of proc(5)); starttime is field 22.
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def this_process(key: int | None = None) -> WorkerId:
    pid = os.getpid()
    return WorkerId(host_name(), pid, process_start(pid) or "0", key)


class Presence:
    """This process as a worker: its id and, on PostgreSQL, the advisory lock (on a
    connection of its own, outside the pool) that proves it alive. ``connection`` is
    that psycopg connection, in autocommit, for the sender loop's ``LISTEN``."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._raw: Any = None
        self.connection: Any = None
        # Set while the lock's connection is lost: this process must not claim then.
        self.lost = threading.Event()
        key = None
        if engine.dialect.name == "postgresql":
            key = self._lock(None)
        self.id = str(this_process(key))
        self.key = key

    def _lock(self, key: int | None) -> int:
        raw = self._engine.raw_connection()
        connection = raw.driver_connection
        raw.detach()  # closed with us, never handed back to the pool
        connection.rollback()
        connection.autocommit = True
        for _ in range(20):
            wanted = key if key is not None else secrets.randbelow(2**31 - 2) + 1
            row = connection.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, wanted)
            ).fetchone()
            if row and row[0]:
                self._raw, self.connection = raw, connection
                return wanted
            if key is not None:
                break
        raw.close()
        raise RuntimeError("could not take a worker lock on PostgreSQL")

    def reacquire(self) -> None:
        """After the lock's connection was lost: the same key on a new connection."""
        self.close()
        assert self.key is not None
        self._lock(self.key)
        self.lost.clear()

    def close(self) -> None:
        raw, self._raw, self.connection = self._raw, None, None
        if raw is not None:
            try:
                raw.close()
            except Exception:  # noqa: BLE001 - already gone
                pass


def _dialect(executor: Session | Connection) -> str:
    bind = executor if isinstance(executor, Connection) else executor.get_bind()
    return bind.dialect.name


def live_keys(session: Session | Connection) -> set[int]:
    """Keys of the worker locks held now in this database."""
    rows = session.execute(
        text(
            "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = :namespace AND objsubid = 2 "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        {"namespace": LOCK_NAMESPACE},
    )
    return {int(key) for (key,) in rows}


def dead_workers(session: Session | Connection, *, me: str) -> list[str]:
    """Ids that hold ``sending`` rows and belong to workers known to be gone."""
    return claimants(session, me=me)[0]


def claimants(session: Session | Connection, *, me: str) -> tuple[list[str], list[str]]:
    """(dead, alive): the ids holding ``sending`` rows whose workers are known gone, and
    those known to be running (``me`` always among them). A row a live worker holds is
    taken over only long after its lease (``outbox.STUCK_AFTER``: it may be in a call
    to Slack that waits out a 429); ids of neither kind, once the lease has run."""
    holders = [
        worker
        for worker in session.scalars(
            select(ScheduledMessage.claimed_by)
            .where(ScheduledMessage.status == "sending")
            .distinct()
        )
        if worker and worker != me
    ]
    dead: list[str] = []
    alive = [me]
    if not holders:
        return dead, alive
    keys = live_keys(session) if _dialect(session) == "postgresql" else None
    host = host_name()
    for worker in holders:
        parsed = parse(worker)
        if parsed is None:
            continue
        if parsed.key is not None:
            if keys is not None:
                (alive if parsed.key in keys else dead).append(worker)
        elif str(WorkerId(host, parsed.pid, parsed.start)) == worker:
            (alive if process_start(parsed.pid) == parsed.start else dead).append(worker)
    return dead, alive


def release_dead(session: Session, *, me: str) -> int:
    """Hand the ``sending`` rows of dead workers back (pending, due as they were), so
    this pass claims them now rather than after their lease. Returns how many."""
    return release(session, dead=dead_workers(session, me=me))


def release(session: Session, *, dead: list[str]) -> int:
    """``release_dead`` for workers already found dead (``dead_workers``)."""
    if not dead:
        return 0
    result = session.execute(
        update(ScheduledMessage)
        .where(ScheduledMessage.status == "sending", ScheduledMessage.claimed_by.in_(dead))
        .values(status="pending", claimed_by=None, lease_until=None, last_error=RELEASED)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        logger.warning("released %d messages claimed by stopped workers %s", result.rowcount, dead)
        notify(session)
    return result.rowcount


def notify(executor: Session | Connection) -> None:
    """PostgreSQL: tell listening workers that rows are due, when this transaction
    commits (NOTIFY is transactional: a rollback sends nothing). SQLite: nothing; its
    workers poll."""
    if _dialect(executor) == "postgresql":
        executor.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
