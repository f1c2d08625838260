"""The sign-up pool: joining, leaving, pausing, and turning it into match candidates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot import outgoing
from bot.domain.errors import UserError
from bot.domain.pool import roles_open
from bot.domain.tips import pause_ends
from bot.services.pairing import DECLINE_COOLDOWN
from bot.services.tips import stop_tips
from bot.store import outbox, repo
from bot.store import pool as pool_store
from bot.store.models import MatchExclusion, PoolMember

ROLES = ("mentor", "mentee", "both")
DEFAULT_WORK_START, DEFAULT_WORK_END = 9 * 60, 17 * 60  # 09:00–17:00, as the sign-up form


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
    session: Session,
    *,
    team_id: str,
    user_id: str,
    signup: Signup,
    now: datetime,
    tz: str | None = None,
    confirm: bool = True,
) -> PoolMember:
    """Join (or update) the pool, with the confirmation DM planned (unless the caller
    says it already). Matching needs the person's time zone: the confirmation's delivery
    asks Slack for it (users.info)."""
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
    if not confirm:
        return member
    role = {"both": "a mentor and a mentee"}.get(signup.roles, f"a {signup.roles}")
    outbox.plan(
        session,
        [
            outgoing.to_person(
                outgoing.JOIN_CONFIRMED,
                team_id=team_id,
                user_id=user_id,
                now=now,
                payload={"role": role},
            )
        ],
        now=now,
    )
    return member


def get_member(session: Session, *, team_id: str, user_id: str) -> PoolMember | None:
    return pool_store.get_member(session, team_id=team_id, user_id=user_id)


def rejoin(
    session: Session, *, team_id: str, user_id: str, role: str, now: datetime, confirm: bool = True
) -> bool:
    """Back into the pool after a pairing ended (the care check-in's way out): a sign-up
    they still have stays as it is; without one, one is made from ``role`` (no topics,
    the default working hours), which `/mentor join` can complete. True if it was new."""
    if get_member(session, team_id=team_id, user_id=user_id) is not None:
        return False
    join(
        session,
        team_id=team_id,
        user_id=user_id,
        signup=Signup(
            roles=role,
            topics=(),
            goals="",
            capacity=1,
            work_start=DEFAULT_WORK_START,
            work_end=DEFAULT_WORK_END,
        ),
        now=now,
        confirm=confirm,
    )
    return True


def leave(session: Session, *, team_id: str, user_id: str) -> None:
    if not pool_store.delete_member(session, team_id=team_id, user_id=user_id):
        raise UserError("You're not in the mentoring pool. `/mentor join` signs you up.")


def pause(session: Session, *, team_id: str, user_id: str, days: int, now: datetime) -> datetime:
    """No tips and no matching until the pause ends; the next tip after it comes as usual."""
    person = repo.ensure_person(session, team_id=team_id, user_id=user_id)
    until = pause_ends(now=now, days=days, tz=person.tz)
    person.paused_until = until
    stop_tips(session, team_id=team_id, user_id=user_id, resume_at=until)
    return until


def end_pause(session: Session, *, team_id: str, user_id: str, now: datetime) -> bool:
    """``pause off``: tips that were on come again from now (their next tip time), and
    matches may include them. False when they were not paused."""
    person = repo.get_person(session, team_id=team_id, user_id=user_id)
    if person is None or person.paused_until is None or person.paused_until <= now:
        return False
    if person.tips_planned_until is not None and person.tips_planned_until > now:
        person.tips_planned_until = now  # was held until the pause's end (``stop_tips``)
    person.paused_until = None
    return True


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
    return pool_now(session, team_id=team_id, now=now)[0]


def pool_now(session: Session, *, team_id: str, now: datetime) -> tuple[list[PoolEntry], set[str]]:
    """``matchable``, and everyone in the pool, paused or not, from one read of it."""
    rows = pool_store.members_with_people(session, team_id=team_id)
    active_mentees: dict[str, int] = {}
    busy_mentees: set[str] = set()
    for mentor_id, mentee_id in pool_store.open_pairs(session, team_id=team_id):
        active_mentees[mentor_id] = active_mentees.get(mentor_id, 0) + 1
        busy_mentees.add(mentee_id)
    entries = []
    for member, tz, paused_until in rows:
        if paused_until is not None and paused_until > now:
            continue
        capacity = member.capacity - active_mentees.get(member.user_id, 0)
        roles = roles_open(member.roles, room=capacity, has_mentor=member.user_id in busy_mentees)
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
    return entries, {member.user_id for member, _tz, _paused in rows}


def past_partners(session: Session, *, team_id: str, now: datetime) -> set[tuple[str, str]]:
    """Never matched again: a pair that was, and for the invitation cooldown one of
    whom declined the other (as ``/mentor start`` refuses to ask again) or withdrew the
    invitation (a mentor who took back a coordinators' match)."""
    return pool_store.past_partners(session, team_id=team_id, declined_since=now - DECLINE_COOLDOWN)


def exclusions(session: Session, *, team_id: str) -> set[tuple[str, str]]:
    return pool_store.exclusions(session, team_id=team_id)


def remove_exclusion(session: Session, *, team_id: str, a: str, b: str) -> bool:
    """``exclude … off``: the rule between the two lifted; False if there was none."""
    return pool_store.delete_exclusion(session, team_id=team_id, a=a, b=b)


def add_exclusion(
    session: Session, *, team_id: str, a: str, b: str, by: str, now: datetime
) -> None:
    first, second = sorted((a, b))
    if pool_store.exclusion_between(session, team_id=team_id, a=first, b=second) is None:
        session.add(
            MatchExclusion(
                team_id=team_id, user_a=first, user_b=second, created_by=by, created_at=now
            )
        )
