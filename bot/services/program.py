"""Program-wide counts for coordinators: numbers only, never anyone's words."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.services.insights import MINIMUM_PEOPLE, ProgramReport, program_report
from bot.services.outcomes import OutcomeReport, outcome_report
from bot.store import meetings, outbox, repo


@dataclass(frozen=True)
class ProgramFigures:
    """Program state, live: pairs, invitations, meetings ahead, undelivered messages.
    Nobody's answer is in these counts (README, "Privacy")."""

    active_pairs: int
    open_invitations: int
    meetings_next_7_days: int
    failed_messages: int


def program_figures(session: Session, *, team_id: str, now: datetime) -> ProgramFigures:
    pairs = repo.pair_counts(session, team_id=team_id, statuses=("active", "invited"))
    return _figures(
        session,
        team_id=team_id,
        now=now,
        active=pairs.get("active", 0),
        invited=pairs.get("invited", 0),
    )


@dataclass(frozen=True)
class CoordinatorOverview:
    """Everything coordinators' App Home shows: live program state, the closed weeks'
    figures, and the outcome figures of whole kickoff cohorts."""

    figures: ProgramFigures
    report: ProgramReport
    outcomes: OutcomeReport


def coordinator_overview(
    session: Session,
    *,
    team_id: str,
    now: datetime,
    viewer: str,
    coordinators: Collection[str] = (),
    minimum: int = MINIMUM_PEOPLE,
) -> CoordinatorOverview:
    """Everything coordinators' App Home shows, in one unit of work; the pair counts
    come from the report rather than being counted twice. No figure counts the
    ``viewer``'s answers or pairs, nor the answers of ``coordinators`` (README, "Privacy")."""
    report = program_report(
        session,
        team_id=team_id,
        now=now,
        viewer=viewer,
        coordinators=coordinators,
        minimum=minimum,
    )
    figures = _figures(
        session,
        team_id=team_id,
        now=now,
        active=report.active_pairs,
        invited=report.open_invitations,
    )
    outcomes = outcome_report(session, team_id=team_id, now=now, viewer=viewer, minimum=minimum)
    return CoordinatorOverview(figures, report, outcomes)


def _figures(
    session: Session, *, team_id: str, now: datetime, active: int, invited: int
) -> ProgramFigures:
    return ProgramFigures(
        active_pairs=active,
        open_invitations=invited,
        meetings_next_7_days=meetings.count_scheduled(
            session, team_id=team_id, after=now, until=now + timedelta(days=7)
        ),
        failed_messages=outbox.count_failed(session, team_id=team_id),
    )
