"""Two small holes: the processed-events table is pruned, and digit-like characters
such as "²" in a number get a clear refusal, never "something went wrong"."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.config import ConfigError, load_settings
from bot.domain.meetings import check_length
from bot.ids import Block
from bot.store.models import Meeting, ProcessedEvent
from slackemu import Input
from tests.conftest import MENTOR, Harness, all_text
from tests.scenario.test_cli import run
from tests.scenario.test_coaching import open_schedule, pair_up


def _events(h: Harness) -> list[str]:
    with h.db.session() as session:
        return list(session.scalars(select(ProcessedEvent.event_id).order_by(ProcessedEvent.id)))


def test_processed_events_are_pruned_by_the_scheduler_pass(harness: Harness) -> None:
    h = harness
    h.driver.app_home_opened(MENTOR, event_id="Ev0OLD")
    h.app.drain()
    h.tick(h.clock.now + timedelta(hours=1))
    assert _events(h) == ["Ev0OLD"]  # still inside the redelivery window
    h.clock.advance(days=2)
    h.driver.app_home_opened(MENTOR, event_id="Ev0NEW")
    h.app.drain()
    h.tick(h.clock.now)
    assert _events(h) == ["Ev0NEW"]
    # A redelivery of the recent one still has no second effect.
    published = len(h.slack.calls_to("views.publish"))
    h.driver.app_home_opened(MENTOR, event_id="Ev0NEW", retry_num=1, retry_reason="http_timeout")
    h.app.drain()
    assert len(h.slack.calls_to("views.publish")) == published


SUPERSCRIPT_TWO = "²"  # str.isdigit() is True for it, int() refuses it


def test_digit_like_characters_get_a_clear_refusal(harness: Harness) -> None:
    h = harness
    assert SUPERSCRIPT_TWO.isdigit()
    for text, expected in (
        (f"pause {SUPERSCRIPT_TWO}w", "/mentor pause 2w"),
        (f"tips at {SUPERSCRIPT_TWO}:00", "is not a time of day"),
        (f"tips at 0{SUPERSCRIPT_TWO}:30", "is not a time of day"),
    ):
        response = h.slash(MENTOR, text)
        shown = all_text(response.json)
        assert expected in shown and "something went wrong" not in shown.lower(), (text, shown)

    # The schedule modal's length.
    group = pair_up(h)
    view = open_schedule(h, group)
    now = h.clock.now
    values = {
        block: {"value": Input.datetime(int((now + timedelta(days=d)).timestamp()))}
        for d, block in enumerate(("meeting_1", "meeting_2", "meeting_3"), start=1)
    }
    values[Block.LENGTH] = {"value": Input.plain_text(f"4{SUPERSCRIPT_TWO}")}
    response = h.submit(MENTOR, view, values)
    assert response.json["response_action"] == "errors"
    assert "length in minutes" in response.json["errors"][Block.LENGTH]
    with h.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Meeting)) == 0
    assert check_length(SUPERSCRIPT_TWO, default=45) == (
        None,
        "Give the length in minutes, e.g. 45.",
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [("PORT", "PORT must be a TCP port"), ("MENTOR_UNINSTALL_RETENTION_DAYS", "whole number")],
)
def test_digit_like_settings_are_one_clear_line(name: str, expected: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_settings({name: f"8{SUPERSCRIPT_TWO}"}, require_slack=False)
    result = run(["serve"], {name: SUPERSCRIPT_TWO}, tmp_path)
    assert result.returncode == 2 and expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_digit_like_days_on_the_command_line(tmp_path: Path) -> None:
    result = run(["demo", "--days", SUPERSCRIPT_TWO, "--out", str(tmp_path)], {}, tmp_path)
    assert result.returncode == 2
    assert "is not a number of days from 1 to 90" in result.stderr
