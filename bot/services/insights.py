"""Coordinators' program insights: counts and suppressed aggregates, never anyone's words.

``program_report`` reads one workspace's rows and returns a frozen ``ProgramReport``.
It never selects a free-text column (feedback ``helped``/``change``, prep ``focus``/
``questions``), so the report cannot carry them. Any figure derived from people's
ratings goes through ``suppress_small``: fewer than three answers and it is ``None``.

Definitions (all times UTC, ``now`` is a parameter; no clock is read here):

* A meeting is *past* once it has started (``starts_at <= now``) and *ahead* after
  ``now``. Cancelled meetings count nowhere.
* A past meeting is *held* if any member answered happened=yes, *missed* if any answered
  no/rescheduled and none answered yes, and *unknown* if nobody answered "did it happen?".
* Prep completion: of past meetings whose mentee prep prompt (outbox kind
  ``prep_mentee``) was sent, the share that have a prep answer.
* Weekly trends cover the last ``weeks`` Monday-start UTC weeks, the current week last:
  meetings held (by start), feedback answers (by last update), tips sent (by ``sent_at``)
  and new pairs (by the day the invitation was accepted).
* Pairs at risk are active pairs with any of the reasons in ``RISK_*`` below.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Row, case, func, select
from sqlalchemy.orm import Session

from bot.store.models import Feedback, Meeting, Pair, PrepAnswer, ScheduledMessage, TipVote

T = TypeVar("T")

MINIMUM_GROUP = 3
QUIET_PERIOD = timedelta(weeks=3)
RECENT_MEETINGS = 3  # how many of a pair's last past meetings the "didn't happen" rule reads
MISSED_FOR_RISK = 2
LOW_USEFULNESS = 2.0

RISK_QUIET = "no meeting in three weeks"
RISK_MISSED = "repeated 'didn't happen'"
RISK_LOW_USEFULNESS = "low usefulness"

HELD, MISSED, UNKNOWN = "held", "missed", "unknown"
DIDNT_HAPPEN = ("no", "rescheduled")


def suppress_small(count: int, value: T, minimum: int = MINIMUM_GROUP) -> T | None:
    """``value`` when it rests on at least ``minimum`` answers, else ``None``.

    The one gate every rating-derived figure passes, so that no figure can be traced
    back to one person's answer.
    """
    return value if count >= minimum else None


@dataclass(frozen=True)
class MeetingFigures:
    scheduled: int  # ahead of now, not cancelled
    held: int
    missed: int
    unknown: int


@dataclass(frozen=True)
class PrepFigures:
    prompted: int  # past meetings whose mentee prep prompt was sent
    answered: int  # of those, meetings with a prep answer
    rate: float | None  # answered / prompted; None when nothing was prompted


@dataclass(frozen=True)
class UsefulnessFigures:
    answers: int  # how many ratings exist (a count, never a rating)
    distribution: tuple[tuple[int, int], ...] | None  # ((1, n1), …, (5, n5)); None under 3
    average: float | None  # None under 3 answers

    def count(self, score: int) -> int | None:
        if self.distribution is None:
            return None
        return dict(self.distribution)[score]


@dataclass(frozen=True)
class TipFigures:
    votes: int
    thumbs_up_rate: float | None  # share of +1 votes; None under 3 votes


@dataclass(frozen=True)
class AtRiskPair:
    pair_id: int
    mentor_id: str
    mentee_id: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class WeekFigures:
    week_start: date  # a Monday (UTC)
    meetings_held: int
    feedback_answers: int
    tips_sent: int
    new_pairs: int


TREND_METRICS = ("meetings_held", "feedback_answers", "tips_sent", "new_pairs")


@dataclass(frozen=True)
class ProgramReport:
    team_id: str
    generated_at: datetime
    active_pairs: int
    ended_pairs: int
    open_invitations: int
    meetings: MeetingFigures
    prep: PrepFigures
    usefulness: UsefulnessFigures
    tips: TipFigures
    at_risk: tuple[AtRiskPair, ...]
    weeks: tuple[WeekFigures, ...]  # oldest first; the week containing ``generated_at`` last

    def series(self, metric: str) -> tuple[int, ...]:
        """One trend metric (see ``TREND_METRICS``) as a tuple, oldest week first."""
        if metric not in TREND_METRICS:
            raise ValueError(f"unknown trend metric {metric!r}; one of {', '.join(TREND_METRICS)}")
        return tuple(getattr(week, metric) for week in self.weeks)


def week_start(when: datetime | date) -> date:
    """The Monday (UTC) of the week containing ``when``."""
    day = when.astimezone(UTC).date() if isinstance(when, datetime) else when
    return day - timedelta(days=day.weekday())


def program_report(
    session: Session, *, team_id: str, now: datetime, weeks: int = 8
) -> ProgramReport:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    now = now.astimezone(UTC)

    pairs = session.execute(
        select(
            Pair.id, Pair.mentor_id, Pair.mentee_id, Pair.status, Pair.accepted_at, Pair.created_at
        )
        .where(Pair.team_id == team_id)
        .order_by(Pair.id)
    ).all()
    status_count: dict[str, int] = defaultdict(int)
    for pair in pairs:
        status_count[pair.status] += 1

    meetings = session.execute(
        select(Meeting.id, Meeting.pair_id, Meeting.starts_at)
        .where(Meeting.team_id == team_id, Meeting.status == "scheduled")
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    # Only the columns figures need: the free-text columns are never read.
    feedback = session.execute(
        select(
            Feedback.pair_id,
            Feedback.meeting_id,
            Feedback.happened,
            Feedback.usefulness,
            Feedback.updated_at,
        ).where(Feedback.team_id == team_id)
    ).all()

    answers_by_meeting: dict[int, list[str]] = defaultdict(list)
    for row in feedback:
        if row.meeting_id is not None and row.happened is not None:
            answers_by_meeting[row.meeting_id].append(row.happened)

    outcome: dict[int, str] = {}
    for meeting in meetings:
        if meeting.starts_at <= now:
            outcome[meeting.id] = _outcome(answers_by_meeting.get(meeting.id, ()))
    meeting_figures = MeetingFigures(
        scheduled=sum(1 for m in meetings if m.starts_at > now),
        held=sum(1 for o in outcome.values() if o == HELD),
        missed=sum(1 for o in outcome.values() if o == MISSED),
        unknown=sum(1 for o in outcome.values() if o == UNKNOWN),
    )

    prep = _prep_figures(session, team_id=team_id, past_meetings=set(outcome))
    ratings = [row.usefulness for row in feedback if row.usefulness is not None]
    usefulness = _usefulness(ratings)
    tips = _tip_figures(session, team_id=team_id)

    at_risk = _at_risk(
        pairs=[p for p in pairs if p.status == "active"],
        meetings=meetings,
        outcome=outcome,
        feedback=feedback,
        now=now,
    )

    first_week = week_start(now) - timedelta(weeks=weeks - 1)
    window_start = datetime.combine(first_week, datetime.min.time(), tzinfo=UTC)
    tips_sent_at = session.scalars(
        select(ScheduledMessage.sent_at).where(
            ScheduledMessage.team_id == team_id,
            ScheduledMessage.kind == "tip",
            ScheduledMessage.status == "sent",
            ScheduledMessage.sent_at >= window_start,
            ScheduledMessage.sent_at <= now,
        )
    ).all()
    buckets = [first_week + timedelta(weeks=i) for i in range(weeks)]
    held_weeks = _per_week(m.starts_at for m in meetings if outcome.get(m.id) == HELD)
    feedback_weeks = _per_week(
        row.updated_at
        for row in feedback
        if (row.happened is not None or row.usefulness is not None) and row.updated_at <= now
    )
    tip_weeks = _per_week(tips_sent_at)
    pair_weeks = _per_week(
        p.accepted_at for p in pairs if p.accepted_at is not None and p.accepted_at <= now
    )
    trend = tuple(
        WeekFigures(
            week_start=week,
            meetings_held=held_weeks.get(week, 0),
            feedback_answers=feedback_weeks.get(week, 0),
            tips_sent=tip_weeks.get(week, 0),
            new_pairs=pair_weeks.get(week, 0),
        )
        for week in buckets
    )

    return ProgramReport(
        team_id=team_id,
        generated_at=now,
        active_pairs=status_count["active"],
        ended_pairs=status_count["ended"],
        open_invitations=status_count["invited"],
        meetings=meeting_figures,
        prep=prep,
        usefulness=usefulness,
        tips=tips,
        at_risk=at_risk,
        weeks=trend,
    )


def _outcome(answers: Iterable[str]) -> str:
    answers = set(answers)
    if "yes" in answers:
        return HELD
    if answers & set(DIDNT_HAPPEN):
        return MISSED
    return UNKNOWN


def _prep_figures(session: Session, *, team_id: str, past_meetings: set[int]) -> PrepFigures:
    prompted = set(
        session.scalars(
            select(ScheduledMessage.meeting_id)
            .where(
                ScheduledMessage.team_id == team_id,
                ScheduledMessage.kind == "prep_mentee",
                ScheduledMessage.status == "sent",
                ScheduledMessage.meeting_id.is_not(None),
            )
            .distinct()
        ).all()
    )
    prompted &= past_meetings
    answered_ids = set(
        session.scalars(
            select(PrepAnswer.meeting_id).where(PrepAnswer.team_id == team_id).distinct()
        ).all()
    )
    answered = len(prompted & answered_ids)
    return PrepFigures(
        prompted=len(prompted),
        answered=answered,
        rate=answered / len(prompted) if prompted else None,
    )


def _usefulness(ratings: list[int]) -> UsefulnessFigures:
    counts = tuple((score, sum(1 for r in ratings if r == score)) for score in range(1, 6))
    average = round(sum(ratings) / len(ratings), 2) if ratings else None
    return UsefulnessFigures(
        answers=len(ratings),
        distribution=suppress_small(len(ratings), counts),
        average=suppress_small(len(ratings), average),
    )


def _tip_figures(session: Session, *, team_id: str) -> TipFigures:
    total, up = session.execute(
        select(
            func.count(TipVote.id),
            func.coalesce(func.sum(case((TipVote.vote > 0, 1), else_=0)), 0),
        ).where(TipVote.team_id == team_id)
    ).one()
    total, up = int(total or 0), int(up or 0)
    return TipFigures(
        votes=total, thumbs_up_rate=suppress_small(total, up / total if total else None)
    )


def _at_risk(
    *,
    pairs: Sequence[Row[Any]],
    meetings: Sequence[Row[Any]],
    outcome: dict[int, str],
    feedback: Sequence[Row[Any]],
    now: datetime,
) -> tuple[AtRiskPair, ...]:
    meetings_by_pair: dict[int, list[Row[Any]]] = defaultdict(list)
    for meeting in meetings:  # already in start order
        meetings_by_pair[meeting.pair_id].append(meeting)
    ratings_by_pair: dict[int, list[int]] = defaultdict(list)
    for row in feedback:
        if row.usefulness is not None:
            ratings_by_pair[row.pair_id].append(row.usefulness)

    quiet_since = now - QUIET_PERIOD
    result = []
    for pair in pairs:
        reasons: list[str] = []
        own = meetings_by_pair.get(pair.id, [])
        past = [m for m in own if m.starts_at <= now]
        ahead = any(m.starts_at > now for m in own)
        # A pair only just formed has not had three weeks to meet yet.
        active_since = pair.accepted_at or pair.created_at
        recent = any(m.starts_at > quiet_since and outcome[m.id] != MISSED for m in past)
        if not ahead and not recent and active_since <= quiet_since:
            reasons.append(RISK_QUIET)
        last = past[-RECENT_MEETINGS:]
        if sum(1 for m in last if outcome[m.id] == MISSED) >= MISSED_FOR_RISK:
            reasons.append(RISK_MISSED)
        ratings = ratings_by_pair.get(pair.id, [])
        average = suppress_small(len(ratings), sum(ratings) / len(ratings) if ratings else None)
        if average is not None and average <= LOW_USEFULNESS:
            reasons.append(RISK_LOW_USEFULNESS)
        if reasons:
            result.append(
                AtRiskPair(
                    pair_id=pair.id,
                    mentor_id=pair.mentor_id,
                    mentee_id=pair.mentee_id,
                    reasons=tuple(reasons),
                )
            )
    return tuple(result)


def _per_week(times: Iterable[datetime | None]) -> dict[date, int]:
    counts: dict[date, int] = defaultdict(int)
    for when in times:
        if when is not None:
            counts[week_start(when)] += 1
    return counts
