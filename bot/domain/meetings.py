"""Rules for meeting times."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta

MIN_MINUTES, MAX_MINUTES = 15, 240
MAX_AHEAD = timedelta(days=366)


def check_meeting_times(times: Sequence[datetime | None], *, now: datetime) -> dict[int, str]:
    """Problems by position (0-based); empty when the times can be saved."""
    problems: dict[int, str] = {}
    previous: datetime | None = None
    for index, when in enumerate(times):
        if when is None:
            problems[index] = "Pick a date and a time."
            continue
        if when <= now:
            problems[index] = "This time is in the past. Pick a time that is still ahead."
        elif when > now + MAX_AHEAD:
            problems[index] = "That's more than a year away. Pick a time within the next year."
        elif previous is not None and when <= previous:
            problems[index] = "Meetings go in order: pick a time after the meeting above."
        previous = when if when is not None else previous
    return problems


CLASH = "One of you already has a mentoring meeting then. Pick another time."
ALREADY_SET = (
    "Your pair already has a meeting at this time (see your group DM): nothing to save. "
    "Close this form if it is the one you meant, or pick another time."
)


def clashes(
    times: Sequence[datetime],
    minutes: int,
    taken: Sequence[tuple[datetime, int]],
    already: Collection[datetime] = (),
) -> dict[int, str]:
    """Problems by position (0-based) for new meetings of ``minutes`` at ``times`` (in
    order, as ``check_meeting_times`` passed them): a time that overlaps a meeting either
    person already has (``taken``: start, minutes), or the new meeting above it. Two
    saves of the same form (both members, or a double click) meet here: a time the pair
    itself already has a meeting at (``already``) is said to be set, not to clash."""
    problems: dict[int, str] = {}
    length = timedelta(minutes=minutes)
    for index, starts in enumerate(times):
        if starts in already:
            problems[index] = ALREADY_SET
        elif any(
            starts < other + timedelta(minutes=other_minutes) and other < starts + length
            for other, other_minutes in taken
        ):
            problems[index] = CLASH
        elif index and starts < times[index - 1] + length:
            problems[index] = (
                f"This overlaps the meeting above, which lasts {minutes} minutes. "
                "Pick a later time."
            )
    return problems


def check_length(text: str | None, *, default: int) -> tuple[int | None, str | None]:
    if text is None or not text.strip():
        return default, None
    stripped = text.strip()
    # isdigit() alone accepts "²", which int() refuses, and numbers of any length.
    if not (stripped.isascii() and stripped.isdigit()) or len(stripped) > 6:
        return None, "Give the length in minutes, e.g. 45."
    minutes = int(stripped)
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        return None, f"A meeting lasts between {MIN_MINUTES} and {MAX_MINUTES} minutes."
    return minutes, None


def prep_due(starts_at: datetime, *, lead: timedelta, now: datetime) -> datetime | None:
    """When the prep prompt goes out; a meeting set inside the lead time gets it at once."""
    if starts_at <= now:
        return None
    return max(starts_at - lead, now)


def feedback_due(starts_at: datetime, minutes: int, *, delay: timedelta) -> datetime:
    return starts_at + timedelta(minutes=minutes) + delay


def places(starts: Mapping[int, datetime]) -> dict[int, int]:
    """Each meeting's place in its pair's own order (1: their first meeting), by start
    time: the pair's meetings that were not cancelled, ``{meeting id: starts at}``. A
    meeting moved before another takes its place; one cancelled leaves the order."""
    ordered = sorted(starts, key=lambda meeting_id: (starts[meeting_id], meeting_id))
    return {meeting_id: place for place, meeting_id in enumerate(ordered, start=1)}


# A meeting's time may still change until it is over; after, it keeps its place once
# either member said it happened (its poll's "Yes"). One that did not happen may move
# to a new time: the poll's "No" offers it.
MEETING_OVER = (
    "That meeting is over, so there is nothing to cancel. If it didn't happen, say so in "
    "its feedback poll, which offers a new time; `/mentor schedule` sets the next ones."
)
MEETING_TOOK_PLACE = (
    "That meeting took place (one of you said so in its feedback poll), so it stays where "
    "it was. `/mentor schedule` sets the next ones."
)


def change_refused(
    *, starts_at: datetime, minutes: int, now: datetime, cancelling: bool, happened: bool
) -> str | None:
    """Why a meeting may not be cancelled (``cancelling``) or moved now, or None.
    ``happened``: a member answered its poll "Yes"."""
    if starts_at > now:
        return None
    if cancelling:
        return MEETING_OVER if now >= starts_at + timedelta(minutes=minutes) else None
    return MEETING_TOOK_PLACE if happened else None
