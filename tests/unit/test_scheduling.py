"""Pure scheduling rules: tip times across DST, tip order, meeting rules, commands, backoff."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.commands import (
    End,
    Help,
    Schedule,
    Start,
    Status,
    Tips,
    format_minute,
    parse_command,
)
from bot.domain.errors import UserError
from bot.domain.meetings import (
    check_length,
    check_meeting_times,
    clashes,
    feedback_due,
    prep_due,
)
from bot.domain.tips import next_tip_due, tip_list_role
from bot.scheduling.engine import backoff

LA = ZoneInfo("America/Los_Angeles")
KOLKATA = ZoneInfo("Asia/Kolkata")
WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))
NINE = 9 * 60


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def tips_from(after: datetime, *, tz: str, count: int, minute: int = NINE, days=WEEKDAYS):
    """The next ``count`` tip times, each planned after the one before, as the planner does."""
    found = []
    for _ in range(count):
        due, day = next_tip_due(tz=tz, minute_of_day=minute, working_days=days, after=after)
        found.append((due, day))
        after = due
    return found


# ---------------------------------------------------------------------- next_tip_due


def test_next_tip_is_the_same_day_when_still_ahead() -> None:
    # Tuesday 2026-03-03 08:00 in Los Angeles (PST, UTC-8).
    due, day = next_tip_due(
        tz="America/Los_Angeles",
        minute_of_day=NINE,
        working_days=WEEKDAYS,
        after=utc(2026, 3, 3, 16, 0),
    )
    assert (due, day) == (utc(2026, 3, 3, 17, 0), date(2026, 3, 3))
    assert due.tzinfo is UTC


def test_working_days_only_friday_skips_to_monday() -> None:
    friday_evening = utc(2026, 3, 6, 20, 0)  # 12:00 Friday in Los Angeles
    due, day = next_tip_due(
        tz="America/Los_Angeles", minute_of_day=NINE, working_days=WEEKDAYS, after=friday_evening
    )
    assert day == date(2026, 3, 9) and day.weekday() == 0


def test_spring_forward_keeps_nine_local_and_moves_utc_by_an_hour() -> None:
    # Thursday 2026-03-05 .. Tuesday 2026-03-10; clocks go forward on Sunday 2026-03-08.
    tips = tips_from(utc(2026, 3, 5, 0, 0), tz="America/Los_Angeles", count=4)
    assert [d for _, d in tips] == [date(2026, 3, 5), date(2026, 3, 6)] + [
        date(2026, 3, 9),
        date(2026, 3, 10),
    ]
    assert [t for t, _ in tips] == [
        utc(2026, 3, 5, 17, 0),  # PST
        utc(2026, 3, 6, 17, 0),
        utc(2026, 3, 9, 16, 0),  # PDT: an hour earlier in UTC
        utc(2026, 3, 10, 16, 0),
    ]
    assert {(t.astimezone(LA).hour, t.astimezone(LA).minute) for t, _ in tips} == {(9, 0)}


def test_fall_back_keeps_nine_local_and_moves_utc_by_an_hour() -> None:
    # Clocks go back on Sunday 2026-11-01.
    tips = tips_from(utc(2026, 10, 29, 0, 0), tz="America/Los_Angeles", count=4)
    assert [d for _, d in tips] == [
        date(2026, 10, 29),
        date(2026, 10, 30),
        date(2026, 11, 2),
        date(2026, 11, 3),
    ]
    assert [t for t, _ in tips] == [
        utc(2026, 10, 29, 16, 0),  # PDT
        utc(2026, 10, 30, 16, 0),
        utc(2026, 11, 2, 17, 0),  # PST: an hour later in UTC
        utc(2026, 11, 3, 17, 0),
    ]
    assert {t.astimezone(LA).hour for t, _ in tips} == {9}


def test_a_zone_without_dst_keeps_the_same_utc_time() -> None:
    tips = tips_from(utc(2026, 3, 5, 0, 0), tz="Asia/Kolkata", count=6)
    assert {(t.hour, t.minute) for t, _ in tips} == {(3, 30)}  # 09:00 IST = 03:30 UTC
    assert all(d.weekday() < 5 for _, d in tips)
    assert {t.astimezone(KOLKATA).hour for t, _ in tips} == {9}


def test_a_tip_time_inside_the_spring_forward_gap_resolves_to_a_real_instant() -> None:
    # 02:30 on Sunday 2026-03-08 does not exist in Los Angeles (02:00 -> 03:00).
    tips = tips_from(
        utc(2026, 3, 7, 8, 0), tz="America/Los_Angeles", count=3, minute=150, days=EVERY_DAY
    )
    (sat, sat_day), (sun, sun_day), (mon, mon_day) = tips
    assert (sat_day, sun_day, mon_day) == (date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9))
    assert sat == utc(2026, 3, 7, 10, 30)  # 02:30 PST
    # Resolved forward, like zoneinfo's fold=0: 02:30 PST == 03:30 PDT, a real instant.
    assert sun == utc(2026, 3, 8, 10, 30)
    local = sun.astimezone(LA)
    assert (local.date(), local.hour, local.minute) == (date(2026, 3, 8), 3, 30)
    assert local.astimezone(UTC) == sun, "round-trips: the instant exists"
    assert mon == utc(2026, 3, 9, 9, 30)  # 02:30 PDT
    assert sat < sun < mon and len({sat, sun, mon}) == 3


def test_an_ambiguous_fall_back_time_gives_one_tip_that_day() -> None:
    # 01:30 on Sunday 2026-11-01 happens twice in Los Angeles; one tip, the first.
    tips = tips_from(
        utc(2026, 10, 31, 7, 0), tz="America/Los_Angeles", count=3, minute=90, days=EVERY_DAY
    )
    assert [d for _, d in tips] == [date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)]
    assert tips[1][0] == utc(2026, 11, 1, 8, 30)  # 01:30 PDT, the first of the two
    # Even planned from between the two 01:30s, the next tip is Monday's.
    between = utc(2026, 11, 1, 9, 0)  # 01:00 PST, after the first 01:30
    assert next_tip_due(
        tz="America/Los_Angeles", minute_of_day=90, working_days=EVERY_DAY, after=between
    ) == (utc(2026, 11, 2, 9, 30), date(2026, 11, 2))


def test_after_exactly_at_a_due_time_gives_the_next_day() -> None:
    due, day = next_tip_due(
        tz="Asia/Kolkata", minute_of_day=NINE, working_days=WEEKDAYS, after=utc(2026, 3, 3, 3, 30)
    )
    assert (due, day) == (utc(2026, 3, 4, 3, 30), date(2026, 3, 4))
    just_before = utc(2026, 3, 3, 3, 30) - timedelta(microseconds=1)
    assert next_tip_due(
        tz="Asia/Kolkata", minute_of_day=NINE, working_days=WEEKDAYS, after=just_before
    ) == (utc(2026, 3, 3, 3, 30), date(2026, 3, 3))


def test_local_day_is_the_recipients_not_utcs() -> None:
    # 2026-03-03 22:00 UTC is already Wednesday 03:30 in Kolkata.
    due, day = next_tip_due(
        tz="Asia/Kolkata", minute_of_day=NINE, working_days=WEEKDAYS, after=utc(2026, 3, 3, 22, 0)
    )
    assert (due, day) == (utc(2026, 3, 4, 3, 30), date(2026, 3, 4))
    # From midnight UTC: 14:00 in Kiritimati (UTC+14), 13:00 the day before in Pago Pago
    # (UTC-11); both 09:00s have passed, so the next tips are on different local days.
    kiritimati = next_tip_due(
        tz="Pacific/Kiritimati", minute_of_day=NINE, working_days=EVERY_DAY, after=utc(2026, 3, 3)
    )
    pago = next_tip_due(
        tz="Pacific/Pago_Pago", minute_of_day=NINE, working_days=EVERY_DAY, after=utc(2026, 3, 3)
    )
    assert kiritimati == (utc(2026, 3, 3, 19, 0), date(2026, 3, 4))
    assert pago == (utc(2026, 3, 3, 20, 0), date(2026, 3, 3))


def test_unknown_zone_falls_back_to_utc_and_no_working_days_is_an_error() -> None:
    due, _ = next_tip_due(
        tz="Mars/Olympus_Mons", minute_of_day=NINE, working_days=WEEKDAYS, after=utc(2026, 3, 3)
    )
    assert due == utc(2026, 3, 3, 9, 0)
    with pytest.raises(ValueError):
        next_tip_due(tz="UTC", minute_of_day=NINE, working_days=frozenset(), after=utc(2026, 3, 3))


# ------------------------------------------------------------------------- tip lists


def test_tip_list_role() -> None:
    assert tip_list_role({"mentor"}) == "mentor"
    assert tip_list_role({"mentee"}) == "mentee"
    assert tip_list_role({"mentor", "mentee"}) == "both"


# ------------------------------------------------------------------------- meetings

NOW = utc(2026, 3, 2, 17, 0)


def test_check_meeting_times_accepts_ordered_future_times() -> None:
    times = [NOW + timedelta(days=d) for d in (1, 8, 15)]
    assert check_meeting_times(times, now=NOW) == {}


def test_check_meeting_times_reports_each_problem_by_position() -> None:
    problems = check_meeting_times(
        [
            NOW - timedelta(minutes=1),
            None,
            NOW + timedelta(days=400),
            NOW + timedelta(days=2),
            NOW + timedelta(days=2),
        ],
        now=NOW,
    )
    # The too-far third time still counts as "the meeting above" for the fourth.
    assert set(problems) == {0, 1, 2, 3, 4}
    assert "past" in problems[0]
    assert "Pick a date and a time" in problems[1]
    assert "more than a year" in problems[2]
    assert "after the meeting above" in problems[3]
    assert "after the meeting above" in problems[4]
    assert "past" in check_meeting_times([NOW], now=NOW)[0], "now itself is not ahead"
    assert "after the meeting above" in check_meeting_times(
        [NOW + timedelta(days=3), NOW + timedelta(days=1)], now=NOW
    ).get(1, "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, (45, None)),
        ("", (45, None)),
        ("   ", (45, None)),
        ("30", (30, None)),
        (" 60 ", (60, None)),
        ("15", (15, None)),
        ("240", (240, None)),
    ],
)
def test_check_length_accepts(text: str | None, expected: tuple) -> None:
    assert check_length(text, default=45) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("14", "between 15 and 240"),
        ("241", "between 15 and 240"),
        ("0", "between 15 and 240"),
        ("forty", "in minutes"),
        ("-30", "in minutes"),
        ("30m", "in minutes"),
        ("1.5", "in minutes"),
    ],
)
def test_check_length_refuses(text: str, needle: str) -> None:
    minutes, problem = check_length(text, default=45)
    assert minutes is None and problem is not None and needle in problem


def test_prep_due() -> None:
    lead = timedelta(hours=24)
    far = NOW + timedelta(days=3)
    assert prep_due(far, lead=lead, now=NOW) == far - lead
    inside = NOW + timedelta(hours=2)
    assert prep_due(inside, lead=lead, now=NOW) == NOW, "inside the lead time: at once"
    assert prep_due(NOW + lead, lead=lead, now=NOW) == NOW
    assert prep_due(NOW, lead=lead, now=NOW) is None
    assert prep_due(NOW - timedelta(hours=1), lead=lead, now=NOW) is None


def test_feedback_due() -> None:
    assert feedback_due(NOW, 45, delay=timedelta(hours=1)) == NOW + timedelta(minutes=105)
    assert feedback_due(NOW, 30, delay=timedelta(0)) == NOW + timedelta(minutes=30)


# ------------------------------------------------------------------------- commands


@pytest.mark.parametrize(
    ("text", "command"),
    [
        (None, Help()),
        ("", Help()),
        ("   ", Help()),
        ("help", Help()),
        ("?", Help()),
        ("HELP", Help()),
        ("start <@U123|name>", Start("U123", "mentor")),
        ("start <@U123>", Start("U123", "mentor")),
        ("start <@W0ABC|some.one>", Start("W0ABC", "mentor")),
        ("start <@U123|bob> as mentee", Start("U123", "mentee")),
        ("start <@U123> as mentor", Start("U123", "mentor")),
        ("Start <@U123>  AS  Mentee", Start("U123", "mentee")),
        ("pair <@U123>", Start("U123", "mentor")),
        ("invite <@U123> as mentee", Start("U123", "mentee")),
        ("schedule", Schedule()),
        ("schedule <@U123|bob>", Schedule(partner="U123")),
        # Punctuation after the person is not another word (it said "Mention the person").
        ("start <@U123|bob>.", Start(user_id="U123", caller_role="mentor")),
        ("start <@U123|bob>! as mentee", Start(user_id="U123", caller_role="mentee")),
        ("start <@U123|bob> as mentee.", Start(user_id="U123", caller_role="mentee")),
        ("end <@U123>.", End(partner="U123")),
        ("schedule <@U123|bob>!", Schedule(partner="U123")),
        ("status", Status()),
        ("end", End()),
        ("end <@U123>", End(partner="U123")),
        ("tips off", Tips(enabled=False)),
        ("tips on", Tips(enabled=True)),
        ("tips OFF", Tips(enabled=False)),
        ("tips at 7:05", Tips(enabled=True, minute=7 * 60 + 5)),
        ("tips at 07:05", Tips(enabled=True, minute=425)),
        ("tips at 8.30", Tips(enabled=True, minute=510)),
        ("tips at 00:00", Tips(enabled=True, minute=0)),
        ("tips at 23:59", Tips(enabled=True, minute=23 * 60 + 59)),
    ],
)
def test_parse_command(text: str | None, command: object) -> None:
    assert parse_command(text) == command


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("frobnicate", ["I don't know `/mentor frobnicate`", "`/mentor help`", "`start`"]),
        ("start", ["Who would you like to pair with?", "/mentor start @person"]),
        ("start @bob", ["I couldn't find @bob", "@-mention list"]),
        ("start @bob.", ["I couldn't find @bob in this workspace"]),
        ("start bob", ["Mention the person with @", "/mentor start @person"]),
        ("start <@U123> as boss", ["I didn't understand `as boss`", "as mentee"]),
        ("start <@U123> mentee", ["I didn't understand `mentee`"]),
        ("start <@U123|bob>, please", ["I didn't understand `please`"]),
        ("start <@U123|bob> <@U456|carol>", ["Invite one person at a time"]),
        ("start <@U123> as &lt;b&gt;", ["I didn't understand what came after the person"]),
        ("<!here>", ["I don't know that command", "`/mentor help`"]),
        ("start <@u123>", ["Mention the person with @"]),
        ("end bob", ["`/mentor end @partner`"]),
        ("end <@U123> <@U456>", ["`/mentor end @partner`"]),
        ("schedule next week", ["`/mentor schedule @partner`"]),
        ("tips", ["/mentor tips off", "/mentor tips at 08:30"]),
        ("tips maybe", ["/mentor tips on"]),
        ("tips off now", ["/mentor tips off"]),
        ("tips at", ["/mentor tips at 08:30"]),
        ("tips at 24:00", ["`24:00` is not a time of day", "HH:MM"]),
        ("tips at 9", ["`9` is not a time of day"]),
        ("tips at 9:5", ["`9:5` is not a time of day"]),
        ("tips at 9am", ["`9am` is not a time of day"]),
        ("tips at <!here>", ["That is not a time of day"]),
    ],
)
def test_parse_command_explains_bad_input(text: str, needles: list[str]) -> None:
    with pytest.raises(UserError) as raised:
        parse_command(text)
    for needle in needles:
        assert needle in str(raised.value)


def test_format_minute_round_trips_tips_at() -> None:
    for minute in (0, 5, 425, 9 * 60, 23 * 60 + 59):
        assert parse_command(f"tips at {format_minute(minute)}") == Tips(True, minute)


# -------------------------------------------------------------------------- backoff


@pytest.mark.parametrize(
    ("attempts", "minutes"),
    [(0, 1), (1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, 32), (7, 60), (20, 60)],
)
def test_backoff_grows_exponentially_to_an_hour(attempts: int, minutes: int) -> None:
    assert backoff(attempts, None) == timedelta(minutes=minutes)


def test_backoff_honours_retry_after_with_a_one_second_floor() -> None:
    assert backoff(3, 30) == timedelta(seconds=30)
    assert backoff(1, 1.5) == timedelta(seconds=1.5)
    assert backoff(1, 0.2) == timedelta(seconds=1)
    assert backoff(4, 0) == timedelta(minutes=8), "no Retry-After: exponential"


@given(
    starts=st.lists(st.integers(min_value=0, max_value=600), min_size=1, max_size=3, unique=True),
    taken=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=600), st.integers(min_value=15, max_value=240)
        ),
        max_size=4,
    ),
    minutes=st.integers(min_value=15, max_value=240),
)
def test_a_clash_is_an_overlap_and_every_overlap_is_a_clash(
    starts: list[int], taken: list[tuple[int, int]], minutes: int
) -> None:
    base = datetime(2026, 3, 2, 9, tzinfo=UTC)
    times = [base + timedelta(minutes=m) for m in sorted(starts)]
    busy = [(base + timedelta(minutes=m), length) for m, length in taken]
    problems = clashes(times, minutes, busy)

    def overlap(a: datetime, a_len: int, b: datetime, b_len: int) -> bool:
        return a < b + timedelta(minutes=b_len) and b < a + timedelta(minutes=a_len)

    for index, when in enumerate(times):
        with_taken = any(overlap(when, minutes, other, length) for other, length in busy)
        with_above = index > 0 and overlap(when, minutes, times[index - 1], minutes)
        assert (index in problems) == (with_taken or with_above)
    # Back to back is not a clash.
    assert clashes([base + timedelta(minutes=45)], 45, [(base, 45)]) == {}
