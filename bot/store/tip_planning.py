"""The tip planner's reads and writes (``bot.scheduling.planner`` holds its rules).

A 09:00 wave plans thousands of people at once, so these are plain rows and one
statement per batch, not ORM objects: the ORM's per-object bookkeeping dominated.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Row, String, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from bot.store.db import execute_arrays
from bot.store.models import Pair, Person

BATCH = 5000


def people_due(session: Session, *, now: datetime, limit: int = BATCH) -> list[Row[Any]]:
    """People whose last planned tip is now due (at most ``limit``, the longest waiting
    first), locked against another planner (``SKIP LOCKED`` on PostgreSQL). A pass with
    nothing to plan costs this one indexed query."""
    return list(
        session.execute(
            select(
                Person.id,
                Person.team_id,
                Person.user_id,
                Person.tz,
                Person.tip_minute,
                Person.tips_enabled,
                Person.blocked_at,
                Person.paused_until,
                Person.tips_planned_until,
                Person.tip_seed,
                Person.tips_sent,
            )
            .where(Person.tips_planned_until.is_not(None), Person.tips_planned_until <= now)
            .order_by(Person.tips_planned_until)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
    )


def active_roles(session: Session, people: Sequence[Row[Any]]) -> dict[tuple[str, str], set[str]]:
    """(team, user) -> the roles ("mentor", "mentee") each of ``people`` has in an
    active pair; someone in none is absent."""
    roles: dict[tuple[str, str], set[str]] = defaultdict(set)
    user_ids = {p.user_id for p in people}
    teams = {p.team_id for p in people}
    ordered = sorted(user_ids)
    postgres = session.get_bind().dialect.name == "postgresql"
    # One query per batch of people, and every round trip counts in a 09:00 wave. On
    # PostgreSQL the ids go as one array (= ANY), not as an IN list of a few thousand
    # parameters, which costs more to build and send than the query costs to run.
    for chunk_start in range(0, len(ordered), BATCH):
        chunk = ordered[chunk_start : chunk_start + BATCH]
        if postgres:
            ids = bindparam("ids", chunk, type_=ARRAY(String))
            members = or_(Pair.mentor_id == func.any(ids), Pair.mentee_id == func.any(ids))
        else:
            members = or_(Pair.mentor_id.in_(chunk), Pair.mentee_id.in_(chunk))
        rows = session.execute(
            select(Pair.team_id, Pair.mentor_id, Pair.mentee_id).where(
                Pair.status == "active", Pair.team_id.in_(teams), members
            )
        )
        for team_id, mentor_id, mentee_id in rows:
            roles[(team_id, mentor_id)].add("mentor")
            roles[(team_id, mentee_id)].add("mentee")
    return roles


# PostgreSQL: every person's change in one statement over arrays (one round trip and
# no per-row parameter handling), where an executemany sends a statement a row.
_PG_UPDATE_PEOPLE = (
    "UPDATE people SET tips_planned_until = v.until, tips_sent = v.sent "
    "FROM unnest(CAST(%(ids)b AS integer[]), CAST(%(untils)b AS timestamptz[]), "
    "CAST(%(sents)b AS integer[])) AS v(id, until, sent) WHERE people.id = v.id"
)


def set_planned(session: Session, changes: list[dict[str, Any]]) -> None:
    """Each person's new ``tips_planned_until`` and ``tips_sent`` (``changes``: dicts of
    ``id``, ``tips_planned_until``, ``tips_sent``), in one statement."""
    if not changes:
        return
    if session.get_bind().dialect.name == "postgresql":
        execute_arrays(
            session,
            _PG_UPDATE_PEOPLE,
            {
                "ids": [c["id"] for c in changes],
                "untils": [c["tips_planned_until"] for c in changes],
                "sents": [c["tips_sent"] for c in changes],
            },
        )
        return
    # One executemany, which SQLite runs in-process.
    session.execute(update(Person), changes)
