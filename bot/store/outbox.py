"""The durable outbox: planning, claiming and settling scheduled messages.

One code path serves SQLite and PostgreSQL. The claim is a single
``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``: on
PostgreSQL concurrent workers skip each other's rows; on SQLite the statement
runs inside ``BEGIN IMMEDIATE``, so claims are serialised and just as atomic.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.store import workers
from bot.store.db import Prepared, core, execute_arrays
from bot.store.models import ScheduledMessage, Workspace

# How long a claimed row belongs to its worker before another may take it over.
LEASE = timedelta(minutes=5)
# A running worker's claim outlives its lease by this much before another pass takes it
# over: its lanes renew the leases of rows they reach late (``renew_lease``), so only a
# row left claimed by a fault (a database error while settling it) waits this long.
STUCK_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class PlannedMessage:
    team_id: str
    key: str
    kind: str
    recipient: str
    due_at: datetime
    pair_id: int | None = None
    meeting_id: int | None = None
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class ClaimedMessage:
    id: int
    team_id: str
    key: str
    kind: str
    recipient: str
    due_at: datetime
    pair_id: int | None
    meeting_id: int | None
    payload: dict[str, Any]
    attempts: int
    lease_until: datetime | None = None  # as claimed (``renew_lease`` moves it on)


# What a finished (sent, skipped or cancelled) row of these kinds keeps; the kinds are
# bot/outgoing.py's. The rest of its payload (a person's words or answers: prep notes
# forwarded to the mentor, a rating or a check-in score shown in place, an exit choice,
# and what a delivery added in memory) lives in the row only until then: their own
# tables keep the latest answer, the outbox no history of them. A failed row keeps it
# for an operator's retry, until it is cancelled.
KEPT_AFTER_DELIVERY: dict[str, frozenset[str]] = {
    "prep_shared": frozenset({"mentee_id", "starts_at"}),  # mentee_id: forget-me's author
    "poll_update": frozenset({"channel", "ts", "pair_id", "meeting_id", "partner_id"}),
    "checkin_update": frozenset({"channel", "ts", "pair_id", "partner_id"}),
    "exit_answered": frozenset({"channel", "ts", "pair_id", "partner_id"}),
}


def kept_after_delivery(kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """The payload a finished row of ``kind`` keeps; None: all of it."""
    kept = KEPT_AFTER_DELIVERY.get(kind)
    if kept is None:
        return None
    return {field: value for field, value in payload.items() if field in kept}


def cancel_where(
    session: Session | Connection,
    *conditions: Any,
    kinds: Sequence[str] | None = None,
    **values: Any,
) -> int:
    """Cancel the rows matching ``conditions`` (and of ``kinds``, if given), with ``values``
    set too: the one way rows are cancelled in bulk, so that what they carried of
    someone's words goes with them. (No look for such rows when ``kinds`` has none: an
    Accept cancels only its invitation.)"""
    if kinds is not None:
        conditions = (*conditions, ScheduledMessage.kind.in_(kinds))
    wordy = [kind for kind in KEPT_AFTER_DELIVERY if kinds is None or kind in kinds]
    connection = core(session)  # Core on the table: none of the ORM's bulk handling
    carrying = (
        connection.execute(
            select(_OUTBOX.c.id, _OUTBOX.c.kind, _OUTBOX.c.payload).where(
                *conditions, _OUTBOX.c.kind.in_(wordy)
            )
        ).all()
        if wordy
        else []
    )
    for row_id, kind, payload in carrying:
        connection.execute(
            _OUTBOX.update()
            .where(_OUTBOX.c.id == row_id)
            .values(payload=kept_after_delivery(kind, payload or {}))
        )
    result = connection.execute(
        _OUTBOX.update().where(*conditions).values(status="cancelled", **values)
    )
    return result.rowcount


# What ``plan`` writes of each row; the other columns start empty.
_PLANNED_COLUMNS = (
    "team_id",
    "key",
    "kind",
    "recipient",
    "due_at",
    "pair_id",
    "meeting_id",
    "payload",
    "status",
    "attempts",
    "created_at",
)


def plan(session: Session, messages: Iterable[PlannedMessage], *, now: datetime) -> int:
    """Insert the messages whose key is new; returns how many were new."""
    rows = [
        {
            "team_id": m.team_id,
            "key": m.key,
            "kind": m.kind,
            "recipient": m.recipient,
            "due_at": m.due_at,
            "pair_id": m.pair_id,
            "meeting_id": m.meeting_id,
            "payload": m.payload or {},
            "status": "pending",
            "attempts": 0,
            "created_at": now,
        }
        for m in messages
    ]
    if not rows:
        return 0
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        # One statement compiled once, run as executemany on the driver's cursor:
        # a request's one row costs SQLite microseconds and SQLAlchemy's execution
        # ten times that; a VALUES list per chunk would defeat any statement cache.
        return _SQLITE_PLAN.execute_many(connection, rows)
    # One statement over arrays, one round trip however many rows (a planning wave
    # of thousands, or a request's one), and its row count says how many were new.
    new = execute_arrays(connection, _PG_PLAN_MANY, _as_arrays(rows))
    if new and any(row["due_at"] <= now for row in rows):
        # Due now: listening workers are told when this transaction commits.
        workers.notify(connection)
    return new


_SQLITE_PLAN = Prepared(
    sqlite_insert(ScheduledMessage.__table__).on_conflict_do_nothing(index_elements=["key"]),
    columns=_PLANNED_COLUMNS,
)

# PostgreSQL's many-row plan: the columns as arrays, unnested into rows. ``payload`` is
# sent as JSON text and cast, so psycopg adapts nine plain arrays.
_PG_PLAN_MANY = (
    "INSERT INTO scheduled_messages (team_id, key, kind, recipient, due_at, pair_id, "
    "meeting_id, payload, status, attempts, created_at) "
    "SELECT v.team_id, v.key, v.kind, v.recipient, v.due_at, v.pair_id, v.meeting_id, "
    "CAST(v.payload AS json), 'pending', 0, v.created_at FROM unnest("
    "CAST(%(team_id)b AS text[]), CAST(%(key)b AS text[]), CAST(%(kind)b AS text[]), "
    "CAST(%(recipient)b AS text[]), CAST(%(due_at)b AS timestamptz[]), "
    "CAST(%(pair_id)b AS integer[]), CAST(%(meeting_id)b AS integer[]), "
    "CAST(%(payload)b AS text[]), CAST(%(created_at)b AS timestamptz[])) "
    "AS v(team_id, key, kind, recipient, due_at, pair_id, meeting_id, payload, created_at) "
    "ON CONFLICT (key) DO NOTHING"
)
# The columns sent as arrays of their own: payload goes as JSON text, and every new
# row is pending with no attempts.
_PLAN_COLUMNS = tuple(c for c in _PLANNED_COLUMNS if c not in ("payload", "status", "attempts"))


def _as_arrays(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    arrays: dict[str, list[Any]] = {c: [row[c] for row in rows] for c in _PLAN_COLUMNS}
    arrays["payload"] = [json.dumps(row["payload"]) for row in rows]
    for column in ("due_at", "created_at"):
        for value in arrays[column]:
            if value.tzinfo is None:  # as UTCDateTime refuses them
                raise ValueError("naive datetime stored; pass an aware UTC datetime")
    return arrays


def any_due(session: Session | Connection, *, now: datetime, alive: Sequence[str] = ()) -> bool:
    """Whether a claim at ``now`` would find anything: one indexed read, no lock. (Ordered
    as the claim is: without the order SQLite scans the table instead of the index.)"""
    params = {"now": now, "alive": list(alive), "stuck_before": now - STUCK_AFTER}
    return core(session).execute(_ANY_DUE, params).first() is not None


# The sender loop looks for due rows after every row it finishes, and claims them:
# built once with bind parameters, since building SQLAlchemy's cache key for a fresh
# statement costs more than SQLite's answer.
_OUTBOX = ScheduledMessage.__table__
_DUE_ORDER = (_OUTBOX.c.due_at, _OUTBOX.c.id)
_CLAIMABLE = and_(
    or_(
        and_(_OUTBOX.c.status == "pending", _OUTBOX.c.due_at <= bindparam("now")),
        and_(
            _OUTBOX.c.status == "sending",
            _OUTBOX.c.lease_until < bindparam("now"),
            # A running worker's (``workers.claimants``) only long after: it may be in
            # the very call, or about to renew the lease as its lane reaches the row.
            or_(
                _OUTBOX.c.claimed_by.not_in(bindparam("alive", expanding=True)),
                _OUTBOX.c.lease_until < bindparam("stuck_before"),
            ),
        ),
    ),
    ~exists().where(Workspace.__table__.c.team_id == _OUTBOX.c.team_id),
)
_ANY_DUE = select(_OUTBOX.c.id).where(_CLAIMABLE).order_by(*_DUE_ORDER).limit(1)
_CLAIM = (
    _OUTBOX.update()
    .where(
        _OUTBOX.c.id.in_(
            select(_OUTBOX.c.id)
            .where(_CLAIMABLE)
            .order_by(*_DUE_ORDER)
            .limit(bindparam("most"))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
    .values(
        status="sending",
        claimed_by=bindparam("by"),
        lease_until=bindparam("lease_to"),
        attempts=_OUTBOX.c.attempts + 1,
    )
    .returning(
        _OUTBOX.c.id,
        _OUTBOX.c.team_id,
        _OUTBOX.c.key,
        _OUTBOX.c.kind,
        _OUTBOX.c.recipient,
        _OUTBOX.c.due_at,
        _OUTBOX.c.pair_id,
        _OUTBOX.c.meeting_id,
        _OUTBOX.c.payload,
        _OUTBOX.c.attempts,
        _OUTBOX.c.lease_until,
    )
)


def count_due(session: Session | Connection, *, now: datetime, alive: Sequence[str] = ()) -> int:
    """How many rows a claim at ``now`` would find (what a stopped pass left unsent)."""
    counted = select(func.count()).select_from(_OUTBOX).where(_CLAIMABLE)
    params = {"now": now, "alive": list(alive), "stuck_before": now - STUCK_AFTER}
    return int(core(session).execute(counted, params).scalar_one())


def claim_due(
    session: Session,
    *,
    now: datetime,
    worker: str,
    limit: int = 100,
    alive: Sequence[str] = (),
) -> list[ClaimedMessage]:
    """Take up to ``limit`` due messages (and any whose lease ran out, unless a worker
    in ``alive`` holds it) for this worker.

    Nothing is taken for a workspace that is paused or uninstalled (a ``workspaces``
    row): its held rows wait, and so does whatever was planned for it meanwhile.
    """
    rows = core(session).execute(
        _CLAIM,
        {
            "now": now,
            "most": limit,
            "by": worker,
            "lease_to": now + LEASE,
            "alive": [worker, *alive],
            "stuck_before": now - STUCK_AFTER,
        },
    )
    claimed = [ClaimedMessage(**row._mapping) for row in rows]
    claimed.sort(key=lambda m: (m.due_at, m.id))
    return claimed


def _held(message: Any, worker: Any) -> tuple[Any, ...]:
    """The row (or rows) as long as this worker still holds its claim: every change a
    worker makes to a row it claimed is conditional on this, so a lease lost meanwhile
    (another worker took the row over) changes nothing. ``message`` and ``worker`` may be
    bind parameters, for statements built once (``_HELD_ROW``)."""
    ids = _OUTBOX.c.id.in_(message) if isinstance(message, list) else (_OUTBOX.c.id == message)
    return (ids, _OUTBOX.c.status == "sending", _OUTBOX.c.claimed_by == worker)


# ``_held`` for one row, with bind parameters (``row_id``, ``by``).
_HELD_ROW = _held(bindparam("row_id"), bindparam("by"))


_RENEW = _OUTBOX.update().where(*_HELD_ROW).values(lease_until=bindparam("lease_to"))


def renew_lease(
    session: Session | Connection, *, message_id: int, worker: str, now: datetime
) -> bool:
    """A lane reaches a row late (Slack's pace, 429s): its lease starts again, or False
    when the claim was lost meanwhile (the row is another worker's: not to be sent)."""
    result = core(session).execute(
        _RENEW, {"row_id": message_id, "by": worker, "lease_to": now + LEASE}
    )
    return result.rowcount == 1


def _settle(
    session: Session | Connection,
    message_id: int,
    worker: str,
    *,
    payload: dict[str, Any] | None = None,
    **values: Any,
) -> bool:
    """Change a row this worker still holds; False if the lease was lost meanwhile. With
    ``payload``, what the row keeps of its own (``kept_after_delivery``)."""
    if payload is not None:
        values["payload"] = payload
    connection = core(session)
    plain = {name: v for name, v in values.items() if not isinstance(v, ColumnElement)}
    statement = _settle_statement(frozenset(plain))
    if len(plain) < len(values):  # a change computed in SQL (attempts - 1)
        statement = statement.values(
            {n: v for n, v in values.items() if isinstance(v, ColumnElement)}
        )
    params = {f"to_{name}": value for name, value in plain.items()}
    result = connection.execute(statement, {"row_id": message_id, "by": worker, **params})
    return result.rowcount == 1


@functools.cache
def _settle_statement(columns: frozenset[str]) -> Any:
    """``_settle``'s UPDATE for this set of columns, built once: every row the sender
    delivers is settled by one of a handful of these, and building SQLAlchemy's cache
    key for a fresh statement costs more than SQLite's answer. (A Core statement on the
    table: the rows the ORM may hold are never a settle's business.)"""
    return (
        _OUTBOX.update()
        .where(*_HELD_ROW)
        .values(lease_until=None, **{name: bindparam(f"to_{name}") for name in columns})
    )


def mark_sent(
    session: Session | Connection,
    *,
    message_id: int,
    worker: str,
    now: datetime,
    channel_id: str,
    ts: str,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Sent, where Slack put it; with ``payload``, what the row keeps of its own."""
    return _settle(
        session,
        message_id,
        worker,
        status="sent",
        sent_at=now,
        channel_id=channel_id,
        message_ts=ts,
        last_error=None,
        payload=payload,
    )


# ``last_error`` of a row forget-me emptied while its worker was sending it.
FORGOTTEN_IN_FLIGHT = "forgotten while being sent"


def forget_in_flight(row: ScheduledMessage, *, tombstone: str) -> None:
    """forget-me, for a row a worker is sending right now: emptied (nothing in it names
    anyone) and cancelled, its claim kept, so that its worker's settle changes nothing
    and finds it instead (``take_forgotten``), with where Slack put the message."""
    row.status = "cancelled"
    row.key = f"forgotten:{uuid.uuid4().hex}"
    row.recipient = tombstone
    row.payload = {}
    row.pair_id = row.meeting_id = None
    row.last_error = FORGOTTEN_IN_FLIGHT


def take_forgotten(session: Session | Connection, *, message_id: int, worker: str) -> bool:
    """The row this worker was sending, emptied by forget-me meanwhile: deleted; True if
    so (a row taken over by another worker, or settled otherwise, is not)."""
    result = session.execute(
        delete(ScheduledMessage).where(
            ScheduledMessage.id == message_id,
            ScheduledMessage.claimed_by == worker,
            ScheduledMessage.status == "cancelled",
            ScheduledMessage.last_error == FORGOTTEN_IN_FLIGHT,
        )
    )
    return result.rowcount == 1


def mark_done(
    session: Session | Connection, *, message_id: int, worker: str, now: datetime
) -> bool:
    """Sent, for a row whose delivery posted no message of its own (an in-place update,
    a coordinator's request carried out)."""
    return _settle(session, message_id, worker, status="sent", sent_at=now, last_error=None)


# ``last_error`` of a row deferred until its pair's group DM exists (``defer``).
WAITING_FOR_GROUP_DM = "waiting for the pair's group DM"


def release_group_waiters(session: Session, *, pair_id: int, now: datetime) -> int:
    """The pair's group DM exists now: the rows deferred until it did are due at once,
    rather than at their next look (a kickoff tried again an hour later had them wait
    as long)."""
    result = session.execute(
        update(ScheduledMessage)
        .where(
            ScheduledMessage.pair_id == pair_id,
            ScheduledMessage.status == "pending",
            ScheduledMessage.last_error == WAITING_FOR_GROUP_DM,
            ScheduledMessage.due_at > now,
        )
        .values(due_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def defer(
    session: Session | Connection, *, message_id: int, worker: str, due_at: datetime, reason: str
) -> bool:
    """Back to pending until ``due_at`` without counting an attempt: the row waits for
    something else first (a group DM waits for the pair's kickoff)."""
    return _settle(
        session,
        message_id,
        worker,
        status="pending",
        due_at=due_at,
        attempts=ScheduledMessage.attempts - 1,
        last_error=reason[:255],
    )


# A row not yet claimed: due, or held with its workspace ("held") or person ("paused").
WAITING = ("pending", "held", "paused")


def release_waiting(session: Session, *, key: str, now: datetime, payload: dict[str, Any]) -> bool:
    """A row written to wait for something a listener does after its ack (the modal
    ``/mentor match`` opens): ``payload`` added, due now. False if it is no longer
    waiting (its wait ran out and it went without). A row held meanwhile (its workspace
    or its person paused) is still waiting: it goes, with ``payload``, when released."""
    row = session.scalars(
        select(ScheduledMessage)
        .where(ScheduledMessage.key == key, ScheduledMessage.status.in_(WAITING))
        .with_for_update()
    ).one_or_none()
    if row is None:
        return False
    row.payload = {**(row.payload or {}), **payload}
    row.due_at = now
    workers.notify(session)
    return True


def wait_for(
    session: Session | Connection,
    *,
    pair_id: int,
    kind: str,
    still: tuple[str, ...] = ("pending", "sending", "paused", "held"),
) -> datetime | None:
    """When the pair's latest row of ``kind`` is next tried, while it is still to be
    delivered (by default: pending, being sent, or held with its person or workspace;
    ``still`` narrows it); None once it was sent or will never be (cancelled, failed),
    or if there is none."""
    row = session.execute(
        select(ScheduledMessage.status, ScheduledMessage.due_at, ScheduledMessage.lease_until)
        .where(ScheduledMessage.pair_id == pair_id, ScheduledMessage.kind == kind)
        .order_by(ScheduledMessage.id.desc())
        .limit(1)
    ).first()
    if row is None or row.status not in still:
        return None
    return row.lease_until if row.status == "sending" and row.lease_until else row.due_at


def refused_so_far(session: Session | Connection, *, pair_id: int, kind: str) -> str | None:
    """Why Slack refused the pair's latest row of ``kind`` the last time it was tried,
    while it is still to be tried again; None if it never was, or went, or never will."""
    row = session.execute(
        select(ScheduledMessage.status, ScheduledMessage.last_error)
        .where(ScheduledMessage.pair_id == pair_id, ScheduledMessage.kind == kind)
        .order_by(ScheduledMessage.id.desc())
        .limit(1)
    ).first()
    return row.last_error if row is not None and row.status in ("pending", "sending") else None


def forget_payload(session: Session | Connection, *, message_id: int) -> None:
    """Drop a sent row's payload: what it carried (a my-data export) is not kept."""
    session.execute(
        update(ScheduledMessage)
        .where(ScheduledMessage.id == message_id)
        .values(payload={})
        .execution_options(synchronize_session=False)
    )


def mark_answered(
    session: Session, *, team_id: str, meeting_id: int, user_id: str, kind: str
) -> None:
    """Note on a person's prompts of a meeting that they answered it (shown on Home)."""
    for row in session.scalars(
        select(ScheduledMessage).where(
            ScheduledMessage.team_id == team_id,
            ScheduledMessage.meeting_id == meeting_id,
            ScheduledMessage.recipient == user_id,
            ScheduledMessage.kind == kind,
        )
    ):
        row.payload = {**row.payload, "answered": True}


def discard(session: Session, *, message_id: int, worker: str) -> bool:
    """Delete a row this worker holds: done, and nothing about it is worth keeping."""
    result = core(session).execute(_DISCARD, {"row_id": message_id, "by": worker})
    return result.rowcount == 1


_DISCARD = _OUTBOX.delete().where(*_HELD_ROW)


def release_key(session: Session | Connection, *, message_id: int, worker: str) -> bool:
    """Give up the dedupe key of a row this worker holds, keeping the row claimed: a
    message built from the state at send time (an App Home refresh) frees its key before
    reading, so a change committed meanwhile plans a new row instead of being lost
    against this one. The row keeps a key of its own (``<key>#<id>``)."""
    result = session.execute(
        update(ScheduledMessage)
        .where(
            *_held(message_id, worker),
            ~ScheduledMessage.key.contains("#"),
        )
        .values(key=ScheduledMessage.key + f"#{message_id}")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def mark_retry(
    session: Session,
    *,
    message_id: int,
    worker: str,
    due_at: datetime,
    error: str,
    counted: bool = True,
) -> bool:
    """Pending again at ``due_at``; not ``counted`` (Slack's rate limit, which says
    nothing of the message), the claim is not an attempt either."""
    uncount = {} if counted else {"attempts": ScheduledMessage.attempts - 1}
    return _settle(
        session,
        message_id,
        worker,
        status="pending",
        due_at=due_at,
        last_error=error[:255],
        **uncount,
    )


def hand_back(session: Session | Connection, *, message_ids: Sequence[int], worker: str) -> int:
    """Rows this worker claimed and did not start, because it is stopping: pending
    again, due as they were, the claim not counted as an attempt. Listening workers
    are told, so they take them at once."""
    if not message_ids:
        return 0
    result = session.execute(
        update(ScheduledMessage)
        .where(
            *_held(list(message_ids), worker),
        )
        .values(
            status="pending",
            claimed_by=None,
            lease_until=None,
            attempts=ScheduledMessage.attempts - 1,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        workers.notify(session)
    return result.rowcount


def mark_failed(session: Session, *, message_id: int, worker: str, error: str) -> bool:
    return _settle(session, message_id, worker, status="failed", last_error=error[:255])


def mark_skipped(
    session: Session,
    *,
    message_id: int,
    worker: str,
    reason: str,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Cancelled at send time; with ``payload``, what the row keeps of its own."""
    return _settle(
        session,
        message_id,
        worker,
        status="cancelled",
        last_error=reason[:255],
        payload=payload,
    )


def pause_message(session: Session, *, message_id: int, worker: str, reason: str) -> bool:
    return _settle(session, message_id, worker, status="paused", last_error=reason[:255])


def hold_message(session: Session, *, message_id: int, worker: str, reason: str) -> bool:
    """The workspace's token was refused: the row waits for the workspace to resume."""
    return _settle(session, message_id, worker, status="held", last_error=reason[:255])


def pause_recipient(session: Session, *, team_id: str, recipient: str, reason: str) -> int:
    """Hold the pending messages to a person Slack refused, without failing the pass.

    Rows another worker is sending right now stay theirs to settle.
    """
    result = session.execute(
        update(ScheduledMessage)
        .where(
            ScheduledMessage.team_id == team_id,
            ScheduledMessage.recipient == recipient,
            ScheduledMessage.status == "pending",
        )
        .values(status="paused", last_error=reason[:255], lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def resume_recipient(
    session: Session, *, team_id: str, recipient: str, stale_before: datetime
) -> int:
    """Release a person's held messages; ones that went stale meanwhile are dropped."""
    held = (
        ScheduledMessage.team_id == team_id,
        ScheduledMessage.recipient == recipient,
        ScheduledMessage.status == "paused",
    )
    cancel_where(session, *held, ScheduledMessage.due_at < stale_before)
    result = session.execute(
        update(ScheduledMessage)
        .where(*held)
        .values(status="pending")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def first_sent(
    session: Session, *, team_id: str, meeting_id: int, kinds: Sequence[str]
) -> datetime | None:
    """When the first message of ``kinds`` about ``meeting_id`` was sent, if one was."""
    return session.scalar(
        select(func.min(ScheduledMessage.sent_at)).where(
            ScheduledMessage.team_id == team_id,
            ScheduledMessage.meeting_id == meeting_id,
            ScheduledMessage.kind.in_(kinds),
            ScheduledMessage.status == "sent",
        )
    )


def drop_pending(session: Session, *, team_id: str, recipient: str, kinds: Sequence[str]) -> int:
    """Delete rows of ``kinds`` to ``recipient`` not yet sent. Unlike cancelling, this
    frees their keys: a tip planned again for the same day (tips off, then on before
    it was due) is a new row, not a duplicate of a cancelled one."""
    result = session.execute(
        delete(ScheduledMessage)
        .where(
            ScheduledMessage.team_id == team_id,
            ScheduledMessage.recipient == recipient,
            ScheduledMessage.kind.in_(kinds),
            ScheduledMessage.status.in_(("pending", "paused")),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def cancel_pending(
    session: Session,
    *,
    team_id: str,
    pair_id: int | None = None,
    meeting_id: int | None = None,
    kinds: Sequence[str] | None = None,
    recipient: str | None = None,
) -> int:
    conditions = [
        ScheduledMessage.team_id == team_id,
        ScheduledMessage.status.in_(("pending", "paused")),
    ]
    if pair_id is not None:
        conditions.append(ScheduledMessage.pair_id == pair_id)
    if meeting_id is not None:
        conditions.append(ScheduledMessage.meeting_id == meeting_id)
    if recipient is not None:
        conditions.append(ScheduledMessage.recipient == recipient)
    return cancel_where(session, *conditions, kinds=kinds)


def _sent_poll(team_id: str, user_id: str, pair_id: int, meeting_id: int | None) -> list[Any]:
    """Which row is this person's sent poll for this meeting (or the pair's closing
    poll): the conditions both readers below share."""
    conditions = [
        ScheduledMessage.team_id == team_id,
        ScheduledMessage.recipient == user_id,
        ScheduledMessage.pair_id == pair_id,
        ScheduledMessage.status == "sent",
    ]
    if meeting_id is None:
        conditions.append(ScheduledMessage.kind == "closing_poll")
    else:
        conditions += [
            ScheduledMessage.kind == "feedback",
            ScheduledMessage.meeting_id == meeting_id,
        ]
    return conditions


def sent_poll(
    session: Session, *, team_id: str, user_id: str, pair_id: int, meeting_id: int | None
) -> tuple[str, str] | None:
    """Where the bot posted this person's poll for this meeting (or the pair's closing
    poll): the only message their feedback may update in place."""
    row = session.execute(
        select(ScheduledMessage.channel_id, ScheduledMessage.message_ts)
        .where(
            *_sent_poll(team_id, user_id, pair_id, meeting_id),
            ScheduledMessage.message_ts.is_not(None),
        )
        .order_by(ScheduledMessage.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None and row[0] else None


def poll_asked_about(
    session: Session, *, team_id: str, user_id: str, pair_id: int, meeting_id: int
) -> datetime | None:
    """The meeting time this person's sent poll asked about (a meeting may have moved
    since), or None if no poll for it went to them."""
    payload = session.scalar(
        select(ScheduledMessage.payload)
        .where(*_sent_poll(team_id, user_id, pair_id, meeting_id))
        .order_by(ScheduledMessage.id.desc())
        .limit(1)
    )
    asked = (payload or {}).get("starts_at")
    return datetime.fromisoformat(asked) if isinstance(asked, str) else None


def sent_to(
    session: Session, *, team_id: str, user_id: str, kinds: Sequence[str], limit: int
) -> list[ScheduledMessage]:
    """The latest messages of these kinds sent to the person, newest first."""
    return list(
        session.scalars(
            select(ScheduledMessage)
            .where(
                ScheduledMessage.team_id == team_id,
                ScheduledMessage.recipient == user_id,
                ScheduledMessage.status == "sent",
                ScheduledMessage.kind.in_(kinds),
            )
            .order_by(ScheduledMessage.due_at.desc())
            .limit(limit)
        )
    )


def count_failed(session: Session, *, team_id: str) -> int:
    """Messages given up on in the workspace (coordinators see how many, never which)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(ScheduledMessage)
            .where(ScheduledMessage.team_id == team_id, ScheduledMessage.status == "failed")
        )
        or 0
    )


def get_message(session: Session, *, team_id: str, message_id: int) -> ScheduledMessage | None:
    return session.scalars(
        select(ScheduledMessage).where(
            ScheduledMessage.team_id == team_id, ScheduledMessage.id == message_id
        )
    ).first()


def counts_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(ScheduledMessage.status, func.count()).group_by(ScheduledMessage.status)
    )
    return {status: count for status, count in rows}


# What operators see: the scrape-time gauges of /metrics and `mentor-bot outbox`.
# Rows in these states are still the outbox's business; sent and cancelled are history.
OPEN_STATUSES = ("pending", "sending", "failed", "held", "paused")
# A pending row only after Slack refused it once (``retry_rows``).
RETRYABLE = ("failed", "held", "paused", "pending")
CANCELLABLE = ("pending", "failed", "held", "paused")


@dataclass(frozen=True)
class Depth:
    """Open rows of one kind in one status; ``due`` of them claimable now, the oldest
    of those due at ``oldest_due_at``."""

    kind: str
    status: str
    count: int
    due: int
    oldest_due_at: datetime | None


def depth(session: Session | Connection, *, now: datetime) -> list[Depth]:
    """The outbox's open rows by kind and status, in one grouped query (the
    ``(status, due_at)`` index keeps it off the sent history). A row counts as due
    when a pass would claim it now: pending and due, or sending with its lease run
    out, and its workspace not paused or uninstalled."""
    m = ScheduledMessage
    claimable = and_(
        Workspace.id.is_(None),
        or_(
            and_(m.status == "pending", m.due_at <= now),
            and_(m.status == "sending", m.lease_until < now),
        ),
    )
    rows = session.execute(
        select(
            m.kind,
            m.status,
            func.count(),
            func.count(case((claimable, 1))),
            func.min(case((claimable, m.due_at))),
        )
        .select_from(m)
        .outerjoin(Workspace, Workspace.team_id == m.team_id)
        .where(m.status.in_(OPEN_STATUSES))
        .group_by(m.kind, m.status)
    )
    return [Depth(kind, status, count, due, oldest) for kind, status, count, due, oldest in rows]


@dataclass(frozen=True)
class Row:
    """One row as `mentor-bot outbox list` shows it: never its payload."""

    id: int
    team_id: str
    kind: str
    recipient: str
    due_at: datetime
    status: str
    attempts: int
    last_error: str | None


def list_rows(
    session: Session,
    *,
    statuses: Sequence[str] = OPEN_STATUSES,
    team_id: str | None = None,
    kind: str | None = None,
    limit: int = 50,
) -> list[Row]:
    m = ScheduledMessage
    query = select(
        m.id, m.team_id, m.kind, m.recipient, m.due_at, m.status, m.attempts, m.last_error
    ).where(m.status.in_(statuses))
    if team_id is not None:
        query = query.where(m.team_id == team_id)
    if kind is not None:
        query = query.where(m.kind == kind)
    rows = session.execute(query.order_by(m.due_at, m.id).limit(limit))
    return [Row(*row) for row in rows]


def open_kinds(session: Session) -> tuple[str, ...]:
    """The kinds of the rows still in the outbox's hands (``OPEN_STATUSES``)."""
    return tuple(
        session.scalars(
            select(ScheduledMessage.kind)
            .where(ScheduledMessage.status.in_(OPEN_STATUSES))
            .distinct()
            .order_by(ScheduledMessage.kind)
        )
    )


class ChangeRefused(Exception):
    """An operator's retry or cancel names rows that do not exist or are in the wrong
    state; nothing was changed. The message is one line."""


def _take(session: Session, ids: Sequence[int], allowed: Sequence[str], verb: str) -> list[int]:
    """Lock the named rows and check them all before anything changes."""
    wanted = sorted(set(ids))
    found = dict(
        session.execute(
            select(ScheduledMessage.id, ScheduledMessage.status)
            .where(ScheduledMessage.id.in_(wanted))
            .with_for_update()
        ).all()
    )
    problems = []
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        problems.append("no outbox row " + ", ".join(missing))
    wrong = [f"row {i} is {found[i]}" for i in wanted if i in found and found[i] not in allowed]
    if wrong:
        problems.append(
            "; ".join(wrong) + f" (only {', '.join(allowed[:-1])} or {allowed[-1]} rows can be "
            f"{verb})"
        )
    if problems:
        raise ChangeRefused("; ".join(problems) + "; nothing changed")
    return wanted


def retry_rows(session: Session, *, ids: Sequence[int], now: datetime) -> int:
    """Failed, held or paused rows back to pending, due now, with a fresh set of attempts;
    and a pending row that Slack refused before, waiting for its next try (a kickoff
    refused for a missing scope, once the install is fixed), due now. A pending row never
    tried is refused: it would go early. A held row of a workspace that is still paused
    waits for it to resume."""
    wanted = _take(session, ids, RETRYABLE, "retried")
    # Attempts, not last_error: a person's paused and resumed rows keep the pause's
    # reason, tried or not.
    untried = session.scalars(
        select(ScheduledMessage.id).where(
            ScheduledMessage.id.in_(wanted),
            ScheduledMessage.status == "pending",
            ScheduledMessage.attempts == 0,
        )
    ).all()
    if untried:
        raise ChangeRefused(
            "; ".join(f"row {i} is pending and not yet tried (it goes when due)" for i in untried)
            + "; nothing changed"
        )
    session.execute(
        update(ScheduledMessage)
        .where(ScheduledMessage.id.in_(wanted), ScheduledMessage.status.in_(RETRYABLE))
        .values(status="pending", due_at=now, attempts=0, claimed_by=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return len(wanted)


def cancel_rows(session: Session, *, ids: Sequence[int]) -> int:
    """Pending, failed, held or paused rows cancelled: they will never be sent."""
    wanted = _take(session, ids, CANCELLABLE, "cancelled")
    cancel_where(
        session,
        ScheduledMessage.id.in_(wanted),
        ScheduledMessage.status.in_(CANCELLABLE),
        last_error="cancelled by an operator",
        lease_until=None,
    )
    return len(wanted)
