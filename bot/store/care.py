"""What the care rules (``bot.domain.care``) read about a workspace's active pairs:
kickoff, meetings and whether each happened. Dates and "did it happen" only; never a
rating or a word."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.care import MeetingFact, PairFacts, outcome_of
from bot.store.models import Feedback, Meeting, Pair


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
