"""Queries of the coaching loop: meetings, prep answers, feedback and tip votes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.store.models import Feedback, Meeting, PrepAnswer, TipVote


def get_meeting(session: Session, *, team_id: str, meeting_id: int) -> Meeting | None:
    return session.scalars(
        select(Meeting).where(Meeting.team_id == team_id, Meeting.id == meeting_id)
    ).first()


def count_meetings(session: Session, *, pair_id: int) -> int:
    """Every meeting the pair ever scheduled, cancelled ones too (meetings are numbered)."""
    return int(
        session.scalar(select(func.count()).select_from(Meeting).where(Meeting.pair_id == pair_id))
        or 0
    )


def count_scheduled(session: Session, *, team_id: str, after: datetime, until: datetime) -> int:
    """Meetings still on that start after ``after`` and by ``until``."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Meeting)
            .where(
                Meeting.team_id == team_id,
                Meeting.status == "scheduled",
                Meeting.starts_at > after,
                Meeting.starts_at <= until,
            )
        )
        or 0
    )


def prep_answer(session: Session, *, meeting_id: int, user_id: str) -> PrepAnswer | None:
    return session.scalars(
        select(PrepAnswer).where(PrepAnswer.meeting_id == meeting_id, PrepAnswer.user_id == user_id)
    ).first()


def feedback_of(
    session: Session, *, pair_id: int, meeting_id: int | None, user_id: str
) -> Feedback | None:
    """One person's answer to a meeting's poll (or, ``meeting_id`` None, the closing poll)."""
    return session.scalars(
        select(Feedback).where(
            Feedback.pair_id == pair_id,
            Feedback.meeting_id.is_(None)
            if meeting_id is None
            else Feedback.meeting_id == meeting_id,
            Feedback.user_id == user_id,
        )
    ).first()


def tip_vote(session: Session, *, outbox_id: int, user_id: str) -> TipVote | None:
    return session.scalars(
        select(TipVote).where(TipVote.outbox_id == outbox_id, TipVote.user_id == user_id)
    ).first()


def poll_number(session: Session, *, meeting: Meeting) -> int:
    """Which feedback poll of the pair a meeting's is: its place among the pair's
    meetings not cancelled (a cancelled meeting has no poll)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Meeting)
            .where(
                Meeting.team_id == meeting.team_id,
                Meeting.pair_id == meeting.pair_id,
                Meeting.status != "cancelled",
                Meeting.starts_at <= meeting.starts_at,
            )
        )
        or 0
    )
