"""Queries of the sign-up pool and of matching: members, exclusions, proposals."""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.store.models import MatchExclusion, MatchProposal, Pair, Person, PoolMember


def get_member(session: Session, *, team_id: str, user_id: str) -> PoolMember | None:
    return session.scalars(
        select(PoolMember).where(PoolMember.team_id == team_id, PoolMember.user_id == user_id)
    ).first()


def delete_member(session: Session, *, team_id: str, user_id: str) -> bool:
    """Take the person out of the pool; False if they were not in it."""
    result = session.execute(
        delete(PoolMember).where(PoolMember.team_id == team_id, PoolMember.user_id == user_id)
    )
    return result.rowcount > 0


def members_with_people(session: Session, *, team_id: str) -> list[Any]:
    """Each pool member with their time zone and pause (from ``people``), in join order."""
    return list(
        session.execute(
            select(PoolMember, Person.tz, Person.paused_until)
            .join(
                Person,
                (Person.team_id == PoolMember.team_id) & (Person.user_id == PoolMember.user_id),
                isouter=True,
            )
            .where(PoolMember.team_id == team_id)
            .order_by(PoolMember.joined_at, PoolMember.id)
        ).all()
    )


def open_pairs(session: Session, *, team_id: str) -> list[tuple[str, str]]:
    """(mentor, mentee) of every active or invited pair."""
    return [
        (mentor, mentee)
        for mentor, mentee in session.execute(
            select(Pair.mentor_id, Pair.mentee_id).where(
                Pair.team_id == team_id, Pair.status.in_(("active", "invited"))
            )
        )
    ]


def past_partners(
    session: Session, *, team_id: str, declined_since: datetime
) -> set[tuple[str, str]]:
    """Who has been paired (or invited), and who declined the other, or withdrew the
    invitation, since ``declined_since``: (mentor, mentee) each."""
    return {
        (mentor, mentee)
        for mentor, mentee in session.execute(
            select(Pair.mentor_id, Pair.mentee_id).where(
                Pair.team_id == team_id,
                or_(
                    Pair.status.in_(("active", "ended", "invited")),
                    # As check_invitation_cooldown: asked again from the moment it ends.
                    # A match its mentor withdrew is a "no" from the other side; one
                    # left unanswered until it expired, a "no" from the invitee.
                    and_(
                        Pair.status.in_(("declined", "withdrawn", "expired")),
                        Pair.ended_at > declined_since,
                    ),
                ),
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


def delete_exclusion(session: Session, *, team_id: str, a: str, b: str) -> bool:
    """The exclusion between the two, either way round, deleted; False if none."""
    result = session.execute(
        delete(MatchExclusion).where(
            MatchExclusion.team_id == team_id,
            or_(
                (MatchExclusion.user_a == a) & (MatchExclusion.user_b == b),
                (MatchExclusion.user_a == b) & (MatchExclusion.user_b == a),
            ),
        )
    )
    return bool(result.rowcount)


def exclusion_between(session: Session, *, team_id: str, a: str, b: str) -> MatchExclusion | None:
    return session.scalars(
        select(MatchExclusion).where(
            MatchExclusion.team_id == team_id,
            or_(
                (MatchExclusion.user_a == a) & (MatchExclusion.user_b == b),
                (MatchExclusion.user_a == b) & (MatchExclusion.user_b == a),
            ),
        )
    ).first()


# The advisory locks of match rounds: one per workspace, in a namespace of their own
# (bot.store.workers holds 0x4D42 for its workers' locks).
ROUND_LOCK_NAMESPACE = 0x4D43


def replace_open_proposals(session: Session, *, team_id: str) -> None:
    """The workspace's proposals still open, marked ``replaced`` by a newer round. On
    PostgreSQL two rounds made at the same moment (two coordinators) take turns from
    here to their commit (a transaction's advisory lock per workspace): the second
    sees the first's round and replaces it. Without it each missed the other's, and
    both stayed open. (SQLite has one writer at a time.)"""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(team_id.encode()) & 0x7FFFFFFF
        session.execute(select(func.pg_advisory_xact_lock(ROUND_LOCK_NAMESPACE, key)))
    session.execute(
        update(MatchProposal)
        .where(MatchProposal.team_id == team_id, MatchProposal.status == "open")
        .values(status="replaced")
        .execution_options(synchronize_session=False)
    )


def get_proposal(
    session: Session, *, team_id: str, proposal_id: int, lock: bool = False
) -> MatchProposal | None:
    query = select(MatchProposal).where(
        MatchProposal.team_id == team_id, MatchProposal.id == proposal_id
    )
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()
