"""Suggested meeting times: inside both working days, on both people's weekdays, spaced by
the agreed cadence, clear of meetings already set, and right across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.slots import Availability, Busy, availability, suggest_slots

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday
LONDON = Availability("Europe/London")
NEW_YORK = Availability("America/New_York")


def local_ok(person: Availability, start: datetime, minutes: int) -> bool:
    """An independent check: local start and end on one weekday, inside the hours."""
    zone = ZoneInfo(person.tz)
    begin, end = start.astimezone(zone), (start + timedelta(minutes=minutes)).astimezone(zone)
    first, last = begin.hour * 60 + begin.minute, end.hour * 60 + end.minute
    return (
        begin.weekday() < 5
        and begin.date() == end.date()
        and first >= person.work_start
        and last <= person.work_end
    )


def test_three_fortnightly_slots_inside_both_working_days():
    slots = suggest_slots([LONDON, NEW_YORK], now=NOW, minutes=45)
    assert len(slots) == 3
    assert slots[0] >= NOW + timedelta(hours=24)
    for start in slots:
        assert start.tzinfo is not None
        assert local_ok(LONDON, start, 45) and local_ok(NEW_YORK, start, 45)
    gaps = [(b - a).days for a, b in zip(slots, slots[1:], strict=False)]
    assert all(13 <= gap <= 15 for gap in gaps), gaps


def test_the_same_local_time_survives_both_dst_changes():
    # US clocks move on 8 March 2026, UK clocks on 29 March: weekly slots across both.
    slots = suggest_slots([NEW_YORK, LONDON], now=NOW, minutes=60, cadence="weekly", count=5)
    assert len(slots) == 5
    for start in slots:
        assert local_ok(NEW_YORK, start, 60) and local_ok(LONDON, start, 60)
    ny_times = {s.astimezone(ZoneInfo("America/New_York")).strftime("%a %H:%M") for s in slots}
    assert len(ny_times) == 1, ny_times  # same weekday and wall-clock time each week
    utc_hours = {s.hour for s in slots}
    assert len(utc_hours) == 2  # …which is a different UTC hour after 8 March


def test_working_hours_that_never_overlap_give_no_slot():
    los_angeles, kolkata = Availability("America/Los_Angeles"), Availability("Asia/Kolkata")
    assert suggest_slots([los_angeles, kolkata], now=NOW, minutes=45) == []


def test_a_night_shift_past_midnight_overlaps_a_day_elsewhere():
    night = Availability("America/Los_Angeles", work_start=20 * 60, work_end=4 * 60)
    kolkata = Availability("Asia/Kolkata")
    slots = suggest_slots([night, kolkata], now=NOW, minutes=30)
    assert len(slots) == 3
    for start in slots:
        assert local_ok(kolkata, start, 30)
        local = start.astimezone(ZoneInfo("America/Los_Angeles"))
        minute = local.hour * 60 + local.minute
        assert minute >= 20 * 60 or minute + 30 <= 4 * 60
        # The night shift belongs to the weekday it started on.
        shift_day = local.date() - timedelta(days=0 if minute >= 20 * 60 else 1)
        assert shift_day.weekday() < 5


def test_meetings_already_set_are_avoided_with_a_buffer():
    first = suggest_slots([LONDON, NEW_YORK], now=NOW, minutes=45, count=1)[0]
    busy = [Busy(first, 30)]
    again = suggest_slots([LONDON, NEW_YORK], now=NOW, minutes=45, count=1, busy=busy)[0]
    assert again >= first + timedelta(minutes=30 + 15)


def test_the_cadence_counts_from_the_last_meeting():
    last = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)
    slots = suggest_slots(
        [LONDON, NEW_YORK], now=NOW, minutes=45, cadence="monthly", last_meeting=last
    )
    assert slots[0] >= last + timedelta(days=28)
    assert all((b - a) >= timedelta(days=27) for a, b in zip(slots, slots[1:], strict=False))


def test_weekends_are_skipped_in_every_zone():
    tokyo = Availability("Asia/Tokyo", work_start=6 * 60, work_end=12 * 60)
    la = Availability("America/Los_Angeles", work_start=13 * 60, work_end=20 * 60)
    slots = suggest_slots([tokyo, la], now=NOW, minutes=60, cadence="weekly", count=4)
    assert slots
    for start in slots:
        assert start.astimezone(ZoneInfo("Asia/Tokyo")).weekday() < 5
        assert start.astimezone(ZoneInfo("America/Los_Angeles")).weekday() < 5


def test_defaults_and_bad_zones():
    assert availability(None) == Availability("UTC", 540, 1020)
    assert availability("Europe/Paris", 480, 960) == Availability("Europe/Paris", 480, 960)
    assert availability("Europe/Paris", 480, 480) == Availability("Europe/Paris")
    nowhere = Availability("Not/AZone")
    assert nowhere.zone == ZoneInfo("UTC")
    assert suggest_slots([nowhere], now=NOW, minutes=45)


def test_inputs_are_checked():
    with pytest.raises(ValueError):
        suggest_slots([LONDON], now=datetime(2026, 3, 2, 12), minutes=45)
    with pytest.raises(ValueError):
        suggest_slots([LONDON], now=NOW, minutes=0)


def test_a_meeting_across_a_dst_jump_is_measured_on_the_wall_clock():
    # Cairo's clocks jump from 00:00 to 01:00 on Friday 24 April 2026. A Thursday night
    # shift of 22:00-01:00: a meeting from 23:30 for 60 minutes ends at 01:30 on the
    # wall clock, past the end of the shift, though only an hour has passed.
    shift = Availability("Africa/Cairo", work_start=22 * 60, work_end=1 * 60)
    start = datetime(2026, 4, 23, 21, 30, tzinfo=UTC)  # 23:30 in Cairo, a Thursday
    assert not shift.fits(start, 60)
    assert shift.fits(start, 25)  # ends 23:55, before the jump
    assert shift.fits(start - timedelta(days=7), 60)  # the Thursday before: no jump
