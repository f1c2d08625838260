"""What the care rules (``bot.domain.care``) read about a workspace's active pairs:
kickoff, meetings and whether each happened. Dates and "did it happen" only; never a
rating or a word."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from bot.domain.care import MeetingFact, PairFacts, outcome_of
from bot.store.models import Feedback, Meeting, Pair, ScheduledMessage, Workspace


def pair_facts(
    session: Session,
    *,
    team_id: str,
    nudged_at: Mapping[int, datetime] | None = None,
) -> list[PairFacts]:
    """One ``PairFacts`` per active pair of the workspace, in pair order. ``nudged_at``:
    when each pair was last sent a care nudge (the caller knows where nudges are kept,
    e.g. the outbox rows it planned), by pair id."""
    nudged_at = nudged_at or {}
    pairs = session.execute(
        select(Pair.id, Pair.accepted_at, Pair.created_at)
        .where(Pair.team_id == team_id, Pair.status == "active")
        .order_by(Pair.id)
    ).all()
    if not pairs:
        return []
    ids = [p.id for p in pairs]
    said: dict[int, list[str]] = defaultdict(list)
    for meeting_id, happened in session.execute(
        select(Feedback.meeting_id, Feedback.happened)
        .join(Meeting, Meeting.id == Feedback.meeting_id)
        .where(
            Feedback.team_id == team_id,
            Meeting.pair_id.in_(ids),
            Feedback.happened.is_not(None),
        )
    ):
        said[meeting_id].append(happened)
    meetings: dict[int, list[MeetingFact]] = defaultdict(list)
    for meeting_id, pair_id, starts_at, created_at, status in session.execute(
        select(Meeting.id, Meeting.pair_id, Meeting.starts_at, Meeting.created_at, Meeting.status)
        .where(Meeting.team_id == team_id, Meeting.pair_id.in_(ids))
        .order_by(Meeting.starts_at, Meeting.id)
    ):
        meetings[pair_id].append(
            MeetingFact(
                starts_at=starts_at,
                created_at=created_at,
                cancelled=status == "cancelled",
                outcome=outcome_of(said.get(meeting_id, ())),
            )
        )
    return [
        PairFacts(
            pair_id=p.id,
            kickoff=p.accepted_at or p.created_at,
            meetings=tuple(meetings.get(p.id, ())),
            nudged_at=nudged_at.get(p.id),
        )
        for p in pairs
    ]


def teams_with_active_pairs(session: Session) -> list[str]:
    """Workspaces that have an active pair and are neither paused nor uninstalled."""
    return list(
        session.scalars(
            select(Pair.team_id)
            .where(Pair.status == "active", ~exists().where(Workspace.team_id == Pair.team_id))
            .distinct()
            .order_by(Pair.team_id)
        )
    )


def last_sent(session: Session, *, team_id: str, kind: str) -> dict[int, datetime]:
    """When a message of ``kind`` last reached each pair (the care nudges are their own
    durable marker: the outbox keeps sent rows). A nudge planned but never delivered
    (failed, held, cancelled) does not count: the week before coordinators see the
    pair starts when the pair was told, and the row's key still stops a second one."""
    return {
        pair_id: when
        for pair_id, when in session.execute(
            select(ScheduledMessage.pair_id, func.max(ScheduledMessage.sent_at))
            .where(
                ScheduledMessage.team_id == team_id,
                ScheduledMessage.kind == kind,
                ScheduledMessage.status == "sent",
                ScheduledMessage.pair_id.is_not(None),
            )
            .group_by(ScheduledMessage.pair_id)
        )
        if pair_id is not None and when is not None
    }


def planned_to(
    session: Session, *, team_id: str, kind: str, pair_ids: Collection[int]
) -> set[tuple[int, str]]:
    """(pair, recipient) of every message of ``kind`` ever planned for these pairs."""
    if not pair_ids:
        return set()
    return {
        (pair_id, recipient)
        for pair_id, recipient in session.execute(
            select(ScheduledMessage.pair_id, ScheduledMessage.recipient).where(
                ScheduledMessage.team_id == team_id,
                ScheduledMessage.kind == kind,
                ScheduledMessage.pair_id.in_(sorted(pair_ids)),
            )
        )
    }


def members(
    session: Session, *, team_id: str, pair_ids: Collection[int]
) -> dict[int, tuple[str, str]]:
    """(mentor, mentee) of each pair."""
    if not pair_ids:
        return {}
    return {
        pair_id: (mentor, mentee)
        for pair_id, mentor, mentee in session.execute(
            select(Pair.id, Pair.mentor_id, Pair.mentee_id).where(
                Pair.team_id == team_id, Pair.id.in_(sorted(pair_ids))
            )
        )
    }


def sent_message(
    session: Session, *, team_id: str, user_id: str, pair_id: int, kind: str
) -> tuple[str, str] | None:
    """Where the bot posted this person's message of ``kind`` about this pair (the
    check-in, the exit offer): the only message a press on it may update in place."""
    row = session.execute(
        select(ScheduledMessage.channel_id, ScheduledMessage.message_ts)
        .where(
            ScheduledMessage.team_id == team_id,
            ScheduledMessage.recipient == user_id,
            ScheduledMessage.pair_id == pair_id,
            ScheduledMessage.kind == kind,
            ScheduledMessage.status == "sent",
            ScheduledMessage.message_ts.is_not(None),
        )
        .order_by(ScheduledMessage.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None and row[0] else None
