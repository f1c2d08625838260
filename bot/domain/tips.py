"""Daily tips: when the next one is due, and which one it is."""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# A pass that runs late still sends a tip due up to this long ago; older ones
# are skipped so nobody gets yesterday's tip in the evening.
LATE_GRACE = timedelta(minutes=30)


@functools.lru_cache(maxsize=1024)
def zone(name: str | None) -> ZoneInfo:
    # ZoneInfo keeps only a handful of zones cached; a workspace spans dozens.
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def pause_ends(*, now: datetime, days: int, tz: str | None) -> datetime:
    """When ``/mentor pause <days>`` started at ``now`` ends: the start of that day in the
    person's own time zone, so the tip and the matching of the day it names come as
    usual ("pause 1w" on a Monday morning is back the next Monday, not on Tuesday)."""
    local_zone = zone(tz)
    day = now.astimezone(local_zone).date() + timedelta(days=days)
    return datetime.combine(day, time.min, tzinfo=local_zone).astimezone(UTC)


def next_tip_due(
    *,
    tz: str,
    minute_of_day: int,
    working_days: frozenset[int],
    after: datetime,
) -> tuple[datetime, date]:
    """The first working-day local tip time strictly after ``after``, in UTC, with its local date.

    Built from the local wall clock each day, so 09:00 stays 09:00 across
    daylight-saving changes; a wall time that does not exist that day (the
    spring-forward gap) resolves forward, as zoneinfo's fold=0 does.
    """
    local_zone = zone(tz)
    local_day = after.astimezone(local_zone).date()
    wall = time(minute_of_day // 60, minute_of_day % 60)
    for offset in range(0, 15):
        day = local_day + timedelta(days=offset)
        if day.weekday() not in working_days:
            continue
        local = datetime.combine(day, wall, tzinfo=local_zone)
        due = local.astimezone(UTC)
        # Round-trip through UTC normalises a wall time inside a DST gap.
        if due > after:
            return due, day
    raise ValueError("no working day in the next two weeks")


# --- Which tip --------------------------------------------------------------------------------
#
# The tip is chosen when it is sent, from what the person has actually received, so a
# tip that was planned and then dropped (a skipped or late pass, tips off, a pause)
# costs nothing. Each person goes through their current list in turns ("cycles"): a
# practice's ``cycle`` is the turn it was last sent in, and the current turn is the
# highest of those. A turn ends when every practice of the list has been sent in it,
# so none repeats before then, whatever the list was when earlier tips went out:
# practices added to the content join the current turn, removed ones are never sent,
# and the list follows the person's role(s) today.
#
# Within a turn the order is a fresh shuffle per person and turn, adjusted by:
#   1. a 👎'd practice comes last, and only every other turn;
#   2. after the person rates a meeting 1 or 2, the ``after_low_rating`` practices of
#      their role in that pair come first, until each has been sent once (for a week);
#   3. in the first two weeks of a pairing, the ``relationship`` practices of their
#      role in it come next.
# 👎 wins over both; the low rating over the new pairing.

# A pairing's first weeks, from its kickoff (the invitation accepted).
RELATIONSHIP_PERIOD = timedelta(weeks=2)
# How many of the turn before's last practices a new turn does not open with (at most a
# third of the list, so that which open a turn still varies).
JUST_SENT = 3
# Usefulness ratings (1–5) at or below this bring practices forward...
LOW_RATING_AT_MOST = 2
# ...for the person's next tips within this long of the rating.
LOW_RATING_LASTS = timedelta(days=7)


@dataclass(frozen=True)
class TipOption:
    """A practice on the person's current list."""

    id: str
    role: str  # "mentor" or "mentee": the list it comes from
    relationship: bool = False
    after_low_rating: bool = False


@dataclass(frozen=True)
class Received:
    """A practice the person was sent: in which turn of their rotation, and when last."""

    cycle: int
    at: datetime
    disliked: bool = False  # their latest vote on it was 👎


@dataclass(frozen=True)
class Pairing:
    """An active pair the person is in, their role in it, and when it was kicked off."""

    role: str
    since: datetime


@dataclass(frozen=True)
class Rating:
    """A usefulness rating the person gave to a meeting of a pair where they have ``role``."""

    role: str
    usefulness: int
    at: datetime


@dataclass(frozen=True)
class TipHistory:
    received: Mapping[str, Received] = field(default_factory=dict)
    pairings: tuple[Pairing, ...] = ()
    ratings: tuple[Rating, ...] = ()

    def after_sending(self, tip_id: str, cycle: int, at: datetime) -> TipHistory:
        """This history once ``tip_id`` has been sent in turn ``cycle``."""
        before = self.received.get(tip_id)
        received = dict(self.received)
        received[tip_id] = Received(cycle, at, before.disliked if before else False)
        return replace(self, received=received)


@dataclass(frozen=True)
class TipChoice:
    tip_id: str
    cycle: int


def tip_order(
    options: Sequence[TipOption], history: TipHistory, *, seed: int, now: datetime
) -> tuple[int, list[str]]:
    """The current turn and the practices still to come in it, in the order they go.

    Sending the first and asking again gives the rest in the same order (as long as
    nothing else changed), so one call describes the whole remaining turn.
    """
    if not options:
        return 0, []
    # By position in ``options``: a 09:00 wave runs this thousands of times a minute.
    received = [history.received.get(o.id) for o in options]
    last = [r.cycle if r is not None else -1 for r in received]
    disliked = [r is not None and r.disliked for r in received]
    cycle = max(0, *last)
    for _ in range(3):
        # A 👎'd practice sent in the turn before this one sits this turn out.
        remaining = [
            i
            for i in range(len(options))
            if last[i] < cycle and not (disliked[i] and last[i] == cycle - 1 and last[i] >= 0)
        ]
        if remaining:
            break
        cycle += 1  # the turn is complete: the next one starts
    shuffled = list(range(len(options)))
    random.Random(seed * 1_000_003 + cycle).shuffle(shuffled)
    place = [0] * len(options)
    for n, i in enumerate(shuffled):
        place[i] = n
    acquainting = {
        p.role for p in history.pairings if p.since <= now < p.since + RELATIONSHIP_PERIOD
    }
    if any(disliked) or history.ratings or acquainting:
        remaining.sort(key=lambda i: (_rank(options[i], history, now, acquainting), place[i]))
    else:
        remaining.sort(key=place.__getitem__)
    # A new turn never opens with the last few practices of the turn before (a tip two
    # days running, whatever brought it forward): its first places go to the next of the
    # others, the order otherwise as it is. Once those places are sent the order is the
    # plain one again, so one call still describes the rest of the turn; and no tip is
    # kept at the end of every turn.
    waits = min(JUST_SENT, len(options) // 3)
    opened = sum(1 for n in last if n == cycle)
    if opened < waits:
        before = sorted(
            (i for i in range(len(options)) if last[i] == cycle - 1 and last[i] >= 0),
            key=lambda i: received[i].at,  # type: ignore[union-attr]
        )
        just_sent = set(before[-waits:])
        opening = [i for i in remaining if i not in just_sent][: waits - opened]
        remaining = opening + [i for i in remaining if i not in opening]
    return cycle, [options[i].id for i in remaining]


def choose_tip(
    options: Sequence[TipOption], history: TipHistory, *, seed: int, now: datetime
) -> TipChoice | None:
    """The tip to send now, or None when the list is empty."""
    cycle, order = tip_order(options, history, seed=seed, now=now)
    return TipChoice(order[0], cycle) if order else None


def _rank(option: TipOption, history: TipHistory, now: datetime, acquainting: set[str]) -> int:
    """0: brought forward by a low rating; 1: a new pairing's; 2: the rest; 3: 👎."""
    if _disliked(option, history):
        return 3
    if option.after_low_rating and _after_low_rating(option, history, now):
        return 0
    if option.relationship and option.role in acquainting:
        return 1
    return 2


def _disliked(option: TipOption, history: TipHistory) -> bool:
    received = history.received.get(option.id)
    return received is not None and received.disliked


def _after_low_rating(option: TipOption, history: TipHistory, now: datetime) -> bool:
    received = history.received.get(option.id)
    return any(
        rating.role == option.role
        and rating.usefulness <= LOW_RATING_AT_MOST
        and rating.at <= now <= rating.at + LOW_RATING_LASTS
        # Brought forward once: sent since the rating, it takes its usual place.
        and (received is None or received.at < rating.at)
        for rating in history.ratings
    )


def tip_list_role(roles: set[str]) -> str:
    """Mentors get mentor practices, mentees mentee practices; both roles get both."""
    if roles == {"mentor"}:
        return "mentor"
    if roles == {"mentee"}:
        return "mentee"
    return "both"


def spread_offset(seed: int, spread: timedelta) -> timedelta:
    """A person's fixed place in the tip wave: whole seconds within ``spread``."""
    seconds = int(spread.total_seconds())
    return timedelta(seconds=seed % seconds) if seconds > 0 else timedelta(0)


# A tip this late is news from yesterday; it is dropped rather than sent in the evening.
STALE_AFTER = timedelta(hours=6)
