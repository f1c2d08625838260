"""The queries behind choosing a tip's practice at claim time and recording it as
received when it is sent (``bot.scheduling.tipchoice`` holds the rules).

Two queries per claimed batch, never one per row; the payloads chosen go back in
one executemany; on PostgreSQL "sent" and "received" are one statement.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Insert,
    Integer,
    Row,
    String,
    and_,
    bindparam,
    false,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from bot.store import outbox, received
from bot.store.models import Feedback, Pair, ScheduledMessage, TipReceived
from bot.store.outbox import ClaimedMessage

_outbox = ScheduledMessage.__table__
_SET_PAYLOAD = (
    update(_outbox)
    .where(_outbox.c.id == bindparam("row_id"))
    .values(payload=bindparam("new_payload", type_=_outbox.c.payload.type))
)


def set_payloads(session: Session, changed: Sequence[dict[str, Any]]) -> None:
    """Write the chosen payloads (``{"row_id", "new_payload"}`` each): one executemany."""
    if changed:
        session.execute(_SET_PAYLOAD, list(changed))


def received_of(
    session: Session, *, teams: Iterable[str], users: Iterable[str]
) -> Sequence[Row[Any]]:
    """(team, user, practice, cycle, last_sent_at, disliked) of these people's
    ``tips_received`` rows (the caller keeps the (team, user) pairs it asked for)."""
    return session.execute(
        select(
            TipReceived.team_id,
            TipReceived.user_id,
            TipReceived.practice_id,
            TipReceived.cycle,
            TipReceived.last_sent_at,
            TipReceived.disliked,
        ).where(TipReceived.team_id.in_(set(teams)), TipReceived.user_id.in_(set(users)))
    ).all()


def active_pairs_with_low_ratings(
    session: Session,
    *,
    teams: Iterable[str],
    users: Iterable[str],
    at_most: int,
    since: datetime,
) -> Sequence[Row[Any]]:
    """The active pairs of these people, each with any rating of ``at_most`` or less
    given to it since ``since`` (an outer join: one query; no rating, NULL columns)."""
    teams, users = set(teams), set(users)
    low = and_(
        Feedback.pair_id == Pair.id,
        Feedback.usefulness <= at_most,
        Feedback.updated_at >= since,
    )
    return session.execute(
        select(
            Pair.team_id,
            Pair.mentor_id,
            Pair.mentee_id,
            Pair.accepted_at,
            Pair.created_at,
            Feedback.user_id,
            Feedback.usefulness,
            Feedback.updated_at,
        )
        .outerjoin(Feedback, low)
        .where(
            Pair.status == "active",
            Pair.team_id.in_(teams),
            or_(Pair.mentor_id.in_(users), Pair.mentee_id.in_(users)),
        )
    ).all()


def mark_sent(
    connection: Connection,
    *,
    message: ClaimedMessage,
    worker: str,
    now: datetime,
    channel_id: str,
    ts: str,
    payload: dict[str, Any] | None = None,
) -> bool:
    """``outbox.mark_sent`` (``payload``: what the row keeps); for a tip, its practice
    recorded as received in the same transaction (only if this worker still held the row)."""
    tip_id = message.payload.get("tip_id")
    if message.kind != "tip" or tip_id is None:
        return outbox.mark_sent(
            connection,
            message_id=message.id,
            worker=worker,
            now=now,
            channel_id=channel_id,
            ts=ts,
            payload=payload,
        )
    cycle = int(message.payload.get("cycle", 0))
    if connection.dialect.name == "postgresql":
        # One round trip for both, as every tip of a 09:00 wave comes through here.
        row = connection.execute(
            _sent_and_received(),
            {
                "row_id": message.id,
                "worker": worker,
                "now": now,
                "channel_id": channel_id,
                "ts": ts,
                "practice_id": tip_id,
                "cycle": cycle,
            },
        ).first()
        return row is not None
    settled = outbox.mark_sent(
        connection, message_id=message.id, worker=worker, now=now, channel_id=channel_id, ts=ts
    )
    if settled:
        received.record(
            connection,
            team_id=message.team_id,
            user_id=message.recipient,
            practice_id=tip_id,
            cycle=cycle,
            now=now,
        )
    return settled


@functools.cache
def _sent_and_received() -> Insert:
    """PostgreSQL: ``outbox.mark_sent`` (the same columns) and ``received.record`` as one
    statement, the update in a data-modifying CTE; a row comes back only if this worker
    still held the message."""
    table = TipReceived.__table__
    sent = (
        update(_outbox)
        .where(
            _outbox.c.id == bindparam("row_id"),
            _outbox.c.status == "sending",
            _outbox.c.claimed_by == bindparam("worker"),
        )
        .values(
            status="sent",
            sent_at=bindparam("now", type_=_outbox.c.sent_at.type),
            channel_id=bindparam("channel_id"),
            message_ts=bindparam("ts"),
            last_error=None,
            lease_until=None,
        )
        .returning(_outbox.c.team_id, _outbox.c.recipient)
        .cte("sent")
    )
    statement = pg_insert(table).from_select(
        ["team_id", "user_id", "practice_id", "cycle", "times", "last_sent_at", "disliked"],
        select(
            sent.c.team_id,
            sent.c.recipient,
            bindparam("practice_id", type_=String),
            bindparam("cycle", type_=Integer),
            literal(1),
            bindparam("now", type_=table.c.last_sent_at.type),
            false(),
        ),
    )
    return (
        statement.on_conflict_do_update(
            index_elements=["team_id", "user_id", "practice_id"],
            set_={
                "cycle": statement.excluded.cycle,
                "times": table.c.times + 1,
                "last_sent_at": statement.excluded.last_sent_at,
            },
        )
        .returning(table.c.id)
        .add_cte(sent)
    )
