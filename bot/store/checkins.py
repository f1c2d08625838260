"""The 30-day match check-in answers: private to the person who gave them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.domain.care import EXIT_CHOICES, check_score
from bot.store.models import MatchCheckin


def get(session: Session, *, team_id: str, pair_id: int, user_id: str) -> MatchCheckin | None:
    return session.scalars(
        select(MatchCheckin).where(
            MatchCheckin.team_id == team_id,
            MatchCheckin.pair_id == pair_id,
            MatchCheckin.user_id == user_id,
        )
    ).first()


def _row(
    session: Session, *, team_id: str, pair_id: int, user_id: str, now: datetime
) -> MatchCheckin:
    row = get(session, team_id=team_id, pair_id=pair_id, user_id=user_id)
    if row is None:
        row = MatchCheckin(
            team_id=team_id, pair_id=pair_id, user_id=user_id, not_working=False, answered_at=now
        )
        session.add(row)
    return row


def record_score(
    session: Session, *, team_id: str, pair_id: int, user_id: str, score: int, now: datetime
) -> MatchCheckin:
    """A 1–5 answer; pressing another score changes it."""
    row = _row(session, team_id=team_id, pair_id=pair_id, user_id=user_id, now=now)
    row.score, row.answered_at = check_score(score), now
    session.flush()
    return row


def record_not_working(
    session: Session, *, team_id: str, pair_id: int, user_id: str, now: datetime
) -> MatchCheckin:
    """ "This isn't working for me": the exit offer follows."""
    row = _row(session, team_id=team_id, pair_id=pair_id, user_id=user_id, now=now)
    row.not_working, row.answered_at = True, now
    session.flush()
    return row


def record_exit_choice(
    session: Session, *, team_id: str, pair_id: int, user_id: str, choice: str, now: datetime
) -> MatchCheckin:
    if choice not in EXIT_CHOICES:
        raise ValueError(f"unknown exit choice {choice!r}")
    row = _row(session, team_id=team_id, pair_id=pair_id, user_id=user_id, now=now)
    row.exit_choice, row.answered_at = choice, now
    session.flush()
    return row


def answers_of(session: Session, *, team_id: str, user_id: str) -> list[dict]:
    """What ``my-data`` shows: their own check-in answers, never the partner's."""
    return [
        {
            "pair_id": row.pair_id,
            "score": row.score,
            "not_working": row.not_working,
            "exit_choice": row.exit_choice,
            "answered_at": row.answered_at.isoformat(),
        }
        for row in session.scalars(
            select(MatchCheckin)
            .where(MatchCheckin.team_id == team_id, MatchCheckin.user_id == user_id)
            .order_by(MatchCheckin.answered_at, MatchCheckin.id)
        )
    ]


def forget(session: Session, *, team_id: str, user_id: str) -> int:
    """``forget-me``: their answers go (a score is tied to a named partner)."""
    return session.execute(
        delete(MatchCheckin)
        .where(MatchCheckin.team_id == team_id, MatchCheckin.user_id == user_id)
        .execution_options(synchronize_session="fetch")
    ).rowcount
