"""Coordinators' program insights: figures of closed weeks, counted in people.

``program_report`` returns a frozen ``ProgramReport``. It never selects a free-text
column (feedback ``helped``/``change``, prep ``focus``/``questions``), and it never
carries a rating: only how many people were on each side of a yes/no question.

The privacy rule (README, "Privacy") is enforced here and nowhere else:

* **Closed weeks, frozen.** Figures built from what people answer — the poll's "did
  it happen?" and usefulness, prep answers, tip votes — are published per closed week
  (Monday 00:00 to Sunday 24:00 UTC); the open week is never shown. The first time a
  closed week is needed its figures are frozen (``insight_weeks``, ``insight_people``)
  from the answers whose own time falls in that week, and never change after that:
  not with a late answer, an edited one, or a ``forget-me``.
* **People, not answers.** Each person counts once per week and question: *met* if any
  of their answers that week said the meeting happened (else *not met* if they said
  "no"/"rescheduled"); *useful* if their ratings that week average 4 or more; a mentee
  prompted for a meeting that week *prepared* if they sent their prep by the week's
  end; *liked the tips* with at least as many 👍 as 👎 that week.
* **K people.** A count of people is shown only when it is at least K
  (``minimum``, the content setting ``privacy_minimum_people``, never under 3); a
  yes/no split only when *both* sides have at least K people. Otherwise the split is
  hidden whole (both sides), so neither side can be found from the other.
* **Never the viewer's own answers, and no view to subtract from another.** The
  coordinators named in ``MENTOR_ADMINS`` (``coordinators``) are left out when a week
  is frozen: their answers are in no figure, so they are all shown the same figures.
  Anyone else who is shown figures (a Slack admin, or someone named after the week
  froze) and is counted in one does not see it: it is hidden for them, not shown
  without them, since a figure less one person, beside the same figure shown to
  another coordinator, would give that person's answer away. A hidden figure says
  nothing, so views that differ only by what each hides cannot be differenced.
  Someone who used ``forget-me`` cannot be recognised in a frozen week any more (their
  part is under a tombstone nothing links to them), so for a viewer a figure that
  counts a forgotten person needs K besides them: K + 1 (each side).
* **Totals are sums of shown cells** (``total``, ``pooled``), so a total never gives
  away a hidden week.
* **Pairs at risk rest on meetings, never on ratings:** no first meeting 21 days after
  kickoff, no meeting in 30 days, or two "didn't happen" in a row (a fact about the
  pair's meetings that both members share); and only once the pair itself was nudged
  and nothing changed for a week. The rule is ``bot.domain.care``'s, the one the care
  pass nudges by.

Program state — pairs, open invitations, meetings ahead, and per closed week the tips
sent and the pairs formed — is nobody's answer and is counted as it is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import Row
from sqlalchemy.orm import Session

from bot.domain import care
from bot.domain.forgotten import is_forgotten
from bot.outgoing import CARE_NUDGE
from bot.store import care as care_store
from bot.store import insights as store
from bot.store.models import InsightPerson, InsightWeek

T = TypeVar("T")

MINIMUM_PEOPLE = 3  # K: the floor; content may raise it, never lower it
USEFUL_FROM = 4  # a person's average rating in a week at or above this: "found it useful"

# Why a pair is at risk (``bot.domain.care``'s reasons), as coordinators read it.
RISK_NO_FIRST_MEETING = "no first meeting three weeks after kickoff"
RISK_QUIET = "no meeting in 30 days"
RISK_MISSED = "two meetings in a row didn't happen"
RISK_REASONS = {
    care.NO_FIRST_MEETING: RISK_NO_FIRST_MEETING,
    care.QUIET: RISK_QUIET,
    care.MISSED_TWICE: RISK_MISSED,
}


def suppress_small(count: int, value: T, minimum: int = MINIMUM_PEOPLE) -> T | None:
    """``value`` when it rests on at least ``minimum`` people, else ``None``."""
    return value if count >= minimum else None


@dataclass(frozen=True)
class Split:
    """One yes/no question in one closed week, in people.

    ``people`` is how many answered (``None`` under K); ``yes`` how many of them are on
    the yes side, ``None`` unless both sides have at least K people.
    """

    people: int | None = None
    yes: int | None = None

    @property
    def share(self) -> float | None:
        return None if self.yes is None or not self.people else self.yes / self.people


def split(yes: int, no: int, minimum: int = MINIMUM_PEOPLE) -> Split:
    people = yes + no
    return Split(
        people=suppress_small(people, people, minimum),
        yes=yes if yes >= minimum and no >= minimum else None,
    )


@dataclass(frozen=True)
class WeekFigures:
    week_start: date  # a Monday (UTC); the week is closed
    feedback_people: int | None  # people who answered a poll; None under K
    met: Split  # said their meeting happened
    useful: Split  # rated meetings 4–5 on average
    prepared: Split  # mentees prompted for a meeting that week who sent their prep
    tips_liked: Split  # at least as many 👍 as 👎 on tips
    tips_sent: int  # the bot's own messages: nobody's answer
    new_pairs: int  # invitations accepted that week: program state
    # The figures hidden because they count the viewer's own answers (see the module).
    yours: frozenset[str] = frozenset()


COUNT_METRICS = ("feedback_people", "tips_sent", "new_pairs")
SPLIT_METRICS = ("met", "useful", "prepared", "tips_liked")
TREND_METRICS = COUNT_METRICS


@dataclass(frozen=True)
class AtRiskPair:
    pair_id: int
    mentor_id: str
    mentee_id: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ProgramReport:
    team_id: str
    generated_at: datetime
    viewer: str | None  # the coordinator shown it; None: the CLI
    minimum_people: int  # people a figure needs: K
    active_pairs: int
    ended_pairs: int
    open_invitations: int
    meetings_ahead: int  # scheduled, not cancelled, starting after ``generated_at``
    at_risk: tuple[AtRiskPair, ...]
    weeks: tuple[WeekFigures, ...]  # closed weeks, oldest first; the open week never

    @property
    def last_week(self) -> WeekFigures | None:
        """The most recent closed week."""
        return self.weeks[-1] if self.weeks else None

    def series(self, metric: str) -> tuple[int | None, ...]:
        """One count (see ``COUNT_METRICS``) per closed week, oldest first; ``None``
        where hidden."""
        if metric not in COUNT_METRICS:
            raise ValueError(f"unknown trend metric {metric!r}; one of {', '.join(COUNT_METRICS)}")
        return tuple(getattr(week, metric) for week in self.weeks)

    def total(self, metric: str) -> int:
        """The sum of the shown weekly cells of one count: hidden weeks add nothing."""
        return sum(value for value in self.series(metric) if value is not None)

    def splits(self, metric: str) -> tuple[Split, ...]:
        if metric not in SPLIT_METRICS:
            raise ValueError(f"unknown split {metric!r}; one of {', '.join(SPLIT_METRICS)}")
        return tuple(getattr(week, metric) for week in self.weeks)

    def pooled(self, metric: str) -> Split:
        """A split over all weeks, summed from the weeks whose split is shown only."""
        shown = [s for s in self.splits(metric) if s.yes is not None and s.people is not None]
        if not shown:
            return Split()
        return Split(people=sum(s.people or 0 for s in shown), yes=sum(s.yes or 0 for s in shown))


def week_start(when: datetime | date) -> date:
    """The Monday (UTC) of the week containing ``when``."""
    day = when.astimezone(UTC).date() if isinstance(when, datetime) else when
    return day - timedelta(days=day.weekday())


def _bounds(week: date) -> tuple[datetime, datetime]:
    start = datetime.combine(week, time.min, tzinfo=UTC)
    return start, start + timedelta(weeks=1)


def program_report(
    session: Session,
    *,
    team_id: str,
    now: datetime,
    weeks: int = 8,
    viewer: str | None = None,
    coordinators: Collection[str] = (),
    minimum: int = MINIMUM_PEOPLE,
) -> ProgramReport:
    """What a coordinator (``viewer``; ``None`` for the CLI) may see of one workspace.

    Freezes the closed weeks it shows that were never frozen before, so it writes,
    leaving out the answers of ``coordinators`` (``MENTOR_ADMINS``).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    if minimum < MINIMUM_PEOPLE:
        raise ValueError(f"minimum must be at least {MINIMUM_PEOPLE} people")
    now = now.astimezone(UTC)

    pairs = store.pairs(session, team_id=team_id)
    status_count: dict[str, int] = defaultdict(int)
    for pair in pairs:
        status_count[pair.status] += 1

    meetings = store.scheduled_meetings(session, team_id=team_id)
    at_risk = _at_risk(
        session, team_id=team_id, pairs=[p for p in pairs if p.status == "active"], now=now
    )

    last_closed = week_start(now) - timedelta(weeks=1)
    shown = [last_closed - timedelta(weeks=n) for n in reversed(range(weeks))]
    freeze_weeks(session, team_id=team_id, weeks=shown, now=now, leave_out=coordinators)
    frozen = store.frozen_weeks(session, team_id=team_id, weeks=shown)
    people: dict[date, list[InsightPerson]] = defaultdict(list)
    for person in store.frozen_people(session, team_id=team_id, weeks=shown):
        people[person.week_start].append(person)
    return ProgramReport(
        team_id=team_id,
        generated_at=now,
        viewer=viewer,
        minimum_people=minimum,
        active_pairs=status_count["active"],
        ended_pairs=status_count["ended"],
        open_invitations=status_count["invited"],
        meetings_ahead=sum(1 for m in meetings if m.starts_at > now),
        at_risk=at_risk,
        weeks=tuple(_figures(frozen[week], people[week], minimum, viewer) for week in shown),
    )


def _figures(
    week: InsightWeek, people: Sequence[InsightPerson], minimum: int, viewer: str | None
) -> WeekFigures:
    own = next((person for person in people if person.user_id == viewer), None)
    counts_viewer = {metric for metric in _ANSWERED_BY if own is not None and _counts(own, metric)}

    def needed(metric: str) -> int:
        # The viewer may be a forgotten person of this week: K besides them.
        unknown = viewer is not None and any(
            is_forgotten(person.user_id) and _counts(person, metric) for person in people
        )
        return minimum + 1 if unknown else minimum

    def tally(metric: str) -> Split:
        if metric in counts_viewer:
            return Split()
        values = [getattr(person, _ANSWERED_BY[metric]) for person in people]
        return split(
            sum(1 for v in values if v is True),
            sum(1 for v in values if v is False),
            needed(metric),
        )

    answered = sum(1 for person in people if person.answered)
    return WeekFigures(
        week_start=week.week_start,
        feedback_people=None
        if "feedback_people" in counts_viewer
        else suppress_small(answered, answered, needed("feedback_people")),
        met=tally("met"),
        useful=tally("useful"),
        prepared=tally("prepared"),
        tips_liked=tally("tips_liked"),
        tips_sent=week.tips_sent,
        new_pairs=week.new_pairs,
        yours=frozenset(counts_viewer),
    )


# Each figure built from people's answers, and the part of a frozen person it counts.
_ANSWERED_BY = {
    "feedback_people": "answered",
    "met": "met",
    "useful": "useful",
    "prepared": "prepared",
    "tips_liked": "liked_tips",
}


def _counts(person: InsightPerson, metric: str) -> bool:
    """Whether ``metric`` counts ``person``: they answered (a yes or a no) that week."""
    part = getattr(person, _ANSWERED_BY[metric])
    return part is True if metric == "feedback_people" else part is not None


# ---------------------------------------------------------------- frozen weeks


def freeze_weeks(
    session: Session,
    *,
    team_id: str,
    weeks: Iterable[date],
    now: datetime,
    leave_out: Collection[str] = (),
) -> int:
    """Freeze each closed week of ``weeks`` that is not frozen yet, without the answers
    of the people in ``leave_out`` (the coordinators); returns how many.

    Two processes freezing the same week at once: the unique key lets one win and the
    other keeps the winner's rows (its own attempt is rolled back to a savepoint).
    """
    wanted = sorted(set(weeks))
    done = set(store.frozen_weeks(session, team_id=team_id, weeks=wanted))
    frozen = 0
    for week in wanted:
        start, end = _bounds(week)
        if week in done or end > now:
            continue
        parts = _parts_of_week(session, team_id=team_id, start=start, end=end)
        for coordinator in leave_out:
            parts.pop(coordinator, None)
        tips_sent, new_pairs = _state_of_week(session, team_id=team_id, start=start, end=end)
        if store.freeze_week(
            session,
            team_id=team_id,
            week=week,
            now=now,
            tips_sent=tips_sent,
            new_pairs=new_pairs,
            parts=parts,
        ):
            frozen += 1
        # else frozen meanwhile by another process; its figures stand
    return frozen


def _parts_of_week(
    session: Session, *, team_id: str, start: datetime, end: datetime
) -> dict[str, dict[str, Any]]:
    """Each person's yes/no per question, from the answers whose time is in the week."""
    happened: dict[str, list[str]] = defaultdict(list)
    ratings: dict[str, list[int]] = defaultdict(list)
    answered: set[str] = set()
    for user_id, said, rating in store.answers_between(
        session, team_id=team_id, start=start, end=end
    ):
        if said is not None:
            happened[user_id].append(said)
            answered.add(user_id)
        if rating is not None:
            ratings[user_id].append(rating)
            answered.add(user_id)

    # Mentees prompted for a meeting of this week, and whether they sent their prep.
    prompted = store.mentees_prompted(session, team_id=team_id, start=start, end=end)
    sent_prep = store.prep_sent(
        session,
        team_id=team_id,
        meeting_ids={meeting_id for _, meeting_id in prompted},
        before=end,
    )
    prepared: dict[str, bool] = {}
    for user_id, meeting_id in prompted:
        prepared[user_id] = prepared.get(user_id, False) or (user_id, meeting_id) in sent_prep

    votes: dict[str, list[int]] = defaultdict(list)
    for user_id, vote in store.votes_between(session, team_id=team_id, start=start, end=end):
        votes[user_id].append(vote)

    parts: dict[str, dict[str, Any]] = {}
    for user_id in set(answered) | set(prepared) | set(votes):
        said = happened.get(user_id, [])
        rated = ratings.get(user_id, [])
        voted = votes.get(user_id, [])
        parts[user_id] = {
            "answered": user_id in answered,
            "met": ("yes" in said) if said else None,
            "useful": (sum(rated) >= USEFUL_FROM * len(rated)) if rated else None,
            "prepared": prepared.get(user_id),
            "liked_tips": (sum(1 for v in voted if v > 0) * 2 >= len(voted)) if voted else None,
        }
    return parts


def _state_of_week(
    session: Session, *, team_id: str, start: datetime, end: datetime
) -> tuple[int, int]:
    return (
        store.tips_sent_between(session, team_id=team_id, start=start, end=end),
        store.pairs_accepted_between(session, team_id=team_id, start=start, end=end),
    )


# ---------------------------------------------------------------- pairs at risk


def _at_risk(
    session: Session,
    *,
    team_id: str,
    pairs: Sequence[Row[Any]],
    now: datetime,
) -> tuple[AtRiskPair, ...]:
    """The pairs the one care rule (``bot.domain.care.at_risk``) shows: a reason held
    (no first meeting 21 days after kickoff, no meeting in 30 days, two "didn't
    happen" in a row), the pair was nudged kindly, and nothing changed for a week
    since. It reads kickoffs, meetings and whether they happened: never a rating."""
    facts = care_store.pair_facts(
        session,
        team_id=team_id,
        nudged_at=care_store.last_sent(session, team_id=team_id, kind=CARE_NUDGE),
    )
    named = {pair.id: pair for pair in pairs}
    return tuple(
        AtRiskPair(
            pair_id=risk.pair_id,
            mentor_id=named[risk.pair_id].mentor_id,
            mentee_id=named[risk.pair_id].mentee_id,
            reasons=(RISK_REASONS[risk.reason or ""],),
        )
        for risk in care.at_risk(facts, now=now)
        if risk.pair_id in named
    )
