"""Values from Slack payloads are whatever a person (or a forger) put there."""

from __future__ import annotations

import json

import pytest

from bot.domain.errors import UserError
from bot.domain.meetings import check_length
from bot.listeners.common import (
    FORM_GONE,
    MAX_ID,
    button_int,
    id_or_none,
    input_instant,
    input_text,
    metadata,
    metadata_int,
    surface_of,
)


@pytest.mark.parametrize(
    "value",
    ["²", "1²", "٣", "-1", "", " 1", "1.0", "9" * 11, str(MAX_ID + 1), "0x1", True, None, [1]],
)
def test_what_is_not_a_plain_id_is_refused(value: object) -> None:
    # "²".isdigit() is True and int("²") raises; "٣" is a digit to int(); a
    # number past 2**31 fails on PostgreSQL's integer columns.
    assert id_or_none(value) is None
    with pytest.raises(UserError):
        button_int(value)


def test_plain_ids_pass() -> None:
    assert [id_or_none(v) for v in ("0", "7", str(MAX_ID), 12)] == [0, 7, MAX_ID, 12]


@pytest.mark.parametrize("text", ["²", "4²", "٤٥", "9" * 5000, "45.5", "-45"])
def test_a_meeting_length_that_is_not_plain_minutes_is_a_form_error(text: str) -> None:
    minutes, problem = check_length(text, default=45)
    assert minutes is None and problem


@pytest.mark.parametrize(
    "raw",
    [None, "", "[" * 5000, "not json", "[1]", json.dumps({"pair_id": 2**40}), 7],
)
def test_private_metadata_that_is_not_ours_is_a_gone_form(raw: object) -> None:
    view = {"private_metadata": raw}
    with pytest.raises(UserError, match="not one of mine"):
        metadata_int(view, "pair_id")
    if raw in (None, ""):
        assert metadata(view) == {}


@pytest.mark.parametrize("stamp", [2**63, -(2**63), "²", "soon", 10**20])
def test_a_date_time_out_of_range_is_a_gone_form(stamp: object) -> None:
    view = {"state": {"values": {"when": {"value": {"selected_date_time": stamp}}}}}
    with pytest.raises(UserError) as info:
        input_instant(view, "when")
    assert str(info.value) == FORM_GONE


def test_inputs_of_the_wrong_shape_read_as_empty() -> None:
    for state in (None, {"values": None}, {"values": {"b": None}}, {"values": {"b": {"value": 5}}}):
        assert input_text({"state": state}, "b") == ""


def test_surfaces() -> None:
    assert surface_of({"container": {"type": "message"}, "message": {}}) == "message"
    assert surface_of({"container": {"type": "view"}, "view": {"type": "home"}}) == "home"
    assert surface_of({"container": {"type": "view"}, "view": {"type": "modal"}}) == "modal"
    assert surface_of({"type": "view_submission", "view": {"type": "modal"}}) == "modal"
    assert surface_of({"command": "/mentor"}) == ""
