"""A pair's goals and agreement: what may be saved, checked on the server.

A modal's ``max_length`` is advice to Slack's client and a forged submission skips
it, so every length, date and choice is checked here whatever the form allowed. No
Slack, no clock: ``today`` is the submitter's local date, passed in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.buttons import NOT_MINE, id_or_none
from bot.domain.errors import UserError

MAX_GOALS = 3
WHAT_MAX = 150
WHY_MAX = 500
AGREEMENT_MAX = 500
BY_WHEN_YEARS = 2

OPEN, DONE = "open", "done"
GOAL_STATUSES = (OPEN, DONE)

# The mentee's one-tap progress, in the order the buttons show.
NOT_STARTED, SOME, PROGRESS_DONE = "not_started", "some", "done"
PROGRESS = (NOT_STARTED, SOME, PROGRESS_DONE)

# How often a pair agrees to meet, and the days between meetings it means.
CADENCE_DAYS = {"weekly": 7, "fortnightly": 14, "monthly": 28}
CADENCES = tuple(CADENCE_DAYS)
# No agreement yet: suggest fortnightly (README, "Coaching that adapts").
DEFAULT_CADENCE = "fortnightly"

# Field names in ``problems``: per goal (1-based position) and for the agreement.
WHAT, WHY, BY_WHEN = "what", "why", "by_when"
CADENCE, CONTACT, CONFIDENTIAL = "cadence", "contact", "confidential"


@dataclass(frozen=True)
class GoalInput:
    """One goal group of the form as typed: any part may be missing."""

    what: str | None = None
    why: str | None = None
    by_when: date | None = None

    @property
    def empty(self) -> bool:
        return not (self.what or "").strip() and not (self.why or "").strip() and not self.by_when


@dataclass(frozen=True)
class Goal:
    """A goal that may be saved."""

    position: int  # 1..MAX_GOALS
    what: str
    why: str
    by_when: date


@dataclass(frozen=True)
class Agreement:
    cadence: str | None = None
    contact: str = ""
    confidential: str = ""

    @property
    def empty(self) -> bool:
        return self.cadence is None and not self.contact and not self.confidential


@dataclass(frozen=True)
class Plan:
    goals: tuple[Goal, ...]
    agreement: Agreement


def latest_by_when(today: date) -> date:
    """The furthest a goal may be set: two years from ``today`` (29 Feb → 28 Feb)."""
    try:
        return today.replace(year=today.year + BY_WHEN_YEARS)
    except ValueError:
        return today.replace(year=today.year + BY_WHEN_YEARS, day=28)


def _length(text: str, limit: int, what: str) -> str | None:
    if len(text) > limit:
        return f"{what} is {len(text):,} characters long; keep it to {limit:,}."
    return None


def check_plan(
    goals: Sequence[GoalInput],
    agreement: Agreement,
    *,
    today: date,
    saved_dates: Mapping[int, date] | None = None,
) -> tuple[Plan | None, dict[tuple[int, str] | str, str]]:
    """The plan to save, or the problems: ``(position, field)`` for a goal group,
    ``"cadence"``/``"contact"``/``"confidential"`` for the agreement, ``"goals"`` for
    the form as a whole. Empty groups are dropped; the others keep their position.
    ``saved_dates`` (position → the saved goal's date): a date left as it was may have
    passed, so a pair can still edit the rest of the form after a goal's date."""
    saved_dates = saved_dates or {}
    problems: dict[tuple[int, str] | str, str] = {}
    if len(goals) > MAX_GOALS:
        problems["goals"] = f"A pair keeps at most {MAX_GOALS} goals at a time."
        return None, problems
    saved: list[Goal] = []
    last = latest_by_when(today)
    for position, raw in enumerate(goals, start=1):
        if raw.empty:
            continue
        what, why = (raw.what or "").strip(), (raw.why or "").strip()
        if not what:
            problems[(position, WHAT)] = "Name the goal in a few words."
        elif problem := _length(what, WHAT_MAX, "The goal"):
            problems[(position, WHAT)] = problem
        if problem := _length(why, WHY_MAX, "Why it matters"):
            problems[(position, WHY)] = problem
        if raw.by_when is None:
            problems[(position, BY_WHEN)] = "Pick the date you'd like to reach it by."
        elif raw.by_when <= today and saved_dates.get(position) != raw.by_when:
            problems[(position, BY_WHEN)] = "Pick a date that is still ahead."
        elif raw.by_when > last:
            problems[(position, BY_WHEN)] = (
                f"Pick a date within {BY_WHEN_YEARS} years; a big goal can be split into steps."
            )
        if not any(key[0] == position for key in problems if isinstance(key, tuple)):
            saved.append(Goal(position, what, why, raw.by_when))  # type: ignore[arg-type]

    cadence = agreement.cadence or None
    if cadence is not None and cadence not in CADENCE_DAYS:
        problems[CADENCE] = "Choose weekly, fortnightly or monthly."
    contact, confidential = agreement.contact.strip(), agreement.confidential.strip()
    if problem := _length(contact, AGREEMENT_MAX, "This answer"):
        problems[CONTACT] = problem
    if problem := _length(confidential, AGREEMENT_MAX, "This answer"):
        problems[CONFIDENTIAL] = problem
    if problems:
        return None, problems
    return Plan(tuple(saved), Agreement(cadence, contact, confidential)), {}


def check_progress(progress: str) -> str:
    if progress not in PROGRESS:
        raise UserError(NOT_MINE)
    return progress


def status_after(progress: str, current: str) -> str:
    """A "done" tap marks the goal done; other taps reopen a goal marked done by a tap."""
    if progress == PROGRESS_DONE:
        return DONE
    return OPEN if current == DONE else current


def asks_progress(poll_number: int) -> bool:
    """Every second feedback poll (the 2nd, 4th, …) asks the mentee about their goals:
    often enough to keep goals alive, rare enough not to nag."""
    return poll_number >= 2 and poll_number % 2 == 0


@dataclass(frozen=True)
class ProgressTap:
    pair_id: int
    goal_id: int
    meeting_id: int | None
    progress: str


def progress_value(*, pair_id: int, goal_id: int, meeting_id: int | None, progress: str) -> str:
    """What a progress button carries: ``pair:goal:meeting:progress`` (meeting 0: none)."""
    return f"{pair_id}:{goal_id}:{meeting_id or 0}:{progress}"


def parse_progress_value(value: object) -> ProgressTap:
    """The tap a progress button names; anything that is not one of ours is refused.
    The ids are only claims: the service checks them against the database."""
    parts = value.split(":") if isinstance(value, str) else []
    ids = [id_or_none(part) for part in parts[:3]]
    if len(parts) != 4 or any(i is None for i in ids) or parts[3] not in PROGRESS:
        raise UserError(NOT_MINE)
    pair_id, goal_id, meeting_id = ids
    return ProgressTap(pair_id, goal_id, meeting_id or None, parts[3])  # type: ignore[arg-type]


def cadence_interval(cadence: str | None) -> timedelta:
    return timedelta(days=CADENCE_DAYS.get(cadence or DEFAULT_CADENCE, 14))


@dataclass(frozen=True)
class GoalState:
    """A saved goal as the builders show it (from the store, or an outbox payload)."""

    id: int
    position: int
    what: str
    why: str
    by_when: date
    status: str = OPEN
    progress: str | None = None

    def to_payload(self) -> dict[str, object]:
        return {
            "id": self.id,
            "position": self.position,
            "what": self.what,
            "why": self.why,
            "by_when": self.by_when.isoformat(),
            "status": self.status,
            "progress": self.progress,
        }

    @classmethod
    def from_payload(cls, data: dict[str, object]) -> GoalState:
        return cls(
            id=int(data["id"]),  # type: ignore[call-overload]
            position=int(data["position"]),  # type: ignore[call-overload]
            what=str(data.get("what") or ""),
            why=str(data.get("why") or ""),
            by_when=date.fromisoformat(str(data["by_when"])),
            status=str(data.get("status") or OPEN),
            progress=data.get("progress"),  # type: ignore[arg-type]
        )


def counts(goals: Sequence[GoalState]) -> tuple[int, int]:
    """(open, done)."""
    done = sum(1 for g in goals if g.status == DONE)
    return len(goals) - done, done


# The goals form opened on what was saved then; saved again meanwhile (the partner, or
# another window), a submit would silently put back what they had just changed.
STALE_FORM = (
    "These goals were saved again since you opened this form (by your partner, or by "
    "you in another window), so nothing was saved. Close it and press the goals button "
    "again to see them as they are."
)


def plan_seen(goals: Sequence[GoalState], agreement: Agreement) -> str:
    """A short fingerprint of what the form shows (not progress taps, which it does not
    edit): equal before and after means nobody saved in between."""
    shown = [(g.position, g.what, g.why, g.by_when.isoformat()) for g in goals]
    shown.sort()
    text = repr((shown, agreement.cadence, agreement.contact, agreement.confidential))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
