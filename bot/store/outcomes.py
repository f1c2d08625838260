"""What the outcome figures read: dates, statuses and "did it happen", never a word
anyone typed, a rating or a check-in score (``bot.services.outcomes``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.models import Feedback, Meeting, OutcomeFact, Pair, PairGoal


@dataclass(frozen=True)
class PairRow:
    pair_id: int
    mentor_id: str
    mentee_id: str
    kickoff: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class MeetingRow:
    starts_at: datetime
    cancelled: bool
    answers: tuple[tuple[str, datetime], ...]  # (happened, answered at)


@dataclass(frozen=True)
class PairHistories:
    pairs: list[PairRow]
    meetings: dict[int, list[MeetingRow]] = field(default_factory=dict)
    goals: dict[int, list[tuple[datetime, datetime | None]]] = field(default_factory=dict)


def pair_histories(session: Session, *, team_id: str) -> PairHistories:
    """Every pair of the workspace that kicked off, with its meetings (and the
    "did it happen" answers to each) and when its goals were set and marked done."""
    pairs = [
        PairRow(row.id, row.mentor_id, row.mentee_id, row.accepted_at, row.ended_at)
        for row in session.execute(
            select(Pair.id, Pair.mentor_id, Pair.mentee_id, Pair.accepted_at, Pair.ended_at)
            .where(
                Pair.team_id == team_id,
                Pair.status.in_(("active", "ended")),
                Pair.accepted_at.is_not(None),
            )
            .order_by(Pair.id)
        )
    ]
    answers: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for meeting_id, happened, at in session.execute(
        select(Feedback.meeting_id, Feedback.happened, Feedback.updated_at).where(
            Feedback.team_id == team_id,
            Feedback.meeting_id.is_not(None),
            Feedback.happened.is_not(None),
        )
    ):
        answers[meeting_id].append((happened, at))
    meetings: dict[int, list[MeetingRow]] = defaultdict(list)
    for meeting_id, pair_id, starts_at, status in session.execute(
        select(Meeting.id, Meeting.pair_id, Meeting.starts_at, Meeting.status).where(
            Meeting.team_id == team_id
        )
    ):
        meetings[pair_id].append(
            MeetingRow(starts_at, status == "cancelled", tuple(answers.get(meeting_id, ())))
        )
    goals: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for pair_id, created_at, done_at in session.execute(
        select(PairGoal.pair_id, PairGoal.created_at, PairGoal.done_at).where(
            PairGoal.team_id == team_id
        )
    ):
        goals[pair_id].append((created_at, done_at))
    return PairHistories(pairs, dict(meetings), dict(goals))


def frozen_facts(session: Session, *, team_id: str) -> dict[int, dict[int, dict[str, Any]]]:
    """pair → horizon → the facts frozen for it."""
    frozen: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    for row in session.scalars(select(OutcomeFact).where(OutcomeFact.team_id == team_id)):
        frozen[row.pair_id][row.horizon] = dict(row.facts)
    return dict(frozen)


def freeze_facts(
    session: Session,
    *,
    team_id: str,
    facts: dict[tuple[int, int], dict[str, Any]],
    now: datetime,
) -> dict[tuple[int, int], dict[str, Any]]:
    """Freeze (pair, horizon) → facts not frozen yet; returns what is frozen for those
    keys afterwards. Two processes freezing at once: the unique key lets one win, the
    other's attempt rolls back to a savepoint and reads the winner's."""
    if not facts:
        return {}
    try:
        with session.begin_nested():
            session.add_all(
                OutcomeFact(
                    team_id=team_id, pair_id=pair_id, horizon=horizon, facts=value, frozen_at=now
                )
                for (pair_id, horizon), value in sorted(facts.items())
            )
            session.flush()
    except IntegrityError:
        stored = frozen_facts(session, team_id=team_id)
        return {key: stored.get(key[0], {}).get(key[1], value) for key, value in facts.items()}
    return dict(facts)
