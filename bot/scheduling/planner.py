"""Planning daily tips for everyone whose next tip is due to be planned."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Row, String, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from bot.content import Content
from bot.domain.tips import LATE_GRACE, next_tip_due, spread_offset, tip_list_role
from bot.store import outbox
from bot.store.db import execute_arrays
from bot.store.models import Pair, Person
from bot.store.outbox import PlannedMessage

BATCH = 5000


def plan_tips(
    session: Session, *, content: Content, now: datetime, limit: int = BATCH
) -> tuple[int, int]:
    """Plan the next tip of each person whose last planned tip is now due.

    Returns (people looked at, rows planned).

    Only people whose ``tips_planned_until`` has passed are read, so a pass with
    nothing to plan costs one indexed query.
    """
    # Plain rows, not ORM objects, and one executemany UPDATE: a 09:00 wave plans
    # thousands of people at once and the ORM's per-object bookkeeping dominated.
    people = session.execute(
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
    if not people:
        return 0, 0
    roles = _active_roles(session, people)
    settings = content.settings
    default_minute = settings.tip_time.hour * 60 + settings.tip_time.minute
    planned: list[PlannedMessage] = []
    changes: list[dict[str, Any]] = []
    for person in people:
        person_roles = roles.get((person.team_id, person.user_id))
        if not person_roles or not person.tips_enabled or person.blocked_at is not None:
            changes.append(_change(person, planned_until=None, sent=person.tips_sent))
            continue
        due, local_day = next_tip_due(
            tz=person.tz,
            minute_of_day=person.tip_minute if person.tip_minute is not None else default_minute,
            working_days=settings.tip_days,
            after=max(person.tips_planned_until, now - LATE_GRACE),
        )
        if person.paused_until is not None and due < person.paused_until:
            # Paused: skip this day (nothing is planned, so nothing to drop later).
            changes.append(_change(person, planned_until=due, sent=person.tips_sent))
            continue
        if settings.tip_spread:
            due += spread_offset(person.tip_seed, settings.tip_spread)
        # No practice yet: it is chosen when the tip is sent (bot.scheduling.tipchoice),
        # from what the person has received by then.
        planned.append(
            PlannedMessage(
                team_id=person.team_id,
                key=f"tip:{person.team_id}:{person.user_id}:{local_day.isoformat()}",
                kind="tip",
                recipient=person.user_id,
                due_at=due,
                payload={
                    "role": tip_list_role(person_roles),
                    "local_day": local_day.isoformat(),
                    "seed": person.tip_seed,
                },
            )
        )
        changes.append(_change(person, planned_until=due, sent=person.tips_sent + 1))
    _apply(session, changes)
    return len(people), outbox.plan(session, planned, now=now)


# PostgreSQL: every person's change in one statement over arrays (one round trip and
# no per-row parameter handling), where an executemany sends a statement a row.
_PG_UPDATE_PEOPLE = (
    "UPDATE people SET tips_planned_until = v.until, tips_sent = v.sent "
    "FROM unnest(CAST(%(ids)b AS integer[]), CAST(%(untils)b AS timestamptz[]), "
    "CAST(%(sents)b AS integer[])) AS v(id, until, sent) WHERE people.id = v.id"
)


def _apply(session: Session, changes: list[dict[str, Any]]) -> None:
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


def _change(person: Row[Any], *, planned_until: datetime | None, sent: int) -> dict[str, Any]:
    return {"id": person.id, "tips_planned_until": planned_until, "tips_sent": sent}


def _active_roles(session: Session, people: Sequence[Row[Any]]) -> dict[tuple[str, str], set[str]]:
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
