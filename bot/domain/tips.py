"""Daily tips: when the next one is due, and which one it is."""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
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


def tip_for(practice_ids: Sequence[str], *, seed: int, index: int) -> str:
    """The ``index``-th tip for a person: each cycle is a fresh shuffle, so none repeats
    until all were sent."""
    if not practice_ids:
        raise ValueError("no tips to choose from")
    cycle, position = divmod(index, len(practice_ids))
    order = list(practice_ids)
    random.Random(seed * 1_000_003 + cycle).shuffle(order)
    return order[position]


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
