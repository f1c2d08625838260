"""Which answers the server accepts, and how long typed text may be."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.answers import NOTE_MAX, check_feedback_allowed, check_text
from bot.domain.errors import UserError

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


@given(st.text(max_size=NOTE_MAX + 50))
def test_check_text_keeps_text_within_the_limit_and_refuses_the_rest(text: str) -> None:
    stripped = text.strip()
    if len(stripped) <= NOTE_MAX:
        assert check_text(text, limit=NOTE_MAX, what="Notes") == stripped
    else:
        with pytest.raises(UserError, match="Keep it under 2,000 characters"):
            check_text(text, limit=NOTE_MAX, what="Notes")


def test_check_text_treats_nothing_as_empty() -> None:
    assert check_text(None, limit=10, what="Notes") == ""


@pytest.mark.parametrize("status", ["invited", "declined", "withdrawn", ""])
def test_no_feedback_for_a_pair_that_never_started(status: str) -> None:
    with pytest.raises(UserError, match="never started"):
        check_feedback_allowed(pair_status=status, meeting_starts_at=NOW, now=NOW)


def test_a_rating_waits_for_the_meeting_to_start() -> None:
    later = NOW + timedelta(minutes=1)
    with pytest.raises(UserError, match="hasn't started yet"):
        check_feedback_allowed(pair_status="active", meeting_starts_at=later, now=NOW)
    check_feedback_allowed(pair_status="active", meeting_starts_at=NOW, now=NOW)
    check_feedback_allowed(pair_status="ended", meeting_starts_at=NOW, now=NOW)


def test_the_closing_poll_waits_for_the_end_of_the_pair() -> None:
    with pytest.raises(UserError, match="once the pairing has ended"):
        check_feedback_allowed(pair_status="active", meeting_starts_at=None, now=NOW)
    check_feedback_allowed(pair_status="ended", meeting_starts_at=None, now=NOW)
