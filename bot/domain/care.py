"""Care before a pair fails: when to nudge a pair, when coordinators see it at risk,
and the private 30-day match check-in with its blame-free way out.

Pure rules over plain data and a ``now``; no Slack, no database. The defaults and the
research behind them (README, "Coaching that adapts"):

* **No first meeting within 21 days of kickoff.** Relationships that end very early
  leave mentees worse off (Grossman & Rhodes 2002), so a pair that has not got going
  by three weeks is the first thing worth a kind word.
* **No meeting in the last 30 days.** Meeting frequency went with more support in
  Eby et al.'s (2013) meta-analysis; mentoring platforms measure about 25 days
  between sessions, so 30 days without one is past the usual rhythm.
* **Two "didn't happen" in a row.** Both answers come from the feedback poll.

Each of these first nudges **the pair itself** (kindly, with one button to schedule);
only if nothing changes within 7 days does the pair show as at risk for coordinators.
At 30 days after kickoff each member gets a private match-quality check-in, the point
at which platforms survey match quality.

A meeting counts as held unless a member said it didn't happen (no answer is not a
"no", as in the coordinators' figures).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.buttons import NOT_MINE, id_or_none
from bot.domain.errors import Conflict, UserError
from bot.domain.tips import next_tip_due

FIRST_MEETING_WITHIN = timedelta(days=21)
QUIET_AFTER = timedelta(days=30)
MISSED_IN_A_ROW = 2
ESCALATE_AFTER = timedelta(days=7)
CHECKIN_AFTER = timedelta(days=30)
# A check-in not planned within this long of its day is not sent at all: "a month in"
# read two months in is wrong, and a pair that existed before this feature gets none.
CHECKIN_LATE_BY = timedelta(days=14)

# Why a pair needs care.
NO_FIRST_MEETING = "no_first_meeting"
QUIET = "quiet"
MISSED_TWICE = "missed_twice"
REASONS = (NO_FIRST_MEETING, QUIET, MISSED_TWICE)

# What to do about it.
NONE = "none"  # all well
NUDGE = "nudge"  # send the pair a kind nudge now
WAIT = "wait"  # nudged; give them up to ESCALATE_AFTER
AT_RISK = "at_risk"  # nudged, nothing changed: coordinators see it

# A meeting's outcome from the polls' "did it happen?".
HELD, MISSED, UNKNOWN = "held", "missed", "unknown"


def outcome_of(answers: Iterable[str | None]) -> str:
    """One meeting's outcome from its poll answers (``yes``/``rescheduled``/``no``)."""
    said = {a for a in answers if a}
    if "yes" in said:
        return HELD
    if said & {"no", "rescheduled"}:
        return MISSED
    return UNKNOWN


@dataclass(frozen=True)
class MeetingFact:
    starts_at: datetime
    created_at: datetime
    cancelled: bool = False
    outcome: str = UNKNOWN  # HELD | MISSED | UNKNOWN


@dataclass(frozen=True)
class PairFacts:
    pair_id: int
    kickoff: datetime  # when the invitation was accepted
    meetings: tuple[MeetingFact, ...] = ()
    nudged_at: datetime | None = None  # the last care nudge the pair was sent


@dataclass(frozen=True)
class Care:
    pair_id: int
    action: str  # NONE | NUDGE | WAIT | AT_RISK
    reason: str | None = None
    since: datetime | None = None  # when the reason began to hold


def _reasons(facts: PairFacts, now: datetime) -> list[tuple[datetime, str]]:
    live = sorted((m for m in facts.meetings if not m.cancelled), key=lambda m: m.starts_at)
    past = [m for m in live if m.starts_at <= now]
    ahead = any(m.starts_at > now for m in live)
    met = [m for m in past if m.outcome != MISSED]
    found: list[tuple[datetime, str]] = []
    if not met and not ahead and now >= facts.kickoff + FIRST_MEETING_WITHIN:
        found.append((facts.kickoff + FIRST_MEETING_WITHIN, NO_FIRST_MEETING))
    if met and not ahead and now >= met[-1].starts_at + QUIET_AFTER:
        found.append((met[-1].starts_at + QUIET_AFTER, QUIET))
    known = [m for m in past if m.outcome != UNKNOWN][-MISSED_IN_A_ROW:]
    if len(known) == MISSED_IN_A_ROW and all(m.outcome == MISSED for m in known):
        found.append((known[-1].starts_at, MISSED_TWICE))
    return found


def _changed_since(facts: PairFacts, when: datetime, now: datetime) -> bool:
    """Something the pair did after ``when`` that still stands: a meeting set since that
    is still ahead, or one held since. A meeting set after the nudge that then did not
    happen is no change, or a pair could stay "nudged" for ever without a meeting."""
    return any(
        not m.cancelled
        and (
            (m.created_at > when and m.starts_at > now)
            or (when < m.starts_at <= now and m.outcome != MISSED)
        )
        for m in facts.meetings
    )


def assess(facts: PairFacts, *, now: datetime) -> Care:
    """What this pair needs now. The longest-standing reason wins; a nudge sent after it
    began counts for it, and ``ESCALATE_AFTER`` without a change makes the pair at risk."""
    found = _reasons(facts, now)
    if not found:
        return Care(facts.pair_id, NONE)
    since, reason = min(found)
    nudged = facts.nudged_at
    if nudged is None or nudged < since:
        return Care(facts.pair_id, NUDGE, reason, since)
    if _changed_since(facts, nudged, now) or now < nudged + ESCALATE_AFTER:
        return Care(facts.pair_id, WAIT, reason, since)
    return Care(facts.pair_id, AT_RISK, reason, since)


def at_risk(pairs: Sequence[PairFacts], *, now: datetime) -> list[Care]:
    """The pairs coordinators see as at risk: nudged, and nothing changed in 7 days."""
    return [care for care in (assess(p, now=now) for p in pairs) if care.action == AT_RISK]


def to_nudge(pairs: Sequence[PairFacts], *, now: datetime) -> list[Care]:
    return [care for care in (assess(p, now=now) for p in pairs) if care.action == NUDGE]


# ---------------------------------------------------------------- the 30-day check-in

SCORES = range(1, 6)
REMATCH, END, STAY = "rematch", "end", "stay"
EXIT_CHOICES = (REMATCH, END, STAY)


def checkin_due_at(kickoff: datetime) -> datetime:
    return kickoff + CHECKIN_AFTER


def checkin_send_at(
    *, now: datetime, tz: str | None, minute_of_day: int, working_days: frozenset[int]
) -> datetime:
    """When a member's check-in, due ``now``, reaches them: at their own tip time on
    their next working day (today's, if it is still ahead), not in their night or
    weekend."""
    return next_tip_due(
        tz=tz or "UTC",
        minute_of_day=minute_of_day,
        working_days=working_days,
        after=now - timedelta(microseconds=1),
    )[0]


def checkin_due(*, kickoff: datetime | None, pair_status: str, now: datetime) -> bool:
    """Each member of an active pair is asked once, 30 days after kickoff (and not when
    that day is more than ``CHECKIN_LATE_BY`` gone)."""
    if pair_status != "active" or kickoff is None:
        return False
    due = checkin_due_at(kickoff)
    return due <= now < due + CHECKIN_LATE_BY


def check_score(score: object) -> int:
    if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
        raise UserError(NOT_MINE)
    return score


def check_exit_choice(choice: object, *, pair_status: str) -> str:
    if choice not in EXIT_CHOICES:
        raise UserError(NOT_MINE)
    if choice != STAY and pair_status != "active":
        raise Conflict("This pairing has already ended.")
    return choice  # type: ignore[return-value]


@dataclass(frozen=True)
class ExitEffects:
    """What a member's answer to the exit offer sets off."""

    end_pair: bool
    ended_by: str | None
    back_to_pool: tuple[str, ...]  # who goes back into the sign-up pool now
    offer_pool_to: str | None  # the partner, asked kindly whether they want a new match
    tell_coordinators: bool  # privately: that the pair ended through the check-in


def exit_effects(*, members: tuple[str, str], by: str, choice: str) -> ExitEffects:
    """Blame-free: the pair ends; the partner is told kindly, without the reason, and
    may go back into the pool too; coordinators learn it privately. ``stay`` changes
    nothing."""
    if by not in members:
        raise ValueError("only a member of the pair answers the exit offer")
    if choice == STAY:
        return ExitEffects(False, None, (), None, False)
    partner = members[1] if by == members[0] else members[0]
    rematch = (by,) if choice == REMATCH else ()
    return ExitEffects(True, by, rematch, partner, True)


def _pair_and(value: object) -> tuple[int, str]:
    text = value if isinstance(value, str) else ""
    pair, _, rest = text.partition(":")
    number = id_or_none(pair)
    if number is None:
        raise UserError(NOT_MINE)
    return number, rest


def parse_score_value(value: object) -> tuple[int, int]:
    """A check-in score button's ``pair:score``; anything else is refused."""
    pair_id, score = _pair_and(value)
    if score not in {str(s) for s in SCORES}:
        raise UserError(NOT_MINE)
    return pair_id, int(score)


def parse_exit_value(value: object) -> tuple[int, str]:
    """An exit offer button's ``pair:choice``; anything else is refused."""
    pair_id, choice = _pair_and(value)
    if choice not in EXIT_CHOICES:
        raise UserError(NOT_MINE)
    return pair_id, choice
