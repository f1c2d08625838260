"""What each person has actually been sent as daily tips, per practice (``tips_received``)."""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import Connection, Insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.store.models import TipReceived


def record(
    connection: Connection,
    *,
    team_id: str,
    user_id: str,
    practice_id: str,
    cycle: int,
    now: datetime,
) -> None:
    """A tip of ``practice_id`` reached the person, in turn ``cycle`` of their rotation.

    Runs once per tip sent, in the transaction that marks it sent: one statement,
    built once per dialect (building and keying it cost more than running it).
    """
    connection.execute(
        _upsert(connection.dialect.name),
        {
            "team_id": team_id,
            "user_id": user_id,
            "practice_id": practice_id,
            "cycle": cycle,
            "times": 1,
            "last_sent_at": now,
            "disliked": False,
        },
    )


@functools.cache
def _upsert(dialect: str) -> Insert:
    table = TipReceived.__table__
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return statement.on_conflict_do_update(
        index_elements=["team_id", "user_id", "practice_id"],
        set_={
            "cycle": statement.excluded.cycle,
            "times": table.c.times + 1,
            "last_sent_at": statement.excluded.last_sent_at,
        },
    )


def record_vote(
    session: Session, *, team_id: str, user_id: str, practice_id: str, vote: int, now: datetime
) -> None:
    """Their latest vote on a practice; a 👎 sends it to the back of their rotation."""
    row = session.scalars(
        select(TipReceived).where(
            TipReceived.team_id == team_id,
            TipReceived.user_id == user_id,
            TipReceived.practice_id == practice_id,
        )
    ).first()
    if row is None:
        # Sent before tips were recorded (or not yet settled): remember the vote, no turn.
        row = TipReceived(
            team_id=team_id,
            user_id=user_id,
            practice_id=practice_id,
            cycle=-1,
            times=0,
            last_sent_at=now,
        )
        session.add(row)
    row.disliked = vote < 0


def received_by(session: Session, *, team_id: str, user_id: str) -> list[TipReceived]:
    """One person's rows, for their data export."""
    return list(
        session.scalars(
            select(TipReceived)
            .where(TipReceived.team_id == team_id, TipReceived.user_id == user_id)
            .order_by(TipReceived.last_sent_at, TipReceived.id)
        )
    )
