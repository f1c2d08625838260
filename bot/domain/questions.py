"""The question parking lot: what may be parked, and what the next prep prompt shows.

``/mentor ask <question>`` parks a question for the pair's next meeting; the prep
prompt before that meeting lists the open ones (both members see them: the pair
parks questions for each other). Once a meeting has been held, the questions parked
before it started are cleared. No Slack, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import Conflict, UserError

QUESTION_MAX = 500
# A pair's open questions at most: the prep prompt stays readable, and a loop of
# `/mentor ask` cannot grow the table without bound.
OPEN_MAX = 20
# How many the prep prompt lists; the rest are counted ("and 3 more").
PREP_SHOWN = 8


def check_question(text: str | None, *, open_count: int) -> str:
    """The question stripped, or a refusal that says what to do instead."""
    value = " ".join((text or "").split())  # one line: it is shown as a list item
    if not value:
        raise UserError(
            "Add the question after the command, e.g. `/mentor ask How do I prepare for "
            "my first review?`"
        )
    if len(value) > QUESTION_MAX:
        raise UserError(
            f"That question is {len(value):,} characters long. Keep it under "
            f"{QUESTION_MAX:,} characters and send it again; nothing was saved."
        )
    if open_count >= OPEN_MAX:
        raise Conflict(
            f"Your pair already has {OPEN_MAX} questions waiting for the next meeting. "
            "Talk those through first; they clear once the meeting is held."
        )
    return value


@dataclass(frozen=True)
class Question:
    id: int
    asked_by: str
    text: str
    asked_at: datetime


@dataclass(frozen=True)
class PrepQuestions:
    shown: tuple[Question, ...]  # oldest first
    more: int  # open questions beyond those shown


def for_prep(questions: Sequence[Question], *, limit: int = PREP_SHOWN) -> PrepQuestions:
    """What a prep prompt lists: the oldest open questions first (they have waited
    longest), at most ``limit``, and how many more there are."""
    ordered = sorted(questions, key=lambda q: (q.asked_at, q.id))
    return PrepQuestions(tuple(ordered[:limit]), max(len(ordered) - limit, 0))


def cleared_by(questions: Sequence[Question], *, prep_sent_at: datetime) -> list[Question]:
    """The questions a held meeting clears: those its prep prompt listed, i.e. the
    oldest ``PREP_SHOWN`` of those parked before the prompt went out. One parked after
    it, or beyond what it showed, waits for the next meeting's prep."""
    return list(for_prep([q for q in questions if q.asked_at < prep_sent_at]).shown)
