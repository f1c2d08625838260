"""Program-wide counts for coordinators: numbers only, never anyone's words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.services.insights import MINIMUM_PEOPLE, ProgramReport, program_report
from bot.store.models import Meeting, Pair, ScheduledMessage


@dataclass(frozen=True)
class ProgramFigures:
    """Program state, live: pairs, invitations, meetings ahead, undelivered messages.
    Nobody's answer is in these counts (README, "Privacy")."""

    active_pairs: int
    open_invitations: int
    meetings_next_7_days: int
    failed_messages: int


def program_figures(session: Session, *, team_id: str, now: datetime) -> ProgramFigures:
    pairs = dict(
        session.execute(
            select(Pair.status, func.count())
            .where(Pair.team_id == team_id, Pair.status.in_(("active", "invited")))
            .group_by(Pair.status)
        ).all()
    )
    return _figures(
        session,
        team_id=team_id,
        now=now,
        active=pairs.get("active", 0),
        invited=pairs.get("invited", 0),
    )


def coordinator_overview(
    session: Session,
    *,
    team_id: str,
    now: datetime,
    viewer: str,
    minimum: int = MINIMUM_PEOPLE,
) -> tuple[ProgramFigures, ProgramReport]:
    """Everything coordinators' App Home shows, in one unit of work; the pair counts
    come from the report rather than being counted twice. ``viewer``'s own answers are
    left out of the report's figures (README, "Privacy")."""
    report = program_report(session, team_id=team_id, now=now, viewer=viewer, minimum=minimum)
    figures = _figures(
        session,
        team_id=team_id,
        now=now,
        active=report.active_pairs,
        invited=report.open_invitations,
    )
    return figures, report


def _figures(
    session: Session, *, team_id: str, now: datetime, active: int, invited: int
) -> ProgramFigures:
    meetings = session.scalar(
        select(func.count())
        .select_from(Meeting)
        .where(
            Meeting.team_id == team_id,
            Meeting.status == "scheduled",
            Meeting.starts_at > now,
            Meeting.starts_at <= now + timedelta(days=7),
        )
    )
    failed = session.scalar(
        select(func.count())
        .select_from(ScheduledMessage)
        .where(ScheduledMessage.team_id == team_id, ScheduledMessage.status == "failed")
    )
    return ProgramFigures(
        active_pairs=active,
        open_invitations=invited,
        meetings_next_7_days=int(meetings or 0),
        failed_messages=int(failed or 0),
    )
