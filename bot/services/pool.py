"""The sign-up pool: joining, leaving, pausing, and turning it into match candidates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from bot.domain.errors import UserError
from bot.store import outbox, repo
from bot.store.models import MatchExclusion, Pair, Person, PoolMember

ROLES = ("mentor", "mentee", "both")


@dataclass(frozen=True)
class Signup:
    roles: str
    topics: tuple[str, ...]
    goals: str
    capacity: int
    work_start: int
    work_end: int


def check_signup(signup: Signup, *, known_topics: frozenset[str]) -> dict[str, str]:
    """Problems by field name; empty when the sign-up can be saved."""
    problems: dict[str, str] = {}
    if signup.roles not in ROLES:
        problems["roles"] = "Choose mentor, mentee or both."
    unknown = [t for t in signup.topics if t not in known_topics]
    if unknown:
        problems["topics"] = "Pick topics from the list."
    if signup.roles in {"mentor", "both"} and not 1 <= signup.capacity <= 5:
        problems["capacity"] = "A mentor takes between 1 and 5 mentees."
    # An end before the start is a night shift running past midnight, which matching handles.
    if not (0 <= signup.work_start < 24 * 60 and 0 <= signup.work_end < 24 * 60):
        problems["work_end"] = "Pick the times your working day starts and ends."
    elif signup.work_start == signup.work_end:
        problems["work_end"] = "Your working day should end at a different time than it starts."
    if len(signup.goals) > 2000:
        problems["goals"] = "Keep goals under 2,000 characters."
    return problems


def join(
    session: Session, *, team_id: str, user_id: str, signup: Signup, tz: str | None, now: datetime
) -> PoolMember:
    repo.ensure_person(
        session, team_id=team_id, user_id=user_id, tz=tz, checked_at=now if tz else None
    )
    member = get_member(session, team_id=team_id, user_id=user_id)
    if member is None:
        member = PoolMember(team_id=team_id, user_id=user_id, joined_at=now)
        session.add(member)
    member.roles = signup.roles
    member.topics = {"ids": list(signup.topics)}
    member.goals = signup.goals.strip()
    member.capacity = signup.capacity if signup.roles in {"mentor", "both"} else 1
    member.work_start, member.work_end = signup.work_start, signup.work_end
    member.updated_at = now
    session.flush()
    return member


def get_member(session: Session, *, team_id: str, user_id: str) -> PoolMember | None:
    return session.scalars(
        select(PoolMember).where(PoolMember.team_id == team_id, PoolMember.user_id == user_id)
    ).first()


def leave(session: Session, *, team_id: str, user_id: str) -> None:
    result = session.execute(
        delete(PoolMember).where(PoolMember.team_id == team_id, PoolMember.user_id == user_id)
    )
    if result.rowcount == 0:
        raise UserError("You're not in the mentoring pool. `/mentor join` signs you up.")


def pause(session: Session, *, team_id: str, user_id: str, days: int, now: datetime) -> datetime:
    """No tips and no matching until the pause ends; the next tip after it comes as usual."""
    person = repo.ensure_person(session, team_id=team_id, user_id=user_id)
    until = now + timedelta(days=days)
    person.paused_until = until
    outbox.cancel_pending(session, team_id=team_id, recipient=user_id, kinds=("tip",))
    if person.tips_planned_until is not None:
        person.tips_planned_until = until
    return until


@dataclass(frozen=True)
class PoolEntry:
    user_id: str
    roles: str
    topics: tuple[str, ...]
    goals: str
    capacity: int
    tz: str
    work_start: int
    work_end: int


def matchable(session: Session, *, team_id: str, now: datetime) -> list[PoolEntry]:
    """Everyone in the pool who is not paused; mentors' capacity net of their active mentees."""
    rows = session.execute(
        select(PoolMember, Person.tz, Person.paused_until)
        .join(
            Person,
            (Person.team_id == PoolMember.team_id) & (Person.user_id == PoolMember.user_id),
            isouter=True,
        )
        .where(PoolMember.team_id == team_id)
        .order_by(PoolMember.joined_at, PoolMember.id)
    ).all()
    active_mentees: dict[str, int] = {}
    busy_mentees: set[str] = set()
    for mentor_id, mentee_id in session.execute(
        select(Pair.mentor_id, Pair.mentee_id).where(
            Pair.team_id == team_id, Pair.status.in_(("active", "invited"))
        )
    ):
        active_mentees[mentor_id] = active_mentees.get(mentor_id, 0) + 1
        busy_mentees.add(mentee_id)
    entries = []
    for member, tz, paused_until in rows:
        if paused_until is not None and paused_until > now:
            continue
        roles = member.roles
        capacity = member.capacity - active_mentees.get(member.user_id, 0)
        if roles in {"mentor", "both"} and capacity <= 0:
            roles = "mentee" if roles == "both" else ""
        if roles in {"mentee", "both"} and member.user_id in busy_mentees:
            roles = "mentor" if roles == "both" else ""
        if not roles:
            continue
        entries.append(
            PoolEntry(
                user_id=member.user_id,
                roles=roles,
                topics=tuple(member.topics.get("ids", [])),
                goals=member.goals,
                capacity=max(capacity, 1),
                tz=tz or "UTC",
                work_start=member.work_start,
                work_end=member.work_end,
            )
        )
    return entries


def past_partners(session: Session, *, team_id: str) -> set[tuple[str, str]]:
    return {
        (mentor, mentee)
        for mentor, mentee in session.execute(
            select(Pair.mentor_id, Pair.mentee_id).where(
                Pair.team_id == team_id, Pair.status.in_(("active", "ended", "invited"))
            )
        )
    }


def exclusions(session: Session, *, team_id: str) -> set[tuple[str, str]]:
    return {
        (a, b)
        for a, b in session.execute(
            select(MatchExclusion.user_a, MatchExclusion.user_b).where(
                MatchExclusion.team_id == team_id
            )
        )
    }


def add_exclusion(
    session: Session, *, team_id: str, a: str, b: str, by: str, now: datetime
) -> None:
    first, second = sorted((a, b))
    exists = session.scalars(
        select(MatchExclusion).where(
            MatchExclusion.team_id == team_id,
            or_(
                (MatchExclusion.user_a == first) & (MatchExclusion.user_b == second),
                (MatchExclusion.user_a == second) & (MatchExclusion.user_b == first),
            ),
        )
    ).first()
    if exists is None:
        session.add(
            MatchExclusion(
                team_id=team_id, user_a=first, user_b=second, created_by=by, created_at=now
            )
        )
