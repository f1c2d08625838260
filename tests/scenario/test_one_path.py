"""One path for every side effect: listener → service (one transaction: the change and
its messages as outbox rows) → commit → ack → sender (claim → render → Slack → mark sent).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.ids import Action, Block
from bot.store.models import Pair, ScheduledMessage
from slackemu import Input
from tests.conftest import MENTEE, MENTOR, Harness, all_text


def rows(h: Harness) -> list[tuple[str, str, str]]:
    with h.db.session() as s:
        return [
            (m.kind, m.recipient, m.status)
            for m in s.scalars(select(ScheduledMessage).order_by(ScheduledMessage.id))
        ]


def the_pair(h: Harness) -> Pair:
    with h.db.session() as s:
        return s.scalars(select(Pair)).one()


def test_a_use_case_is_committed_with_its_messages_before_the_ack(harness: Harness) -> None:
    h = harness
    mark = h.slack.mark()
    response = h.driver.slash(MENTOR, f"start <@{MENTEE}|bob>")  # no drain: the ack alone
    assert response.status == 200
    assert h.slack.calls[mark:] == []  # nothing asked of Slack, not even users.info
    pair = the_pair(h)
    assert pair.status == "invited"
    assert rows(h) == [("invitation", MENTEE, "pending")]

    h.app.drain()  # the sender: users.info on the invitee, then the DM
    invitation = h.last_dm(MENTEE)
    mark = h.slack.mark()
    h.driver.click(MENTEE, invitation, Action.ACCEPT_INVITE)
    assert h.slack.calls[mark:] == []
    # Active, with no group DM yet: the kickoff that opens it is a row like the others.
    pair = the_pair(h)
    assert (pair.status, pair.channel_id) == ("active", None)
    assert [r for r in rows(h) if r[2] == "pending"] == [
        ("kickoff", f"pair:{pair.id}", "pending"),
        ("invitation_closed", MENTEE, "pending"),
        ("invite_answered", MENTOR, "pending"),
    ]
    h.app.drain()
    group = h.slack.wait_for("conversations.open").response["channel"]["id"]
    assert the_pair(h).channel_id == group
    assert {status for _kind, _to, status in rows(h)} == {"sent"}


def test_the_group_dm_waits_for_a_kickoff_slack_refused_then_everything_arrives_in_order(
    harness: Harness,
) -> None:
    h = harness
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.slack.inject("conversations.open", error="internal_error")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    # Slack failed the group DM: the pair is active and says its kickoff is pending.
    assert the_pair(h).channel_id is None
    assert ("kickoff", f"pair:{the_pair(h).id}", "pending") in rows(h)
    assert "accepted" in all_text(h.last_dm(MENTOR))  # the rest went out meanwhile

    # They schedule before the group DM exists: the confirmation waits for it, and never
    # goes to anyone's DM instead.
    h.slash(MENTOR, "schedule")
    view = h.driver.last_view_opened(MENTOR)
    first = h.clock.now + timedelta(days=2)
    values = {
        block: {"value": Input.datetime(int((first + timedelta(days=7 * i)).timestamp()))}
        for i, block in enumerate(("meeting_1", "meeting_2", "meeting_3"))
    }
    values[Block.LENGTH] = {"value": Input.plain_text(None)}
    posts = len(h.slack.calls_to("chat.postMessage"))
    h.submit(MENTOR, view, values)
    assert len(h.slack.calls_to("chat.postMessage")) == posts
    with h.db.session() as s:
        waiting = s.scalars(
            select(ScheduledMessage).where(ScheduledMessage.kind == "schedule_confirmed")
        ).one()
        assert (waiting.status, waiting.attempts) == ("pending", 0)
        assert waiting.last_error == "waiting for the pair's group DM"

    # The kickoff's retry opens the group DM; the confirmation follows it there.
    h.tick(h.clock.now + timedelta(minutes=2))
    opened = h.slack.calls_to("conversations.open")
    assert [c.response.get("ok") for c in opened] == [False, True]
    group = opened[-1].response["channel"]["id"]
    assert the_pair(h).channel_id == group
    texts = [m["text"] for m in h.slack.messages_in(group)]
    assert texts[0].startswith("Welcome") and texts[1:] == ["Your next meetings are set"]
    assert not [m for u in (MENTOR, MENTEE) for m in h.slack.messages_in(u) if "set" in m["text"]]


def test_an_invitee_slack_refuses_withdraws_the_pair_in_the_sender(harness: Harness) -> None:
    h = harness
    h.slack.add_user("UQUIET0009", name="quiet", real_name="Quiet Person", tz="UTC")
    h.slack.inject("chat.postMessage", error="messages_tab_disabled")
    response = h.slash(MENTOR, "start <@UQUIET0009>")
    answer = h.slack.wait_for("response_url", after=response.mark)
    assert "couldn't send <@UQUIET0009> a direct message" in answer.args["text"]
    with h.db.session() as s:
        assert s.scalars(select(Pair)).all() == []
        assert s.scalars(select(ScheduledMessage)).all() == []


def test_an_answer_whose_response_url_expired_comes_as_a_dm(harness: Harness) -> None:
    h = harness
    h.driver.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.slack.advance(31 * 60)  # Slack keeps a response URL for 30 minutes
    h.app.drain()
    assert "invited you" in h.last_dm(MENTEE)["text"]
    assert "on its way" in h.last_dm(MENTOR)["text"]
    # The answer's row is gone once delivered: the URL is not kept.
    assert [kind for kind, _to, _status in rows(h)] == ["invitation"]


def test_an_invitation_answered_before_it_went_out_is_not_sent(harness: Harness) -> None:
    h = harness
    h.driver.slash(MENTOR, f"start <@{MENTEE}|bob>")
    # App Home shows the invitation before its DM has gone (only views, no delivery).
    h.driver.app_home_opened(MENTEE)
    assert h.app.run(h.app.deps.background.drain(5))
    home = h.slack.home_view(MENTEE)
    h.driver.click_in_view(MENTEE, home, Action.DECLINE_INVITE)
    h.app.drain()
    assert not [m for m in h.slack.messages_in(MENTEE) if "invited you" in m["text"]]
    assert "declined" in all_text(h.last_dm(MENTOR))
    assert {kind: status for kind, _to, status in rows(h)} == {
        "invitation": "cancelled",
        "invitation_closed": "cancelled",
        "invite_answered": "sent",
    }
