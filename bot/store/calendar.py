"""The calendar side of a meeting: the ``.ics`` SEQUENCE that a move or a cancellation
raises, so a calendar that imported the meeting replaces its copy."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.store.models import Meeting


def bump_sequence(session: Session, *, team_id: str, meeting_id: int) -> int | None:
    """Raise the meeting's SEQUENCE by one (in the caller's transaction, beside the
    move or cancellation itself); returns the new value, None if there is no meeting."""
    session.execute(
        update(Meeting)
        .where(Meeting.team_id == team_id, Meeting.id == meeting_id)
        .values(calendar_sequence=Meeting.calendar_sequence + 1)
        .execution_options(synchronize_session="fetch")
    )
    return session.scalar(
        select(Meeting.calendar_sequence).where(
            Meeting.team_id == team_id, Meeting.id == meeting_id
        )
    )
