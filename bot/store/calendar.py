"""The calendar side of a meeting: the ``.ics`` SEQUENCE that a move or a cancellation
raises, so a calendar that imported the meeting replaces its copy; and what the
schedule modal's suggestions are made of (working hours, meetings already set)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from bot.store.models import Meeting, Pair, Person, PoolMember


def bump_sequence(session: Session, *, team_id: str, meeting_id: int) -> int | None:
    """Raise the meeting's SEQUENCE by one (in the caller's transaction, beside the
    move or cancellation itself); returns the new value, None if there is no meeting."""
    session.execute(
        update(Meeting)
        .where(Meeting.team_id == team_id, Meeting.id == meeting_id)
        .values(calendar_sequence=Meeting.calendar_sequence + 1)
        .execution_options(synchronize_session="fetch")
    )
    return session.scalar(
        select(Meeting.calendar_sequence).where(
            Meeting.team_id == team_id, Meeting.id == meeting_id
        )
    )


# ---------------------------------------------------------------- scheduling help


@dataclass(frozen=True)
class Hours:
    """What the store knows of one person's working day: their Slack time zone (as last
    read) and, if they signed up to the pool, the hours they gave there."""

    user_id: str
    tz: str | None
    work_start: int | None
    work_end: int | None


def working_hours(session: Session, *, team_id: str, user_ids: Sequence[str]) -> list[Hours]:
    """One ``Hours`` per user, in the order asked (unknown people: no zone, no hours)."""
    zones = dict(
        session.execute(
            select(Person.user_id, Person.tz).where(
                Person.team_id == team_id, Person.user_id.in_(list(user_ids))
            )
        ).all()
    )
    pool = {
        row.user_id: (row.work_start, row.work_end)
        for row in session.execute(
            select(PoolMember.user_id, PoolMember.work_start, PoolMember.work_end).where(
                PoolMember.team_id == team_id, PoolMember.user_id.in_(list(user_ids))
            )
        )
    }
    return [
        Hours(user_id, zones.get(user_id), *pool.get(user_id, (None, None))) for user_id in user_ids
    ]


def meetings_of_people(
    session: Session,
    *,
    team_id: str,
    user_ids: Sequence[str],
    ending_after: datetime,
    leaving_out: int | None = None,
) -> list[tuple[datetime, int]]:
    """(start, minutes) of every meeting still on that any of these people has, with any
    of their active pairs, that has not ended by ``ending_after``; ``leaving_out``: a
    meeting's id not to count (the one being moved)."""
    people = list(user_ids)
    query = (
        select(Meeting.starts_at, Meeting.minutes)
        .join(Pair, Pair.id == Meeting.pair_id)
        .where(
            Meeting.team_id == team_id,
            Meeting.status == "scheduled",
            # Nothing is longer than a day; the exact end is checked below.
            Meeting.starts_at > ending_after - timedelta(days=1),
            Pair.status == "active",
            or_(Pair.mentor_id.in_(people), Pair.mentee_id.in_(people)),
        )
        .order_by(Meeting.starts_at)
    )
    if leaving_out is not None:
        query = query.where(Meeting.id != leaving_out)
    rows = session.execute(query).all()
    return [
        (starts, minutes)
        for starts, minutes in rows
        if starts + timedelta(minutes=minutes) > ending_after
    ]


def latest_meeting(session: Session, *, team_id: str, pair_id: int) -> datetime | None:
    """The start of the pair's latest meeting still on (held or ahead); None if none."""
    return session.scalar(
        select(func.max(Meeting.starts_at)).where(
            Meeting.team_id == team_id,
            Meeting.pair_id == pair_id,
            Meeting.status == "scheduled",
        )
    )
