"""Program-wide counts for coordinators: numbers only, never anyone's words."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.store.models import Meeting, Pair, ScheduledMessage
from bot.views.home import ProgramFigures


def program_figures(session: Session, *, team_id: str, now: datetime) -> ProgramFigures:
    def count(query) -> int:  # type: ignore[no-untyped-def]
        return int(session.scalar(query) or 0)

    return ProgramFigures(
        active_pairs=count(
            select(func.count())
            .select_from(Pair)
            .where(Pair.team_id == team_id, Pair.status == "active")
        ),
        open_invitations=count(
            select(func.count())
            .select_from(Pair)
            .where(Pair.team_id == team_id, Pair.status == "invited")
        ),
        meetings_next_7_days=count(
            select(func.count())
            .select_from(Meeting)
            .where(
                Meeting.team_id == team_id,
                Meeting.status == "scheduled",
                Meeting.starts_at > now,
                Meeting.starts_at <= now + timedelta(days=7),
            )
        ),
        failed_messages=count(
            select(func.count())
            .select_from(ScheduledMessage)
            .where(ScheduledMessage.team_id == team_id, ScheduledMessage.status == "failed")
        ),
    )
