"""Scheduling help without calendar access: three meeting times that fit both people.

The bot never reads anyone's calendar. What it knows is each person's working hours
(the sign-up pool's ``work_start``/``work_end``, else 09:00–17:00) in their own Slack
time zone, the pair's agreed cadence, and the meetings already set. From those it
suggests the next three meetings, one per cadence step (weekly, fortnightly, monthly;
fortnightly when nothing was agreed), each inside both working days on a weekday of
both, clear of every meeting either person already has. Each instant is checked in
each zone with ``zoneinfo``, so a daylight-saving change in either zone between two
suggestions moves nothing outside working hours. No Slack, no clock: ``now`` comes in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.goals import cadence_interval

DAY_MINUTES = 24 * 60
DEFAULT_START, DEFAULT_END = 9 * 60, 17 * 60
WORKDAYS = frozenset(range(5))  # Monday–Friday, in each person's own zone
STEP = timedelta(minutes=30)  # suggestions start on the half hour (UTC)
# The prep prompt goes out a day before (content: prep_lead_hours); a suggestion at
# least this far ahead leaves room for it.
MIN_LEAD = timedelta(hours=24)
# Never search further than this past the target day for a slot.
SEARCH_DAYS = 28
BUFFER = timedelta(minutes=15)  # between a suggestion and a meeting already set


@dataclass(frozen=True)
class Availability:
    """One person's working day, in minutes after their local midnight; an end before
    the start is a working day that runs past midnight."""

    tz: str = "UTC"
    work_start: int = DEFAULT_START
    work_end: int = DEFAULT_END

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    @property
    def length(self) -> int:
        return (self.work_end - self.work_start) % DAY_MINUTES or DAY_MINUTES

    def fits(self, start: datetime, minutes: int) -> bool:
        """The whole meeting lies inside one working day of this person, and that day
        is one of their working weekdays."""
        local = start.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        into = (minute - self.work_start) % DAY_MINUTES
        if into + minutes > self.length:
            return False
        # Local end, measured on the wall clock, so a DST jump inside the meeting counts.
        end = (start + timedelta(minutes=minutes)).astimezone(self.zone)
        wall = (end.replace(tzinfo=None) - local.replace(tzinfo=None)).total_seconds() / 60
        if into + wall > self.length:
            return False
        workday: date = local.date() - timedelta(days=1 if minute < self.work_start else 0)
        return workday.weekday() in WORKDAYS


def availability(
    tz: str | None, work_start: int | None = None, work_end: int | None = None
) -> Availability:
    """From a person's Slack time zone and (if they joined the pool) working hours."""
    if work_start is None or work_end is None or work_start == work_end:
        return Availability(tz or "UTC")
    return Availability(tz or "UTC", work_start % DAY_MINUTES, work_end % DAY_MINUTES)


@dataclass(frozen=True)
class Busy:
    starts_at: datetime
    minutes: int

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.minutes)


def _clear(start: datetime, minutes: int, busy: Sequence[Busy]) -> bool:
    end = start + timedelta(minutes=minutes)
    return all(end + BUFFER <= b.starts_at or start >= b.ends_at + BUFFER for b in busy)


def _ceil(when: datetime) -> datetime:
    when = when.astimezone(UTC).replace(second=0, microsecond=0)
    extra = when.minute % 30
    return when if extra == 0 else when + timedelta(minutes=30 - extra)


def _first_fit(
    people: Sequence[Availability],
    busy: Sequence[Busy],
    *,
    earliest: datetime,
    minutes: int,
    search: timedelta,
    preferred: datetime | None = None,
) -> datetime | None:
    def ok(start: datetime) -> bool:
        return _clear(start, minutes, busy) and all(p.fits(start, minutes) for p in people)

    if preferred is not None and preferred >= earliest and ok(preferred):
        return preferred
    start = _ceil(earliest)
    stop = earliest + search
    while start <= stop:
        if ok(start):
            return start
        start += STEP
    return None


def suggest_slots(
    people: Sequence[Availability],
    *,
    now: datetime,
    minutes: int,
    cadence: str | None = None,
    busy: Sequence[Busy] = (),
    last_meeting: datetime | None = None,
    count: int = 3,
    lead: timedelta = MIN_LEAD,
) -> list[datetime]:
    """Up to ``count`` start times (UTC), one per cadence step.

    The first is on or after ``now + lead`` and, when the pair has met or set a meeting
    (``last_meeting``, the latest one), one cadence step after it. Each next one aims at
    the same time a cadence step later, and otherwise takes the earliest time that fits
    in the days that follow. ``busy`` holds every meeting either person has already set,
    with any pair. Fewer than ``count`` come back when working hours never overlap.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if minutes <= 0:
        raise ValueError("minutes must be positive")
    step = cadence_interval(cadence)
    earliest = now + lead
    if last_meeting is not None:
        earliest = max(earliest, last_meeting + step)
    search = timedelta(days=max(SEARCH_DAYS, step.days))
    taken = list(busy)
    found: list[datetime] = []
    preferred: datetime | None = None
    while len(found) < count:
        start = _first_fit(
            people, taken, earliest=earliest, minutes=minutes, search=search, preferred=preferred
        )
        if start is None:
            break
        found.append(start)
        taken.append(Busy(start, minutes))
        earliest = start + step
        preferred = earliest
        # On the wall clock of the first person, so "Tuesdays at 10:00" survives DST.
        if people:
            zone = people[0].zone
            local = start.astimezone(zone)
            preferred = (local.replace(tzinfo=None) + step).replace(tzinfo=zone).astimezone(UTC)
            earliest = min(earliest, preferred)
    return found
