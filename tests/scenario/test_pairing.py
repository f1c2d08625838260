"""From `/mentor start` to the pair's kickoff, as Slack sees it."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.ids import Action
from bot.store.models import Pair
from slackemu.signing import signed_headers
from tests.conftest import (
    COORDINATOR,
    DEACTIVATED,
    MENTEE,
    MENTOR,
    OTHER_BOT,
    SIGNING_SECRET,
    STRANGER,
    Harness,
    all_text,
)


def pair_count(h: Harness) -> int:
    with h.db.session() as s:
        return s.scalar(select(func.count()).select_from(Pair))


def invite(h: Harness, text: str = f"start <@{MENTEE}|bob>", user: str = MENTOR) -> dict:
    response = h.slash(user, text)
    assert response.status == 200
    return h.last_dm(MENTOR if user == MENTEE else MENTEE)


def test_help_is_ephemeral_usage(harness: Harness) -> None:
    for text in ("help", ""):
        response = harness.driver.slash(MENTOR, text)
        assert response.status == 200
        assert response.json["response_type"] == "ephemeral"
        shown = all_text(response.json)
        assert "/mentor start @person" in shown and "tips" in shown


def test_invite_accept_kickoff(harness: Harness) -> None:
    h = harness
    response = h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    assert response.body == b""  # acked at once; the answer follows on the response_url
    confirmation = h.slack.wait_for("response_url", after=response.mark)
    assert f"<@{MENTEE}>" in all_text(confirmation.args)
    assert confirmation.args.get("response_type") == "ephemeral"

    invitation = h.last_dm(MENTEE)
    text = all_text(invitation)
    assert f"<@{MENTOR}>" in text and "mentee" in text
    assert "coordinators matched" not in text  # their own invitation, not a match
    # Nothing else happens until the invitee answers.
    assert not h.slack.calls_to("conversations.open")

    h.click(MENTEE, invitation, Action.ACCEPT_INVITE)
    opened = h.slack.wait_for("conversations.open")
    assert set(opened.args["users"].split(",")) == {MENTOR, MENTEE}
    group = opened.response["channel"]["id"]
    kickoff = h.slack.messages_in(group)[-1]
    kickoff_text = all_text(kickoff)
    assert "Get acquainted. Build the relationships first." in kickoff_text
    assert "As you progress, expand the range of activities." in kickoff_text
    buttons = [
        e for b in kickoff["blocks"] for e in b.get("elements", []) if e.get("type") == "button"
    ]
    assert [b["text"]["text"] for b in buttons] == [
        "Schedule our next 3 meetings",
        "Set our goals",
    ]
    # The invitation now shows the answer instead of buttons, and the inviter hears of it.
    updated = h.slack.message(invitation["ts"])
    assert "accepted" in all_text(updated) and not any(
        b["type"] == "actions" for b in updated["blocks"]
    )
    assert "accepted" in all_text(h.last_dm(MENTOR))


def test_invite_as_mentee_swaps_roles(harness: Harness) -> None:
    invite(harness, f"start <@{MENTOR}> as mentee", user=MENTEE)
    with harness.db.session() as s:
        pair = s.scalars(select(Pair)).one()
        assert (pair.mentor_id, pair.mentee_id, pair.status) == (MENTOR, MENTEE, "invited")


def test_decline_tells_inviter_politely(harness: Harness) -> None:
    h = harness
    invitation = invite(h)
    h.click(MENTEE, invitation, Action.DECLINE_INVITE)
    assert "declined" in all_text(h.last_dm(MENTOR))
    assert not h.slack.calls_to("conversations.open")
    with h.db.session() as s:
        assert s.scalars(select(Pair.status)).one() == "declined"


def test_after_a_decline_the_same_invitation_waits_thirty_days(harness: Harness) -> None:
    h = harness
    h.click(MENTEE, invite(h), Action.DECLINE_INVITE)
    invitations = len(h.slack.messages_in(MENTEE))
    for _attempt in range(3):  # asking again and again is refused, and sends nothing
        response = h.slash(MENTOR, f"start <@{MENTEE}|bob>")
        assert response.status == 200
        # The database alone knows it: refused in the ack itself.
        assert "won't ask them again for now" in response.json["text"]
    assert len(h.slack.messages_in(MENTEE)) == invitations
    with h.db.session() as s:
        assert s.scalars(select(Pair.status)).all() == ["declined"]
    # After 30 days the inviter may ask again.
    h.clock.advance(days=30)
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    with h.db.session() as s:
        assert sorted(s.scalars(select(Pair.status))) == ["declined", "invited"]


def test_bad_inputs_answer_and_change_nothing(harness: Harness) -> None:
    h = harness
    cases = {
        "start": "Who would you like to pair with?",
        "start bob": "Mention the person",
        "start @nobody": "couldn't find @nobody",
        f"start <@{MENTOR}|alice>": "can't pair with yourself",
        f"start <@{MENTEE}> as boss": "as mentee",
        "dance": "don't know `/mentor dance`",
        "tips sometimes": "/mentor tips off",
        "tips at 25:00": "not a time of day",
    }
    for text, expected in cases.items():
        response = h.driver.slash(MENTOR, text)
        assert response.status == 200, text
        assert response.json["response_type"] == "ephemeral", text
        assert expected in response.json["text"], (text, response.json["text"])
    # Problems only Slack can tell us about arrive on the response_url.
    slack_cases = {
        "UNOBODY999": "couldn't find",
        DEACTIVATED: "deactivated",
        OTHER_BOT: "bot",
    }
    for user, expected in slack_cases.items():
        response = h.slash(MENTOR, f"start <@{user}>")
        answer = h.slack.wait_for("response_url", after=response.mark)
        assert expected in answer.args["text"], (user, answer.args)
    assert pair_count(h) == 0
    assert not h.slack.calls_to("chat.postMessage")


def test_existing_pair_is_refused(harness: Harness) -> None:
    h = harness
    invite(h)
    response = h.slash(MENTEE, f"start <@{MENTOR}>")
    assert "already have an invitation" in response.json["text"]  # in the ack
    assert pair_count(h) == 1


def test_the_inviter_withdraws_an_unanswered_invitation(harness: Harness) -> None:
    """Without a way back, an inviter whose invitation goes unanswered is stuck: `start`
    says one is waiting, `end` that they have no pair. `end @person` withdraws it: the
    invitation says so in place, Accept on it changes nothing, and they may invite again."""
    h = harness
    invitation = invite(h)
    stuck = h.slash(MENTOR, f"start <@{MENTEE}>")
    assert f"To withdraw it, type `/mentor end` and mention <@{MENTEE}>." in stuck.json["text"]
    # The invitee is sent to the invitation, whichever way they come at it.
    theirs = h.slash(MENTEE, f"start <@{MENTOR}>").json["text"]
    assert "They invited you: press Accept or Decline in our DM or on App Home." in theirs
    answer_it = h.slash(MENTEE, f"end <@{MENTOR}>").json["text"]
    assert f"<@{MENTOR}> invited you and waits for your answer" in answer_it
    # Someone who sent no invitation to that person withdraws nothing.
    assert "not in an active mentoring pair" in h.slash(STRANGER, f"end <@{MENTEE}>").json["text"]
    # Two sent, no pair: `end` alone asks which.
    h.slash(MENTOR, f"start <@{STRANGER}>")
    which = h.slash(MENTOR, "end").json["text"]
    assert f"You have invitations waiting for <@{MENTEE}>, <@{STRANGER}>" in which
    assert pair_count(h) == 2
    h.slash(MENTOR, f"end <@{STRANGER}>")

    answer = h.slash(MENTOR, f"end <@{MENTEE}>")
    assert f"I've withdrawn your invitation to <@{MENTEE}>" in answer.json["text"]
    closed = h.slack.calls_to("chat.update")[-1]
    assert closed.args["ts"] == invitation["ts"]
    assert "withdrew this invitation" in all_text(h.slack.messages_in(MENTEE)[-1])
    with h.db.session() as s:
        assert set(s.scalars(select(Pair.status))) == {"withdrawn"}

    mark = h.slack.mark()
    h.click(MENTEE, invitation, Action.ACCEPT_INVITE)
    refusal = h.slack.wait_for("response_url", after=mark)
    assert "This invitation was withdrawn" in refusal.args["text"]
    assert not h.slack.calls_to("conversations.open")

    # No cooldown, unlike a decline: the inviter may ask again, this time as mentee.
    h.slash(MENTOR, f"start <@{MENTEE}> as mentee")
    assert pair_count(h) == 3
    # But not over and over, each a new DM with buttons: a second withdrawal that day
    # holds a third invitation until tomorrow.
    h.slash(MENTOR, f"end <@{MENTEE}>")
    again = h.slash(MENTOR, f"start <@{MENTEE}>").json["text"]
    assert f"You have withdrawn 2 invitations to <@{MENTEE}> today" in again
    assert pair_count(h) == 3
    h.clock.advance(days=1, minutes=1)
    h.slash(MENTOR, f"start <@{MENTEE}>")
    assert pair_count(h) == 4
    assert "invited you" in h.last_dm(MENTEE)["text"]


def test_an_invitation_withdrawn_before_it_went_never_goes(harness: Harness) -> None:
    """Withdrawn while its DM is still in the outbox (Slack was down): it never goes, and
    `end` without a name means the one invitation of someone with no pair."""
    h = harness
    h.slack.inject("users.info", status=503, times=100)
    h.slash(MENTOR, f"start <@{MENTEE}>")
    assert not h.slack.messages_in(MENTEE)
    assert "withdrawn your invitation" in h.slash(MENTOR, "end").json["text"]
    h.slack.clear_faults()
    h.tick(h.clock.now + timedelta(minutes=30))
    assert not h.slack.messages_in(MENTEE)


def test_only_the_invitee_may_answer(harness: Harness) -> None:
    h = harness
    invitation = invite(h)
    mark = h.slack.mark()
    h.click(STRANGER, invitation, Action.ACCEPT_INVITE, channel=h.slack.dm_channel(MENTEE))
    refusal = h.slack.wait_for("response_url", after=mark)
    assert "Only the person who was invited" in refusal.args["text"]
    with h.db.session() as s:
        assert s.scalars(select(Pair.status)).one() == "invited"
    assert not h.slack.calls_to("conversations.open")


def test_an_invitation_answered_again_says_what_became_of_it(harness: Harness) -> None:
    h = harness
    invitation = invite(h)
    h.click(MENTEE, invitation, Action.ACCEPT_INVITE)
    for again in (Action.ACCEPT_INVITE, Action.DECLINE_INVITE):
        mark = h.slack.mark()
        h.click(MENTEE, invitation, again)  # the old copy, pressed again
        answer = h.slack.wait_for("response_url", after=mark)
        assert "You already accepted this invitation" in answer.args["text"]
    with h.db.session() as s:
        assert s.scalars(select(Pair.status)).one() == "active"


def test_tampered_button_value_is_refused(harness: Harness) -> None:
    h = harness
    invitation = invite(h)
    # Someone else's pair ID, and something that is not an ID at all.
    for forged in ("999", "1; DROP TABLE pairs"):
        tampered = json.loads(json.dumps(invitation))
        for block in tampered["blocks"]:
            for element in block.get("elements", []):
                element["value"] = forged
        mark = h.slack.mark()
        h.click(MENTEE, tampered, Action.ACCEPT_INVITE)
        h.slack.wait_for("response_url", after=mark)
    with h.db.session() as s:
        assert s.scalars(select(Pair.status)).one() == "invited"


def test_status_lists_pairs_and_tips(harness: Harness) -> None:
    h = harness
    invitation = invite(h)
    h.click(MENTEE, invitation, Action.ACCEPT_INVITE)
    response = h.driver.slash(MENTEE, "status")
    shown = all_text(response.json)
    assert "You are the mentee" in shown and f"<@{MENTOR}>" in shown
    assert "09:00" in shown and "Asia/Kolkata" in shown


def test_app_home_shows_pairs_and_invitations(harness: Harness) -> None:
    h = harness
    invite(h)
    h.driver.app_home_opened(MENTEE)
    h.app.drain()
    home = h.slack.home_view(MENTEE)
    assert "Invitation from" in all_text(home)
    accept = [
        e
        for b in home["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == Action.ACCEPT_INVITE
    ]
    assert accept, "the invitee can accept from App Home"
    h.driver.app_home_opened(COORDINATOR)
    h.app.drain()
    assert "Program (coordinators)" in all_text(h.slack.home_view(COORDINATOR))
    assert "Program (coordinators)" not in all_text(home)


def test_redelivered_event_has_no_second_effect(harness: Harness) -> None:
    h = harness
    h.driver.app_home_opened(MENTOR, event_id="Ev0REDELIVER")
    h.app.drain()
    h.driver.app_home_opened(
        MENTOR, event_id="Ev0REDELIVER", retry_num=1, retry_reason="http_timeout"
    )
    h.app.drain()
    assert len(h.slack.calls_to("views.publish")) == 1


def test_bad_signatures_are_refused(harness: Harness) -> None:
    h = harness
    body = f"command=%2Fmentor&text=start+%3C%40{MENTEE}%3E&user_id={MENTOR}&team_id=T0001"
    assert h.driver.post(body, bad_signature=True).status == 401
    old = int(time.time()) - 6 * 60
    assert h.driver.post(body, timestamp=old).status == 401
    assert h.driver.post(body, sign=False).status == 401
    headers = signed_headers("wrong-secret", body)
    assert h.driver.post(body, headers_override=headers).status == 401
    # A timestamp that is no number is refused as unsigned, not answered "went wrong".
    for stamp in ("abc", "1e9", "-5", "12 34"):
        garbled = {**signed_headers(SIGNING_SECRET, body), "X-Slack-Request-Timestamp": stamp}
        answer = h.driver.post(body, headers_override=garbled)
        assert (answer.status, answer.json) == (401, {"error": "invalid request"}), stamp
    assert pair_count(h) == 0


def test_a_refused_signature_logs_no_typed_words(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Bolt logs a request whose signature fails, with its body: a rotated secret or a
    drifting clock would put what people type in the logs. The body is left out."""
    h = harness
    caplog.set_level(logging.DEBUG)
    # As `serve` has it (the app's Bolt loggers at INFO), whatever an earlier test set.
    caplog.set_level(logging.INFO, logger="slack_bolt.RequestVerification")
    typed = "ask+I+am+thinking+of+quitting"
    body = f"command=%2Fmentor&text={typed}&user_id={MENTOR}&team_id=T0001"
    assert h.driver.post(body, bad_signature=True).status == 401
    assert h.driver.post(body, timestamp=int(time.time()) - 400).status == 401
    lines = [record.getMessage() for record in caplog.records]
    assert any("Invalid request signature detected" in line for line in lines)
    assert all("quitting" not in line for line in lines), lines


def test_restart_loses_nothing(harness: Harness) -> None:
    h = harness
    invitation = invite(h)
    # A second app on the same database stands in for the restarted process.
    from bot.local import LocalApp

    h.app.stop()
    with LocalApp(h.settings, content=h.app.deps.content, db=h.db, clock=h.clock) as again:
        driver = h.slack.driver(again.url, "test-signing-secret")
        driver.click(MENTEE, invitation, Action.ACCEPT_INVITE)
        again.drain()
        assert h.slack.calls_to("conversations.open")
        shown = all_text(driver.slash(MENTOR, "status").json)
        assert "You are the mentor" in shown
    h.app = again  # the fixture stops it again harmlessly
