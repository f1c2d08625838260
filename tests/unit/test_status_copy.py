"""What `/mentor status` and App Home say, as the person reads it."""

from __future__ import annotations

import pytest

from bot.services.overview import Overview, PairLine
from bot.views.common import as_dicts
from bot.views.pairing import status_blocks, tip_days_words


@pytest.mark.parametrize(
    ("days", "words"),
    [
        ({0, 1, 2, 3, 4}, "on working days"),
        (set(range(7)), "every day"),
        ({5, 6}, "on Saturdays and Sundays"),
        ({0, 2, 4}, "on Mondays, Wednesdays and Fridays"),
        ({3}, "on Thursdays"),
    ],
)
def test_tips_are_said_to_come_on_the_programs_days(days: set[int], words: str) -> None:
    assert tip_days_words(frozenset(days)) == words
    overview = Overview(
        user_id="UALICE",
        pairs=(PairLine(1, "mentor", "UBOB", "active", True, "G1"),),
        tips_enabled=True,
        tip_minute=9 * 60,
        tz="Europe/Paris",
        tip_days=frozenset(days),
    )
    text = str(as_dicts(status_blocks(overview)))
    assert f"Daily tips arrive {words} at *09:00*" in text


def test_with_two_pairs_the_schedule_hint_names_the_partner() -> None:
    one = PairLine(1, "mentor", "UBOB", "active", True, "G1")
    other = PairLine(2, "mentee", "UDAVE", "active", False, "G2")
    common = {"user_id": "UALICE", "tips_enabled": True, "tip_minute": 540, "tz": None}
    alone = str(as_dicts(status_blocks(Overview(pairs=(one,), **common))))
    assert "No meetings planned yet: `/mentor schedule` sets the next three." in alone
    both = str(as_dicts(status_blocks(Overview(pairs=(one, other), **common))))
    assert "`/mentor schedule` naming <@UBOB> sets the next three" in both
    assert "`/mentor schedule` naming <@UDAVE> sets the next three" in both


def test_a_group_dm_not_open_yet_says_why_in_a_members_words() -> None:
    from bot.views.pairing import group_dm_waiting

    assert "Slack refused it (`missing_scope`: the app lacks the `mpim:write` permission)" in (
        group_dm_waiting("missing_scope (needed: mpim:write)")
    )
    assert "Slack refused it (`invalid_blocks`)" in group_dm_waiting("invalid_blocks")
    assert "Slack was busy" in group_dm_waiting("ratelimited")
    assert "Slack didn't answer" in group_dm_waiting("connection: timed out")
    assert "Slack didn't answer" in group_dm_waiting("http_503")
