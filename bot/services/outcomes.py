"""Outcome figures for coordinators: do pairs get going, keep meeting, and reach goals?

* days from kickoff to the first meeting (median),
* days between meetings (median of each pair's median),
* the share of pairs still meeting at 30, 90 and 180 days,
* goals set, and goals marked done.

``compute_outcomes`` is pure (plain records and an ``as_of`` in, figures out);
``outcome_report`` loads the records of one workspace. Neither ever reads a word
anyone typed, a rating or a check-in score.

The privacy rule (README, "Privacy") holds here as for the weekly figures, with pairs
as the unit, since each figure describes pairs:

* **Closed weeks.** Figures are as of the start of the current week (Monday 00:00
  UTC), from facts dated before it, so they move once a week, not with each answer.
* **Kickoff cohorts, whole and once.** Pairs are grouped by the calendar month (UTC)
  of their kickoff. A figure of a cohort at horizon *H* days appears only once every
  pair in it has passed *H* days (plus a week for late poll answers), reading only
  what each pair did in its first *H* days and the answers given by then. So a
  cohort's figure appears whole, never one pair at a time, and does not move after.
* **K pairs.** A median is shown only when at least K pairs contribute to it; a share
  (and "goals marked done") only when at least K pairs are on *each* side. A figure
  over only some of a month's pairs (days between meetings: the pairs that met twice;
  goals set: the pairs that set any) shows how many those are, a share of the month,
  so it too needs K pairs on each side. Hidden figures are ``None``; whole-program
  figures pool only the cohorts shown.
* **Never the viewer's own pairs, and no view to subtract from another.** A month in
  which the viewer has a pair of their own is hidden for them (``CohortFigures.yours``),
  not shown without their pairs: that, beside the same month shown to another
  coordinator, would give their pairs away. A hidden month says nothing, so views
  that differ only by what each hides cannot be differenced; whole-program figures
  pool only the months the viewer is shown. And since another coordinator knows their
  own pairs (and someone who used ``forget-me`` is no longer recognised in theirs), a
  month shown to a viewer needs K pairs (each side) besides the most that any one
  person has in it; the CLI report has no viewer and needs K.
* **Meetings, not ratings.** A meeting counts as held unless a member said it didn't
  happen, as in the care rules and the pairs-at-risk list.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.domain.care import MISSED, outcome_of
from bot.services.insights import MINIMUM_PEOPLE, Split, split, week_start
from bot.store import outcomes as outcome_store

FIRST_MEETING_DAYS = 30  # horizon of "days to first meeting": later is "more than 30"
GAP_DAYS = 90  # the window whose meetings make "days between meetings"
STILL_MEETING_DAYS = (30, 90, 180)
STILL_WINDOW = timedelta(days=30)  # "still meeting at N": held one in days N−30 … N
GOAL_DAYS = 90  # goals set, and marked done, within a pair's first 90 days
ANSWER_GRACE = timedelta(days=7)  # a poll answered up to a week after its horizon counts
NEVER = float("inf")


@dataclass(frozen=True)
class MeetingRecord:
    starts_at: datetime
    cancelled: bool = False
    answers: tuple[tuple[str, datetime], ...] = ()  # (happened, answered at)


@dataclass(frozen=True)
class GoalRecord:
    created_at: datetime
    done_at: datetime | None = None


@dataclass(frozen=True)
class PairRecord:
    pair_id: int
    mentor_id: str
    mentee_id: str
    kickoff: datetime
    ended_at: datetime | None = None
    meetings: tuple[MeetingRecord, ...] = ()
    goals: tuple[GoalRecord, ...] = ()
    # horizon → the facts frozen for this pair there (``pair_facts``), once shown.
    frozen: Mapping[int, Mapping[str, Any]] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Median:
    """A median over pairs: ``days`` (``inf``: more than the horizon) and how many pairs
    it rests on; both ``None`` when fewer than K pairs contribute."""

    pairs: int | None = None
    days: float | None = None
    # Hidden although K pairs have a value: the pairs without one (no second meeting)
    # were fewer than K, and which pairs have one is itself a share of the month.
    one_side: bool = False


@dataclass(frozen=True)
class GoalFigures:
    pairs_with_goals: int | None = None  # None unless K pairs set goals and K did not
    one_side: bool = False  # hidden for the second reason
    goals_set: int | None = None  # shown with pairs_with_goals
    done: Split = field(default_factory=Split)  # pairs with a goal marked done, of those
    goals_done: int | None = None  # shown with ``done``


@dataclass(frozen=True)
class CohortFigures:
    cohort: date  # the first day of the kickoff month
    pairs: int  # pairs that kicked off that month: program state, counted as it is
    first_meeting: Median | None  # None: not closed yet
    gap: Median | None
    still_meeting: dict[int, Split | None]
    goals: GoalFigures | None
    yours: bool = False  # hidden for the viewer: it counts a pair of their own


@dataclass(frozen=True)
class OutcomeReport:
    team_id: str
    as_of: datetime  # the start of the current week: the figures' cut-off
    viewer: str | None
    minimum: int
    cohorts: tuple[CohortFigures, ...]  # oldest first
    first_meeting: Median  # pooled over the cohorts shown
    gap: Median
    still_meeting: dict[int, Split]
    goals: GoalFigures


# ---------------------------------------------------------------- pure


def _month(when: datetime) -> date:
    return when.astimezone(UTC).date().replace(day=1)


def _next_month(day: date) -> datetime:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def _closed(cohort: date, horizon: int, as_of: datetime) -> bool:
    return _next_month(cohort) + timedelta(days=horizon) + ANSWER_GRACE <= as_of


def _held(pair: PairRecord, *, horizon: int) -> list[datetime]:
    """Starts of the meetings held in the pair's first ``horizon`` days, by what the polls
    said up to a week after it."""
    until = pair.kickoff + timedelta(days=horizon)
    answers_until = until + ANSWER_GRACE
    if pair.ended_at is not None:
        until = min(until, pair.ended_at)
    held = []
    for meeting in pair.meetings:
        if meeting.cancelled or not pair.kickoff <= meeting.starts_at <= until:
            continue
        said = [h for h, at in meeting.answers if at <= answers_until]
        if outcome_of(said) != MISSED:
            held.append(meeting.starts_at)
    return sorted(held)


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


def first_meeting_days(pair: PairRecord) -> float:
    """Days from kickoff to the first meeting held, ``inf`` if none in the horizon."""
    held = _held(pair, horizon=FIRST_MEETING_DAYS)
    return _days(held[0] - pair.kickoff) if held else NEVER


def median_gap_days(pair: PairRecord) -> float | None:
    """The median of the days between the pair's consecutive meetings in its first
    ``GAP_DAYS``; None with fewer than two meetings."""
    held = _held(pair, horizon=GAP_DAYS)
    if len(held) < 2:
        return None
    return statistics.median(_days(b - a) for a, b in zip(held, held[1:], strict=False))


def still_meeting(pair: PairRecord, days: int) -> bool:
    """Held a meeting in the 30 days up to day ``days`` after kickoff."""
    start = pair.kickoff + timedelta(days=days) - STILL_WINDOW
    return any(when > start for when in _held(pair, horizon=days))


def _goal_counts(pair: PairRecord) -> tuple[int, int]:
    """Goals set in the pair's first ``GOAL_DAYS``, and those marked done by then."""
    until = pair.kickoff + timedelta(days=GOAL_DAYS)
    set_ = [g for g in pair.goals if g.created_at <= until]
    done = [g for g in set_ if g.done_at is not None and g.done_at <= until]
    return len(set_), len(done)


HORIZONS = tuple(sorted({FIRST_MEETING_DAYS, GAP_DAYS, GOAL_DAYS, *STILL_MEETING_DAYS}))


def pair_facts(pair: PairRecord, horizon: int) -> dict[str, Any]:
    """What the figures at ``horizon`` take from one pair: plain numbers, frozen the
    first time they are shown (``first`` None: no meeting within the horizon)."""
    facts: dict[str, Any] = {}
    if horizon == FIRST_MEETING_DAYS:
        first = first_meeting_days(pair)
        facts["first"] = None if first == NEVER else first
    if horizon == GAP_DAYS:
        facts["gap"] = median_gap_days(pair)
    if horizon in STILL_MEETING_DAYS:
        facts["still"] = still_meeting(pair, horizon)
    if horizon == GOAL_DAYS:
        facts["goals_set"], facts["goals_done"] = _goal_counts(pair)
    return facts


def _facts(pair: PairRecord, horizon: int) -> Mapping[str, Any]:
    frozen = pair.frozen.get(horizon)
    return frozen if frozen is not None else pair_facts(pair, horizon)


def _first(pair: PairRecord) -> float:
    first = _facts(pair, FIRST_MEETING_DAYS)["first"]
    return NEVER if first is None else float(first)


def _most_per_person(pairs: Sequence[PairRecord]) -> int:
    """The most pairs any one person has among ``pairs`` (what one viewer may know)."""
    counts = Counter(person for pair in pairs for person in (pair.mentor_id, pair.mentee_id))
    return max(counts.values(), default=0)


def _median(values: Sequence[float], minimum: int) -> Median:
    if len(values) < minimum:
        return Median()
    value = statistics.median(sorted(values))
    return Median(len(values), value if value == NEVER else round(value, 1))


def _median_of_some(values: Sequence[float], out_of: int, minimum: int) -> Median:
    """A median over the pairs of a month that have a value (``values``, of ``out_of``):
    how many do is a share of the month, so it is shown, as any share, only with K pairs
    on each side."""
    if len(values) >= minimum and out_of - len(values) < minimum:
        return Median(one_side=True)
    return _median(values, minimum)


def _goals(pairs: Sequence[PairRecord], minimum: int) -> GoalFigures:
    with_goals = done_pairs = goals_set = goals_done = 0
    for pair in pairs:
        facts = _facts(pair, GOAL_DAYS)
        set_, done = int(facts["goals_set"]), int(facts["goals_done"])
        if set_:
            with_goals += 1
            goals_set += set_
        if done:
            done_pairs += 1
            goals_done += done
    # Which pairs set goals is a share of the month: K on each side, as any share.
    shown = split(with_goals, len(pairs) - with_goals, minimum).yes
    # Counted over the pairs that set goals, so shown only with them: its "of N pairs"
    # would say how many did.
    done_split = split(done_pairs, with_goals - done_pairs, minimum) if shown else Split()
    return GoalFigures(
        pairs_with_goals=shown,
        one_side=shown is None and with_goals >= minimum,
        goals_set=goals_set if shown is not None else None,
        done=done_split,
        goals_done=goals_done if done_split.yes is not None else None,
    )


def _pool_goals(cells: Sequence[GoalFigures]) -> GoalFigures:
    counted = [c for c in cells if c.pairs_with_goals is not None]
    done = [c for c in cells if c.done.yes is not None]
    return GoalFigures(
        pairs_with_goals=sum(c.pairs_with_goals or 0 for c in counted) if counted else None,
        one_side=not counted and any(c.one_side for c in cells),
        goals_set=sum(c.goals_set or 0 for c in counted) if counted else None,
        done=Split(
            people=sum(c.done.people or 0 for c in done), yes=sum(c.done.yes or 0 for c in done)
        )
        if done
        else Split(),
        goals_done=sum(c.goals_done or 0 for c in done) if done else None,
    )


def figures_as_of(now: datetime) -> datetime:
    """The figures' cut-off: the start (Monday 00:00 UTC) of ``now``'s week."""
    return datetime.combine(week_start(now), time.min, tzinfo=UTC)


def compute_outcomes(
    pairs: Sequence[PairRecord],
    *,
    team_id: str,
    now: datetime,
    viewer: str | None = None,
    minimum: int = MINIMUM_PEOPLE,
) -> OutcomeReport:
    """The figures, under the rule in this module's docstring."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if minimum < MINIMUM_PEOPLE:
        raise ValueError(f"minimum must be at least {MINIMUM_PEOPLE}")
    as_of = figures_as_of(now)
    cohorts: dict[date, list[PairRecord]] = defaultdict(list)
    for pair in pairs:
        if pair.kickoff < as_of:
            cohorts[_month(pair.kickoff)].append(pair)

    figures: list[CohortFigures] = []
    pooled_first: list[float] = []
    pooled_gap: list[float] = []
    gap_one_side = False  # a month's gap hidden for its other side (the whole says why)
    pooled_still: dict[int, list[Split]] = {days: [] for days in STILL_MEETING_DAYS}
    goal_cells: list[GoalFigures] = []
    for cohort in sorted(cohorts):
        members = cohorts[cohort]
        yours = viewer is not None and any(viewer in (p.mentor_id, p.mentee_id) for p in members)
        if yours:
            needed = len(members) + 1  # more pairs than there are: no figure can show
        elif viewer is not None:
            # Another coordinator may know their own pairs of this month (and see this
            # view beside theirs), and a forgotten one is no longer recognised: K pairs
            # besides the most that any one person has in it.
            needed = minimum + _most_per_person(members)
        else:
            needed = minimum
        first = gap = goals = None
        if _closed(cohort, FIRST_MEETING_DAYS, as_of):
            values = [_first(p) for p in members]
            first = _median(values, needed)
            if first.days is not None:
                pooled_first += values
        if _closed(cohort, GAP_DAYS, as_of):
            gaps = [g for g in (_facts(p, GAP_DAYS)["gap"] for p in members) if g is not None]
            gap = _median_of_some(gaps, len(members), needed)
            if gap.days is not None:
                pooled_gap += gaps
            gap_one_side = gap_one_side or gap.one_side
        if _closed(cohort, GOAL_DAYS, as_of):
            goals = _goals(members, needed)
            goal_cells.append(goals)
        still: dict[int, Split | None] = {}
        for days in STILL_MEETING_DAYS:
            if not _closed(cohort, days, as_of):
                still[days] = None
                continue
            yes = sum(1 for p in members if _facts(p, days)["still"])
            still[days] = split(yes, len(members) - yes, needed)
            if still[days].yes is not None:  # type: ignore[union-attr]
                pooled_still[days].append(still[days])  # type: ignore[arg-type]
        figures.append(CohortFigures(cohort, len(members), first, gap, still, goals, yours))

    def pool(cells: list[Split]) -> Split:
        if not cells:
            return Split()
        return Split(sum(c.people or 0 for c in cells), sum(c.yes or 0 for c in cells))

    return OutcomeReport(
        team_id=team_id,
        as_of=as_of,
        viewer=viewer,
        minimum=minimum,
        cohorts=tuple(figures),
        first_meeting=_median(pooled_first, minimum),
        gap=_median(pooled_gap, minimum)
        if pooled_gap or not gap_one_side
        else Median(one_side=True),
        still_meeting={days: pool(cells) for days, cells in pooled_still.items()},
        goals=_pool_goals(goal_cells),
    )


# ---------------------------------------------------------------- loading


def outcome_report(
    session: Session,
    *,
    team_id: str,
    now: datetime,
    viewer: str | None = None,
    minimum: int = MINIMUM_PEOPLE,
) -> OutcomeReport:
    """One workspace's outcome figures (reads only: dates, statuses, "did it happen")."""
    history = outcome_store.pair_histories(session, team_id=team_id)
    frozen = outcome_store.frozen_facts(session, team_id=team_id)
    records = [
        PairRecord(
            pair_id=pair.pair_id,
            mentor_id=pair.mentor_id,
            mentee_id=pair.mentee_id,
            kickoff=pair.kickoff,
            ended_at=pair.ended_at,
            meetings=tuple(
                MeetingRecord(m.starts_at, m.cancelled, m.answers)
                for m in history.meetings.get(pair.pair_id, ())
            ),
            goals=tuple(
                GoalRecord(created_at, done_at)
                for created_at, done_at in history.goals.get(pair.pair_id, ())
            ),
        )
        for pair in history.pairs
    ]
    # The first time a kickoff month's figures at a horizon can be shown, each of its
    # pairs' facts there are frozen: what coordinators saw never moves afterwards.
    as_of = figures_as_of(now)
    due = {
        (record.pair_id, horizon): pair_facts(record, horizon)
        for record in records
        if record.kickoff < as_of
        for horizon in HORIZONS
        if _closed(_month(record.kickoff), horizon, as_of)
        and horizon not in frozen.get(record.pair_id, {})
    }
    for (pair_id, horizon), facts in outcome_store.freeze_facts(
        session, team_id=team_id, facts=due, now=now
    ).items():
        frozen.setdefault(pair_id, {})[horizon] = facts
    records = [replace(r, frozen=frozen.get(r.pair_id, {})) for r in records]
    return compute_outcomes(records, team_id=team_id, now=now, viewer=viewer, minimum=minimum)


__all__ = [
    "CohortFigures",
    "GoalFigures",
    "GoalRecord",
    "Median",
    "MeetingRecord",
    "OutcomeReport",
    "PairRecord",
    "compute_outcomes",
    "first_meeting_days",
    "median_gap_days",
    "outcome_report",
    "still_meeting",
]
