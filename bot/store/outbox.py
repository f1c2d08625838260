"""The durable outbox: planning, claiming and settling scheduled messages.

One code path serves SQLite and PostgreSQL. The claim is a single
``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``: on
PostgreSQL concurrent workers skip each other's rows; on SQLite the statement
runs inside ``BEGIN IMMEDIATE``, so claims are serialised and just as atomic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.store.models import ScheduledMessage, Workspace

# How long a claimed row belongs to its worker before another may take it over.
LEASE = timedelta(minutes=5)


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
    postgres = connection.dialect.name == "postgresql"
    # One cached statement run as executemany: building a VALUES list per chunk
    # defeats SQLAlchemy's statement cache and costs more than the database does.
    statement = (pg_insert if postgres else sqlite_insert)(ScheduledMessage.__table__)
    statement = statement.on_conflict_do_nothing(index_elements=["key"])
    if not postgres:
        return connection.execute(statement, rows).rowcount
    # psycopg reports no row count for a batched insert, and RETURNING would more
    # than double its cost; the keys that already exist tell the same thing.
    keys = [row["key"] for row in rows]
    existing = connection.scalar(
        select(func.count())
        .where(ScheduledMessage.key == func.any(bindparam("keys")))
        .select_from(ScheduledMessage),
        {"keys": keys},
    )
    connection.execute(statement, rows)
    return len(rows) - int(existing or 0)


def claim_due(
    session: Session, *, now: datetime, worker: str, limit: int = 100
) -> list[ClaimedMessage]:
    """Take up to ``limit`` due messages (and any whose lease ran out) for this worker.

    Nothing is taken for a workspace that is paused or uninstalled (a ``workspaces``
    row): its held rows wait, and so does whatever was planned for it meanwhile.
    """
    due = (
        select(ScheduledMessage.id)
        .where(
            or_(
                and_(ScheduledMessage.status == "pending", ScheduledMessage.due_at <= now),
                and_(ScheduledMessage.status == "sending", ScheduledMessage.lease_until < now),
            ),
            ~exists().where(Workspace.team_id == ScheduledMessage.team_id),
        )
        .order_by(ScheduledMessage.due_at, ScheduledMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    statement = (
        update(ScheduledMessage)
        .where(ScheduledMessage.id.in_(due))
        .values(
            status="sending",
            claimed_by=worker,
            lease_until=now + LEASE,
            attempts=ScheduledMessage.attempts + 1,
        )
        .returning(
            ScheduledMessage.id,
            ScheduledMessage.team_id,
            ScheduledMessage.key,
            ScheduledMessage.kind,
            ScheduledMessage.recipient,
            ScheduledMessage.due_at,
            ScheduledMessage.pair_id,
            ScheduledMessage.meeting_id,
            ScheduledMessage.payload,
            ScheduledMessage.attempts,
        )
        .execution_options(synchronize_session=False)
    )
    claimed = [ClaimedMessage(**row._mapping) for row in session.execute(statement)]
    claimed.sort(key=lambda m: (m.due_at, m.id))
    return claimed


def _settle(session: Session | Connection, message_id: int, worker: str, **values: Any) -> bool:
    """Change a row this worker still holds; False if the lease was lost meanwhile."""
    result = session.execute(
        update(ScheduledMessage)
        .where(
            ScheduledMessage.id == message_id,
            ScheduledMessage.status == "sending",
            ScheduledMessage.claimed_by == worker,
        )
        .values(lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def mark_sent(
    session: Session | Connection,
    *,
    message_id: int,
    worker: str,
    now: datetime,
    channel_id: str,
    ts: str,
) -> bool:
    return _settle(
        session,
        message_id,
        worker,
        status="sent",
        sent_at=now,
        channel_id=channel_id,
        message_ts=ts,
        last_error=None,
    )


def discard(session: Session, *, message_id: int, worker: str) -> bool:
    """Delete a row this worker holds: done, and nothing about it is worth keeping."""
    result = session.execute(
        delete(ScheduledMessage)
        .where(
            ScheduledMessage.id == message_id,
            ScheduledMessage.status == "sending",
            ScheduledMessage.claimed_by == worker,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def mark_retry(
    session: Session, *, message_id: int, worker: str, due_at: datetime, error: str
) -> bool:
    return _settle(
        session, message_id, worker, status="pending", due_at=due_at, last_error=error[:255]
    )


def mark_failed(session: Session, *, message_id: int, worker: str, error: str) -> bool:
    return _settle(session, message_id, worker, status="failed", last_error=error[:255])


def mark_skipped(session: Session, *, message_id: int, worker: str, reason: str) -> bool:
    return _settle(session, message_id, worker, status="cancelled", last_error=reason[:255])


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
    session.execute(
        update(ScheduledMessage)
        .where(*held, ScheduledMessage.due_at < stale_before)
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )
    result = session.execute(
        update(ScheduledMessage)
        .where(*held)
        .values(status="pending")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


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
    if kinds is not None:
        conditions.append(ScheduledMessage.kind.in_(kinds))
    if recipient is not None:
        conditions.append(ScheduledMessage.recipient == recipient)
    result = session.execute(
        update(ScheduledMessage)
        .where(*conditions)
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def sent_poll(
    session: Session, *, team_id: str, user_id: str, pair_id: int, meeting_id: int | None
) -> tuple[str, str] | None:
    """Where the bot posted this person's poll for this meeting (or the pair's closing
    poll): the only message their feedback may update in place."""
    query = select(ScheduledMessage.channel_id, ScheduledMessage.message_ts).where(
        ScheduledMessage.team_id == team_id,
        ScheduledMessage.recipient == user_id,
        ScheduledMessage.pair_id == pair_id,
        ScheduledMessage.status == "sent",
        ScheduledMessage.message_ts.is_not(None),
    )
    if meeting_id is None:
        query = query.where(ScheduledMessage.kind == "closing_poll")
    else:
        query = query.where(
            ScheduledMessage.kind == "feedback", ScheduledMessage.meeting_id == meeting_id
        )
    row = session.execute(query.order_by(ScheduledMessage.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row is not None and row[0] else None


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
