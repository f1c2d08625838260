"""The queries behind coordinators' program insights (``bot.services.insights``).

No free-text column is ever selected here (feedback ``helped``/``change``, prep
``focus``/``questions``): only statuses, times, yes/no answers, ratings (read to be
turned into yes/no per person by the service) and votes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.models import (
    Feedback,
    InsightPerson,
    InsightWeek,
    Meeting,
    Pair,
    PrepAnswer,
    ScheduledMessage,
    TipVote,
)


def pairs(session: Session, *, team_id: str) -> Sequence[Row[Any]]:
    """Every pair of the workspace: id, members, status, accepted and created times."""
    return session.execute(
        select(
            Pair.id, Pair.mentor_id, Pair.mentee_id, Pair.status, Pair.accepted_at, Pair.created_at
        )
        .where(Pair.team_id == team_id)
        .order_by(Pair.id)
    ).all()


def scheduled_meetings(session: Session, *, team_id: str) -> Sequence[Row[Any]]:
    """Meetings not cancelled (id, pair, start), in start order."""
    return session.execute(
        select(Meeting.id, Meeting.pair_id, Meeting.starts_at)
        .where(Meeting.team_id == team_id, Meeting.status == "scheduled")
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()


def frozen_weeks(
    session: Session, *, team_id: str, weeks: Iterable[date]
) -> dict[date, InsightWeek]:
    return {
        row.week_start: row
        for row in session.scalars(
            select(InsightWeek).where(
                InsightWeek.team_id == team_id, InsightWeek.week_start.in_(sorted(set(weeks)))
            )
        )
    }


def frozen_people(session: Session, *, team_id: str, weeks: Iterable[date]) -> list[InsightPerson]:
    return list(
        session.scalars(
            select(InsightPerson).where(
                InsightPerson.team_id == team_id, InsightPerson.week_start.in_(sorted(set(weeks)))
            )
        )
    )


def freeze_week(
    session: Session,
    *,
    team_id: str,
    week: date,
    now: datetime,
    tips_sent: int,
    new_pairs: int,
    parts: dict[str, dict[str, Any]],
) -> bool:
    """Store one closed week's figures and each person's part. False when another
    process froze it meanwhile: the unique key lets one win, and this attempt is rolled
    back to a savepoint, keeping the winner's rows."""
    try:
        with session.begin_nested():
            session.add(
                InsightWeek(
                    team_id=team_id,
                    week_start=week,
                    frozen_at=now,
                    tips_sent=tips_sent,
                    new_pairs=new_pairs,
                )
            )
            session.flush()
            session.add_all(
                InsightPerson(team_id=team_id, week_start=week, user_id=user_id, **part)
                for user_id, part in sorted(parts.items())
            )
            session.flush()
    except IntegrityError:
        return False
    return True


def answers_between(
    session: Session, *, team_id: str, start: datetime, end: datetime
) -> Sequence[Row[Any]]:
    """(user, happened, usefulness) of the poll answers last changed in [start, end)."""
    return session.execute(
        select(Feedback.user_id, Feedback.happened, Feedback.usefulness).where(
            Feedback.team_id == team_id, Feedback.updated_at >= start, Feedback.updated_at < end
        )
    ).all()


def mentees_prompted(
    session: Session, *, team_id: str, start: datetime, end: datetime
) -> Sequence[Row[Any]]:
    """(mentee, meeting) of the prep prompts sent for meetings starting in [start, end)."""
    return session.execute(
        select(ScheduledMessage.recipient, ScheduledMessage.meeting_id)
        .join(Meeting, Meeting.id == ScheduledMessage.meeting_id)
        .where(
            ScheduledMessage.team_id == team_id,
            ScheduledMessage.kind == "prep_mentee",
            ScheduledMessage.status == "sent",
            Meeting.status == "scheduled",
            Meeting.starts_at >= start,
            Meeting.starts_at < end,
        )
    ).all()


def prep_sent(
    session: Session, *, team_id: str, meeting_ids: Iterable[int], before: datetime
) -> set[tuple[str, int]]:
    """(user, meeting) of the prep answers to these meetings given before ``before``."""
    return {
        (user_id, meeting_id)
        for user_id, meeting_id in session.execute(
            select(PrepAnswer.user_id, PrepAnswer.meeting_id).where(
                PrepAnswer.team_id == team_id,
                PrepAnswer.meeting_id.in_(sorted(set(meeting_ids))),
                PrepAnswer.answered_at < before,
            )
        )
    }


def votes_between(
    session: Session, *, team_id: str, start: datetime, end: datetime
) -> Sequence[Row[Any]]:
    """(user, vote) of the tip votes given in [start, end)."""
    return session.execute(
        select(TipVote.user_id, TipVote.vote).where(
            TipVote.team_id == team_id, TipVote.voted_at >= start, TipVote.voted_at < end
        )
    ).all()


def tips_sent_between(session: Session, *, team_id: str, start: datetime, end: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(ScheduledMessage)
            .where(
                ScheduledMessage.team_id == team_id,
                ScheduledMessage.kind == "tip",
                ScheduledMessage.status == "sent",
                ScheduledMessage.sent_at >= start,
                ScheduledMessage.sent_at < end,
            )
        )
        or 0
    )


def pairs_accepted_between(
    session: Session, *, team_id: str, start: datetime, end: datetime
) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Pair)
            .where(Pair.team_id == team_id, Pair.accepted_at >= start, Pair.accepted_at < end)
        )
        or 0
    )
