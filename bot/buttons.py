"""Every button and menu value: built here where a view makes the button, parsed here
where a listener reads it.

A value is text that comes back from Slack in a signed request, but it is still
what a person (or a forged payload) says: a parser accepts only the shapes built
here and raises ``UserError`` for anything else, so a listener never guesses.
Each value names the thing it acts on (a pair, a meeting, a poll, a tip message);
who may act on it is checked by the service, never by the value.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.errors import UserError

# Row ids are 32-bit on PostgreSQL; a larger number cannot name a row, only crash a query.
MAX_ID = 2**31 - 1

NOT_MINE = "That button is not one of mine any more, so I left everything as it was."
POLL_GONE = "That poll is not one of mine any more, so I left everything as it was."
MENU_GONE = "That menu choice is not one of mine, so I left everything as it was."


def id_or_none(value: object) -> int | None:
    """A non-negative id written in ASCII digits, or None. ``str.isdigit`` is not
    enough: it accepts "²", which ``int`` refuses, and any length."""
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def button_int(value: object, refusal: str = NOT_MINE) -> int:
    """The id a button carries; anything that is not one of ours is refused."""
    number = id_or_none(value)
    if number is None:
        raise UserError(refusal)
    return number


# ---------------------------------------------------------------- one id


def pair_value(pair_id: int) -> str:
    """Accept / Decline, Schedule, End, Keep it, Nudge: the pair the button acts on."""
    return str(pair_id)


def parse_pair(value: object) -> int:
    return button_int(value)


def meeting_value(meeting_id: int) -> str:
    """Add focus and questions: the meeting whose prep it opens."""
    return str(meeting_id)


def parse_meeting(value: object) -> int:
    return button_int(value)


def tip_value(message_id: int) -> str:
    """👍 / 👎 on a daily tip: the outbox row the tip was sent from."""
    return str(message_id)


def parse_tip(value: object) -> int:
    return button_int(value)


# ---------------------------------------------------------------- a meeting's menu

MEETING_VERBS = ("move", "cancel", "again")


@dataclass(frozen=True)
class MeetingChoice:
    """``verb:meeting`` from a meeting's ⋯ menu (move, cancel) or from the "Pick a new
    time" button after a meeting that did not happen (again)."""

    verb: str
    meeting_id: int

    @property
    def value(self) -> str:
        return f"{self.verb}:{self.meeting_id}"


def parse_meeting_choice(value: object) -> MeetingChoice:
    verb, _, meeting = str(value or "").partition(":")
    if verb not in MEETING_VERBS:
        raise UserError(MENU_GONE)
    return MeetingChoice(verb, button_int(meeting))


# ---------------------------------------------------------------- calendar links


@dataclass(frozen=True)
class CalendarLink:
    """``meeting:sequence`` on a meeting's "Add to Google Calendar" / "Add to Outlook"
    link buttons: the meeting, and the version (its .ics SEQUENCE) the link's times are
    for, so a press on an older message's link can be told the meeting changed since."""

    meeting_id: int
    sequence: int

    @property
    def value(self) -> str:
        return f"{self.meeting_id}:{self.sequence}"


def parse_calendar_link(value: object) -> CalendarLink:
    meeting, _, sequence = str(value or "").partition(":")
    return CalendarLink(button_int(meeting), button_int(sequence))


# ---------------------------------------------------------------- feedback polls


@dataclass(frozen=True)
class PollRef:
    """``pair:meeting[:choice]`` on a feedback poll's buttons; meeting 0 is the closing
    poll of the pair (``meeting_id`` None)."""

    pair_id: int
    meeting_id: int | None
    choice: str = ""

    @property
    def ref(self) -> str:
        """The poll without a choice: the details button, the notes modal's metadata."""
        return f"{self.pair_id}:{self.meeting_id or 0}"

    def with_choice(self, choice: str | int) -> str:
        return f"{self.ref}:{choice}"


def poll_ref(pair_id: int, meeting_id: int | None) -> PollRef:
    return PollRef(pair_id, meeting_id)


def parse_poll(value: object) -> PollRef:
    parts = str(value or "").split(":")
    if len(parts) not in (2, 3):
        raise UserError(POLL_GONE)
    pair_id = button_int(parts[0], POLL_GONE)
    meeting_id = button_int(parts[1], POLL_GONE)
    return PollRef(pair_id, meeting_id or None, parts[2] if len(parts) == 3 else "")


# ---------------------------------------------------------------- small switches

TIPS_ON, TIPS_OFF = "on", "off"


def tips_toggle_value(*, turn_on: bool) -> str:
    """App Home's tips button: what pressing it turns tips to."""
    return TIPS_ON if turn_on else TIPS_OFF


def parse_tips_toggle(value: object) -> bool:
    if value not in (TIPS_ON, TIPS_OFF):
        raise UserError(NOT_MINE)
    return value == TIPS_ON


FORGET_VALUE, FORGET_CANCEL_VALUE = "forget", "cancel"


def proposal_line_value(index: int) -> str:
    """A proposed pair's checkbox in the match review: its line in the proposal."""
    return str(index)


def parse_proposal_lines(values: object) -> set[int]:
    """The ticked lines; anything that is not a line number is left out."""
    numbers = (id_or_none(v) for v in values) if isinstance(values, (list, tuple, set)) else ()
    return {n for n in numbers if n is not None}
