"""What a person sees change after an ack is an outbox row too: App Home refreshes, a
Cancel button's question going away, the ``/mentor match`` review, forget-me's DM; and a
kickoff Slack refuses for good ends the pair explicitly, both members told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.ids import Action, Block
from bot.services import privacy
from bot.store import outbox
from bot.store.models import Meeting, ScheduledMessage
from bot.views.privacy import forgotten_message
from slackemu import Input
from tests.conftest import BOT_TOKEN, COORDINATOR, MENTEE, MENTOR, Harness, all_text
from tests.scenario.test_goals import CARD, set_goals
from tests.scenario.test_one_path import rows, the_pair


def _accept_with_group_dm_failing(h: Harness) -> None:
    """An active pair whose kickoff is waiting (Slack failed conversations.open once),
    with three meetings set meanwhile: their confirmation waits for the group DM."""
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.slack.inject("conversations.open", error="internal_error")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    _schedule(h, h.clock.now + timedelta(days=2))
    assert ("schedule_confirmed", f"pair:{the_pair(h).id}", "pending") in rows(h)


def _refused_outcome(h: Harness, reason: str) -> None:
    pair = the_pair(h)
    # The pair's state says so: ended, by Slack, with no group DM.
    assert (pair.status, pair.ended_by, pair.channel_id) == ("ended", "slack", None)
    statuses = {(kind, to): status for kind, to, status in rows(h)}
    assert statuses[("kickoff", f"pair:{pair.id}")] == "failed"
    # What waited for the group DM is cancelled, not paused with nothing to resume it.
    assert statuses[("schedule_confirmed", f"pair:{pair.id}")] == "cancelled"
    assert not [r for r in rows(h) if r[2] in ("paused", "pending", "sending")]
    with h.db.session() as s:
        assert {m.status for m in s.scalars(select(Meeting))} == {"cancelled"}
    # Each member is told, in their own DM, why.
    for member, partner in ((MENTOR, MENTEE), (MENTEE, MENTOR)):
        told = h.last_dm(member)["text"]
        assert "couldn't set up the conversation" in told and f"<@{partner}>" in told
        assert reason in told


def test_a_kickoff_slack_refuses_in_the_group_dm_ends_the_pair_and_tells_both(
    harness: Harness,
) -> None:
    h = harness
    _accept_with_group_dm_failing(h)
    group = h.slack.mpim_for(MENTOR, MENTEE)
    # The group DM opens this time, but Slack refuses the kickoff posted in it.
    h.slack.inject(
        "chat.postMessage",
        error="is_archived",
        times=1_000,
        when=lambda args: args.get("channel") == group,
    )
    h.tick(h.clock.now + timedelta(minutes=2))
    assert [c.response.get("ok") for c in h.slack.calls_to("conversations.open")][-1] is True
    assert h.slack.messages_in(group) == []
    _refused_outcome(h, "is_archived")
    # Later passes find nothing more to do for the pair.
    h.slack.clear_faults()
    h.tick(h.clock.now + timedelta(hours=2))
    assert h.slack.messages_in(group) == []


def test_a_kickoff_whose_group_dm_slack_refuses_to_open_ends_the_pair_the_same_way(
    harness: Harness,
) -> None:
    h = harness
    _accept_with_group_dm_failing(h)
    h.slack.inject("conversations.open", error="user_disabled")
    h.tick(h.clock.now + timedelta(minutes=2))
    _refused_outcome(h, "user_disabled")


def test_a_group_dm_these_people_cannot_share_ends_the_pair_the_same_way(
    harness: Harness,
) -> None:
    """conversations.open's invalid_user_combination (slack-api-ref): the members cannot
    share a group DM, now or later; told at once, not after six attempts."""
    h = harness
    _accept_with_group_dm_failing(h)
    h.slack.inject("conversations.open", error="invalid_user_combination")
    h.tick(h.clock.now + timedelta(minutes=2))
    _refused_outcome(h, "invalid_user_combination")


def test_app_home_refreshes_are_outbox_rows_and_a_burst_collapses(harness: Harness) -> None:
    h = harness
    mark = h.slack.mark()
    h.driver.app_home_opened(MENTOR)  # no drain: the ack alone
    assert h.slack.calls[mark:] == []
    assert rows(h) == [("home_refresh", MENTOR, "pending")]
    h.app.drain()
    home = h.slack.home_view(MENTOR)
    assert "Turn tips off" in all_text(home)
    assert rows(h) == []  # deleted once Slack has the view

    # Three presses before the sender runs: three changes, one refresh waiting.
    mark = h.slack.mark()
    for _ in range(3):
        h.driver.click_in_view(MENTOR, home, Action.HOME_TIPS_TOGGLE)
    assert h.slack.calls[mark:] == []
    assert rows(h) == [("home_refresh", MENTOR, "pending")]
    h.app.drain()
    assert len(h.slack.calls_to("views.publish")) == 2
    assert "Turn tips on" in all_text(h.slack.home_view(MENTOR))
    assert rows(h) == []


def test_a_cancel_button_takes_its_question_away_through_the_outbox(harness: Harness) -> None:
    h = harness
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    before = rows(h)
    confirm = h.driver.slash(MENTOR, "end")
    mark = h.slack.mark()
    h.driver.click(
        MENTOR,
        {"ts": "0", "blocks": confirm.json["blocks"]},
        Action.END_CANCEL,
        channel=h.slack.dm_channel(MENTOR),
    )
    assert h.slack.calls[mark:] == []  # nothing in Slack before the ack
    assert rows(h) == [*before, ("respond", MENTOR, "pending")]
    h.app.drain()
    answer = h.slack.wait_for("response_url", after=mark)
    assert answer.args.get("delete_original") is True
    assert rows(h) == before  # an ephemeral answer leaves no row
    assert the_pair(h).status == "active"


def test_match_opens_its_modal_at_once_and_the_review_follows_from_the_outbox(
    harness: Harness,
) -> None:
    h = harness
    mark = h.slack.mark()
    h.slash(COORDINATOR, "match")
    methods = [c.method for c in h.slack.calls[mark:]]
    # The modal first (its trigger lasts 3 s), then the request's delivery: who asks
    # (users.info), and the proposal shown in that modal.
    assert methods[0] == "views.open"
    assert methods[1:] == ["users.info", "views.update"]
    opened = h.slack.calls[mark].response["view"]["id"]
    review = h.slack.view(opened)
    assert review["callback_id"] == "match_review_modal"
    assert [kind for kind, _to, _status in rows(h)] == ["as_coordinator"]  # done, kept


def test_forget_me_without_a_response_url_answers_by_dm_and_keeps_no_row(
    harness: Harness,
) -> None:
    h = harness
    h.slash(MENTEE, "my-data")
    text, blocks = forgotten_message()
    with h.db.session() as session:
        privacy.forget_me(
            session,
            team_id=h.slack.team_id,
            user_id=MENTEE,
            now=h.clock.now,
            response_url=None,
            text=text,
            blocks=[b.to_dict() for b in blocks],
        )
        waiting = session.scalars(
            select(ScheduledMessage).where(ScheduledMessage.kind == "forgotten")
        ).one()
        assert waiting.recipient == MENTEE
    h.app.deliver_due_now()
    assert h.last_dm(MENTEE)["text"] == text
    with h.db.session() as session:
        assert not session.scalars(
            select(ScheduledMessage).where(ScheduledMessage.recipient == MENTEE)
        ).all()


# ---------------------------------------------------------------- guarantees that had no test


def _schedule(h: Harness, first: datetime) -> None:
    h.slash(MENTOR, "schedule")
    view = h.driver.last_view_opened(MENTOR)
    values = {
        block: {"value": Input.datetime(int((first + timedelta(days=7 * i)).timestamp()))}
        for i, block in enumerate(("meeting_1", "meeting_2", "meeting_3"))
    }
    values[Block.LENGTH] = {"value": Input.plain_text(None)}
    h.submit(MENTOR, view, values)


def test_a_person_slack_refused_resumes_on_opening_home_and_stale_messages_drop(
    harness: Harness,
) -> None:
    h = harness
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    theirs = (MENTEE, h.slack.dm_channel(MENTEE))

    def refuse_once() -> None:
        h.slack.inject(
            "chat.postMessage",
            error="messages_tab_disabled",
            when=lambda args: args.get("channel") in theirs,
        )
        h.slash(MENTEE, "my-data")
        assert ("my_data", MENTEE, "paused") in rows(h)

    # Paused, then they open App Home an hour later: the export goes out at once.
    refuse_once()
    h.clock.advance(hours=1)
    h.driver.app_home_opened(MENTEE)
    h.app.drain()
    assert "stores about you" in h.last_dm(MENTEE)["text"]
    assert ("my_data", MENTEE, "paused") not in rows(h)

    # Paused again, and they come back two days later: held more than a day, dropped.
    refuse_once()
    exports = len([m for m in h.slack.messages_in(MENTEE) if "stores about you" in m["text"]])
    h.clock.advance(days=2)
    h.driver.app_home_opened(MENTEE)
    h.app.drain()
    assert ("my_data", MENTEE, "cancelled") in rows(h)
    assert exports == len(
        [m for m in h.slack.messages_in(MENTEE) if "stores about you" in m["text"]]
    )


def test_a_schedule_again_ask_is_skipped_when_meetings_exist_by_then(harness: Harness) -> None:
    h = harness
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    first = h.clock.now + timedelta(days=2)
    _schedule(h, first)
    pair = the_pair(h)
    with h.db.session() as s:
        ask = s.scalars(select(ScheduledMessage).where(ScheduledMessage.kind == "schedule_ask"))
        due = ask.one().due_at
        # A meeting set later without passing through the use case that replans the ask:
        # only the send-time check can stop it.
        s.add(
            Meeting(
                team_id=pair.team_id,
                pair_id=pair.id,
                starts_at=first + timedelta(days=30),
                minutes=30,
                status="scheduled",
                number=4,
                created_at=h.clock.now,
            )
        )
    group = the_pair(h).channel_id
    before = len(h.slack.messages_in(group))
    h.tick(due + timedelta(minutes=1))
    assert ("schedule_ask", f"pair:{pair.id}", "cancelled") in rows(h)
    assert not [m for m in h.slack.messages_in(group)[before:] if "next" in m["text"].lower()]


def test_a_kickoff_of_a_pair_that_ended_first_is_not_sent(harness: Harness) -> None:
    h = harness
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.slack.inject("conversations.open", error="internal_error")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    assert ("kickoff", f"pair:{the_pair(h).id}", "pending") in rows(h)
    confirm = h.driver.slash(MENTOR, "end")
    h.click(
        MENTOR,
        {"ts": "0", "blocks": confirm.json["blocks"]},
        Action.END_CONFIRM,
        channel=h.slack.dm_channel(MENTOR),
    )
    h.tick(h.clock.now + timedelta(minutes=5))
    assert the_pair(h).status == "ended"
    assert [c.response.get("ok") for c in h.slack.calls_to("conversations.open")] == [False]
    assert ("kickoff", f"pair:{the_pair(h).id}", "cancelled") in rows(h)


def test_tips_missed_in_an_outage_are_passed_over_not_planned(harness: Harness) -> None:
    h = harness
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    h.tick(h.clock.now + timedelta(minutes=1))
    # No pass for three days: every tip time in between is in the past when one runs.
    back = h.clock.now + timedelta(days=3, hours=5)
    h.tick(back)
    with h.db.session() as s:
        tips = s.scalars(
            select(ScheduledMessage).where(
                ScheduledMessage.kind == "tip", ScheduledMessage.created_at >= back
            )
        ).all()
    assert tips, "the pass planned the next tips"
    assert all(t.due_at >= back - timedelta(minutes=30) for t in tips)


def test_updates_in_place_go_in_the_order_they_were_asked_for(harness: Harness) -> None:
    h = harness
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    h.tick(datetime(2026, 3, 3, 17, 0, tzinfo=UTC))  # 09:00 Tuesday in Los Angeles
    tip = h.last_dm(MENTOR)
    # 👍 then 👎 before the sender runs: two tip_update rows, applied in that order.
    h.driver.click(MENTOR, tip, Action.TIP_UP)
    h.driver.click(MENTOR, tip, Action.TIP_DOWN)
    assert [r for r in rows(h) if r[0] == "tip_update"] == [
        ("tip_update", MENTOR, "pending"),
        ("tip_update", MENTOR, "pending"),
    ]
    h.app.drain()
    shown = all_text(h.slack.message(tip["ts"]))
    assert "✓ 👎" in shown and "✓ 👍" not in shown


def test_an_invitation_withdrawn_before_it_went_out_is_not_sent(harness: Harness) -> None:
    h = harness
    h.driver.slash(MENTOR, f"start <@{MENTEE}|bob>")  # the ack; the DM not sent yet
    confirm = h.driver.slash(MENTOR, "forget-me")  # the inviter withdraws, all of it
    h.driver.click(
        MENTOR,
        {"ts": "0", "blocks": confirm.json["blocks"]},
        Action.FORGET_CONFIRM,
        channel=h.slack.dm_channel(MENTOR),
    )
    h.app.drain()
    h.tick(h.clock.now + timedelta(minutes=5))
    assert not [m for m in h.slack.messages_in(MENTEE) if "invited you" in m.get("text", "")]
    assert [s for k, _to, s in rows(h) if k == "invitation"] in ([], ["cancelled"])


def test_a_kickoff_refused_for_the_apps_own_setup_waits_says_why_and_goes_once_fixed(
    harness: Harness,
) -> None:
    """An install without ``mpim:write`` (Slack: ``missing_scope``) is nobody's doing in
    the pair: it stays active, its kickoff is tried again until it succeeds (at most an
    hour apart, never failed), `/mentor status` says why, and an operator's retry, once
    the scope is added, opens the group DM at once with what waited following it."""
    h = harness
    h.slack.add_token(BOT_TOKEN, scopes=[s for s in h.slack.default_scopes if s != "mpim:write"])
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    _schedule(h, h.clock.now + timedelta(days=2))
    pair = the_pair(h)
    for _ in range(12):  # half a day of passes
        h.tick(h.clock.now + timedelta(hours=1))
    with h.db.session() as s:
        kickoff = s.scalars(select(ScheduledMessage).filter_by(kind="kickoff")).one()
        # Which scope, as Slack says: what the operator adds (`outbox list` shows it).
        assert kickoff.status == "pending"
        assert kickoff.last_error == "missing_scope (needed: mpim:write)"
        assert kickoff.attempts > 6  # past the attempts any other row gets
        assert kickoff.due_at <= h.clock.now + timedelta(hours=1)
    assert (the_pair(h).status, the_pair(h).channel_id) == ("active", None)
    assert ("schedule_confirmed", f"pair:{pair.id}", "pending") in rows(h)
    refused = "isn't open yet: Slack refused it (`missing_scope`: the app lacks the `mpim:write`"
    for member, partner in ((MENTOR, MENTEE), (MENTEE, MENTOR)):
        assert f"Your group DM {refused}" in all_text(h.slash(member, "status").json)
        # Told it was being opened, each is told once in their DM that it is not yet.
        told = [m["text"] for m in h.slack.messages_in(member) if refused in m["text"]]
        assert told == [told[0]] and f"with <@{partner}>" in told[0], told

    h.slack.add_token(BOT_TOKEN)  # the scope added to the install
    with h.db.session() as s:
        assert outbox.retry_rows(s, ids=[kickoff.id], now=h.clock.now) == 1
    h.app.drain()
    group = h.slack.mpim_for(MENTOR, MENTEE)
    texts = [m["text"] for m in h.slack.messages_in(group) if not m.get("files")]
    assert texts[0].startswith("Welcome") and texts[1:] == ["Your next meetings are set"]
    assert [len(m["files"]) for m in h.slack.messages_in(group) if m.get("files")] == [3]
    assert the_pair(h).channel_id == group
    assert "isn't open yet" not in all_text(h.slash(MENTOR, "status").json)


def test_a_group_dm_slack_no_longer_takes_is_opened_again_and_what_waited_follows(
    harness: Harness,
) -> None:
    """Slack refusing a message in the group DM because of the conversation (gone,
    archived) used to hold every later message to the pair for good, with nothing to
    release it. The group DM is opened again, once, and the message follows there."""
    h = harness
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    group = the_pair(h).channel_id
    assert group is not None
    h.slack.inject(
        "chat.postMessage", error="channel_not_found", when=lambda a: a.get("channel") == group
    )
    opened = len(h.slack.calls_to("conversations.open"))
    _schedule(h, h.clock.now + timedelta(days=2))
    assert len(h.slack.calls_to("conversations.open")) == opened + 1
    texts = [m["text"] for m in h.slack.messages_in(group) if not m.get("files")]
    assert "Slack refused a message of mine to our conversation" in texts[-2]
    assert texts[-1] == "Your next meetings are set"
    assert the_pair(h).channel_id == group
    assert not [r for r in rows(h) if r[2] in ("paused", "failed")]

    # Slack gave the same conversation back, and it is lost again later: it is opened
    # again (a reopening keyed by the lost channel was planned only once, and the
    # second loss dropped everything for the group DM, silently).
    h.slack.inject(
        "chat.postMessage", error="is_archived", when=lambda a: a.get("channel") == group
    )
    set_goals(h, group)
    texts = [m["text"] for m in h.slack.messages_in(group) if not m.get("files")]
    assert "Slack refused a message of mine" in texts[-2] and texts[-1].startswith(CARD)
    assert len(h.slack.calls_to("conversations.open")) == opened + 2
    assert not [r for r in rows(h) if r[2] in ("paused", "failed")]
    with h.db.session() as s:
        skipped = s.scalars(
            select(ScheduledMessage.kind).where(ScheduledMessage.status == "cancelled")
        ).all()
    assert skipped == []


def test_a_group_dm_that_cannot_be_opened_again_ends_the_pair_and_tells_both(
    harness: Harness,
) -> None:
    h = harness
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    group = the_pair(h).channel_id
    h.slack.inject(
        "chat.postMessage",
        error="is_archived",
        times=1_000,
        when=lambda a: a.get("channel") == group,
    )
    _schedule(h, h.clock.now + timedelta(days=2))
    h.tick(h.clock.now + timedelta(minutes=2))
    pair = the_pair(h)
    assert (pair.status, pair.ended_by, pair.channel_id) == ("ended", "slack", None)
    assert not [r for r in rows(h) if r[2] in ("paused", "pending", "sending")]
    for member, partner in ((MENTOR, MENTEE), (MENTEE, MENTOR)):
        told = h.last_dm(member)["text"]
        assert "couldn't set up the conversation" in told and f"<@{partner}>" in told


def test_a_workspace_restriction_on_the_group_dm_fails_the_message_where_operators_see_it(
    harness: Harness,
) -> None:
    """restricted_action (a workspace's posting restrictions) is about the workspace,
    not the conversation: opening the group DM again would end the pair when its note
    is refused too. The message fails instead (`mentor-bot outbox`), the pair goes on."""
    h = harness
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    group = the_pair(h).channel_id
    h.slack.inject(
        "chat.postMessage", error="restricted_action", when=lambda a: a.get("channel") == group
    )
    opened = len(h.slack.calls_to("conversations.open"))
    _schedule(h, h.clock.now + timedelta(days=2))
    assert len(h.slack.calls_to("conversations.open")) == opened
    assert ("schedule_confirmed", f"pair:{the_pair(h).id}", "failed") in rows(h)
    assert (the_pair(h).status, the_pair(h).channel_id) == ("active", group)
