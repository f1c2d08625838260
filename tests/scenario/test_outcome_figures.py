"""Outcome figures as a coordinator finds them: App Home and `mentor-bot report --outcomes`.

Pairs are set up and meet through Slack; the figures appear only once a whole kickoff
month has passed the mark, each from at least K pairs, and a month with a pair of the
coordinator's own is hidden for them (not shown without it, which another coordinator's
view would give away).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from bot.__main__ import main
from slackemu import TEAM_ID
from tests.conftest import COORDINATOR, MENTEE, MENTOR, STRANGER, Harness, all_text
from tests.scenario.test_privacy_attacks import answer_polls, pair_up, schedule

ERIN = "UERIN00007"
FRANK = "UFRANK0008"
GINA, HAL = "UGINA00009", "UHAL000010"
ADMIN = "UIDA000011"


def outcomes(h: Harness, viewer: str = COORDINATOR) -> str:
    h.driver.app_home_opened(viewer)
    h.app.drain()
    blocks = h.slack.home_view(viewer)["blocks"]
    start = next(n for n, b in enumerate(blocks) if b.get("block_id") == "insights_outcomes")
    return all_text(blocks[start:])


def test_outcomes_appear_for_whole_months_never_with_the_viewers_own_pairs(
    harness: Harness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    h.slack.add_user(ERIN, name="erin", real_name="Erin Mentee", tz="Europe/Berlin")
    h.slack.add_user(FRANK, name="frank", real_name="Frank Mentee", tz="Asia/Tokyo")
    h.slack.add_user(GINA, name="gina", real_name="Gina Mentor", tz="UTC")
    h.slack.add_user(HAL, name="hal", real_name="Hal Mentee", tz="UTC")
    h.slack.add_user(ADMIN, name="ida", real_name="Ida Admin", tz="UTC", is_admin=True)
    # Four pairs kick off in March, one of them the coordinator's own.
    groups = [
        pair_up(h, MENTOR, MENTEE, "bob"),
        pair_up(h, STRANGER, ERIN, "erin"),
        pair_up(h, GINA, FRANK, "frank"),
    ]
    own = pair_up(h, COORDINATOR, HAL, "hal")
    first = h.clock.now + timedelta(days=2, hours=1)  # each first meeting two days in
    mentors = (MENTOR, STRANGER, GINA)
    for mentor, group in zip(mentors, groups, strict=True):
        schedule(h, mentor, group, first)
    schedule(h, COORDINATOR, own, first + timedelta(days=10))
    h.tick(first + timedelta(hours=2))
    for mentee in (MENTEE, ERIN, FRANK):
        assert answer_polls(h, mentee, 4) >= 1

    early = outcomes(h)
    assert "Days from kickoff to first meeting (median)" in early
    assert "hidden" in early  # March is not over, let alone 30 days past it

    # May: every March pair has passed 30 days (and the week for late answers).
    h.clock.set(datetime.fromisoformat("2026-05-18T09:00:00+00:00"))
    shown = outcomes(h, ADMIN)  # a Slack admin: a coordinator with no pair of their own
    assert "in the months without a pairing of your own" in shown
    assert "Days from kickoff to first meeting (median)*\n2 days (4 pairs)" in shown
    # All four still meet at 30 days: a 4-to-0 split would name everyone's state.
    assert "Still meeting at 30 days*\nhidden (fewer than 3 pairs on one side)" in shown
    assert "Undelivered" not in shown  # the outcomes section stands on its own
    # March counts the coordinator's own pair: hidden for them, and they are told why.
    theirs = outcomes(h)
    assert "Days from kickoff to first meeting (median)*\nhidden" in theirs
    assert "(4 pairs)" not in theirs and "(3 pairs)" not in theirs
    assert "_Hidden for you, as they count a pairing of your own: Mar 2026._" in theirs

    # The same figures from the command line, for the operator (no viewer: 4 pairs).
    monkeypatch.setenv("DATABASE_URL", h.db.engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("MENTOR_CONTENT_DIR", raising=False)
    assert main(["report", "--team", TEAM_ID, "--outcomes", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["first_meeting"]["pairs"] == 4
    assert "bob" not in json.dumps(data) and MENTEE not in json.dumps(data)
    assert main(["report", "--team", TEAM_ID, "--outcomes", "--chart", "x.png"]) == 2
    # A mistyped workspace is said to be one, not reported as an empty program.
    capsys.readouterr()
    for command in ("report", "match"):
        assert main([command, "--team", "T0TYPO", "--outcomes"][: 3 + (command == "report")]) == 1
        assert "--team T0TYPO: nobody from that workspace has used the bot here" in (
            capsys.readouterr().err
        )
