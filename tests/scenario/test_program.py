"""Coordinators' tools through Slack: sign-up pool, matching, insights, nudges, privacy."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import func, select

from bot.domain.invitations import INVITATION_LASTS
from bot.ids import Action, Block
from bot.store.models import (
    Base,
    Feedback,
    MatchExclusion,
    MatchProposal,
    Pair,
    PoolMember,
    ScheduledMessage,
)
from slackemu import Input
from tests.conftest import (
    COORDINATOR,
    DEACTIVATED,
    MENTEE,
    MENTOR,
    OTHER_BOT,
    STRANGER,
    Harness,
    all_text,
)

EXTRA_MENTEE = "UERIN00007"


def join(
    h: Harness, user: str, role: str, topics: list[str], *, goals: str = "", capacity: str = "1"
) -> object:
    h.slash(user, "join")
    view = h.driver.last_view_opened(user)
    assert view["callback_id"] == "join_modal"
    values = {
        Block.JOIN_ROLE: {"value": Input.radio(role)},
        Block.JOIN_TOPICS: {"value": Input.multi_static_select(topics)},
        Block.JOIN_GOALS: {"value": Input.plain_text(goals or None)},
        Block.JOIN_CAPACITY: {"value": Input.static_select(capacity)},
        Block.JOIN_START: {"value": Input.time("09:00")},
        Block.JOIN_END: {"value": Input.time("17:00")},
    }
    return h.submit(user, view, values)


def test_join_leave_and_pause(harness: Harness) -> None:
    h = harness
    response = join(h, MENTEE, "mentee", ["leadership", "public-speaking"], goals="Lead a team")
    assert response.status == 200 and not response.body
    assert "mentoring pool as a mentee" in h.last_dm(MENTEE)["text"]
    with h.db.session() as s:
        member = s.scalars(select(PoolMember)).one()
        assert (member.roles, member.topics["ids"], member.goals) == (
            "mentee",
            ["leadership", "public-speaking"],
            "Lead a team",
        )
    # Before any tip was planned the bot has not asked Slack their zone: "your time",
    # not a zone it would only guess (it said "(UTC)" to everyone).
    fresh = all_text(h.driver.slash(STRANGER, "status").json)
    assert "your time." in fresh and "(UTC)" not in fresh, fresh
    moved = all_text(h.driver.slash(STRANGER, "tips at 07:30").json)  # a row, zone unknown
    assert "*07:30* your time." in moved and "(UTC)" not in moved, moved
    bad = h.driver.slash(MENTEE, "pause forever")
    assert "/mentor pause 2w" in bad.json["text"]
    paused = h.driver.slash(MENTEE, "pause 2w")
    assert "Paused" in paused.json["text"]
    # Status (and Home, which shows the same line) says so, with the day it ends.
    status = all_text(h.driver.slash(MENTEE, "status").json)
    # Two weeks on, from the start of that day in their own zone (Kolkata): that day's
    # tip comes as usual. Monday 2 March 22:30 there → Monday 16 March 00:00 there.
    until = int(datetime(2026, 3, 15, 18, 30, tzinfo=UTC).timestamp())
    assert h.clock.now == datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    assert "*paused* until <!date^" in status and f"<!date^{until}^" in status
    assert "arrive on working days" not in status
    # In the pool, and it says so (status and Home, whose button edits the sign-up).
    assert "You're in the mentoring pool as a mentee: no new match while you're paused" in status
    # No pair: tips are promised only with one, not "back on their own".
    assert "while you're in a mentoring pair, tips come" in status, status
    h.driver.app_home_opened(MENTEE)
    h.app.drain()
    home = all_text(h.slack.home_view(MENTEE))
    assert "You're in the mentoring pool" in home and "Edit my sign-up" in home
    # A new tip time during the pause is confirmed, for when tips come back.
    moved = all_text(h.driver.slash(MENTEE, "tips at 08:00").json)
    assert "*paused* until" in moved and "*08:00*" in moved, moved
    left = h.driver.slash(MENTEE, "leave")
    assert "left the mentoring pool" in left.json["text"]
    again = h.driver.slash(MENTEE, "leave")
    assert "not in the mentoring pool" in again.json["text"]
    assert "mentoring pool" not in all_text(h.driver.slash(MENTEE, "status").json)


def test_join_refuses_bad_hours(harness: Harness) -> None:
    h = harness
    h.slash(MENTOR, "join")
    view = h.driver.last_view_opened(MENTOR)
    response = h.submit(
        MENTOR,
        view,
        {
            Block.JOIN_ROLE: {"value": Input.radio("mentor")},
            Block.JOIN_TOPICS: {"value": Input.multi_static_select(["leadership"])},
            Block.JOIN_START: {"value": Input.time("09:00")},
            Block.JOIN_END: {"value": Input.time("09:00")},
        },
    )
    assert response.json["response_action"] == "errors"
    assert "different time than it starts" in response.json["errors"][Block.JOIN_END]
    with h.db.session() as s:
        assert s.scalar(select(func.count()).select_from(PoolMember)) == 0


def test_match_is_for_coordinators_and_invites_approved_pairs(harness: Harness) -> None:
    h = harness
    h.slack.add_user(EXTRA_MENTEE, name="erin", real_name="Erin Mentee", tz="Europe/Berlin")
    join(h, MENTOR, "mentor", ["leadership", "public-speaking"], capacity="1")
    join(h, MENTEE, "mentee", ["leadership"], goals="I want to grow in leadership")
    join(h, EXTRA_MENTEE, "mentee", ["writing"])

    # The modal opens at once (the trigger lasts 3 s); whether they coordinate this
    # workspace is asked by the request's delivery, whose refusal the modal then shows.
    response = h.slash(STRANGER, "match")
    opened = h.slack.wait_for("views.open", after=response.mark)
    refusal = h.slack.wait_for("views.update", after=response.mark)
    assert refusal.args["view_id"] == opened.response["view"]["id"]
    assert "Only program coordinators" in all_text(h.slack.view(refusal.args["view_id"]))
    with h.db.session() as s:
        assert s.scalar(select(func.count()).select_from(MatchProposal)) == 0

    h.slash(COORDINATOR, "match")
    review = h.driver.last_view_opened(COORDINATOR)
    assert review["callback_id"] == "match_review_modal"
    shown = all_text(review)
    assert "1 pair proposed" in shown and "Shared topics" in shown
    # A forged approval from someone else changes nothing.
    payload = {
        "type": "view_submission",
        "team": {"id": h.slack.team_id},
        "user": {"id": STRANGER, "team_id": h.slack.team_id},
        "api_app_id": h.slack.app_id,
        "view": {**review, "state": {"values": {}}},
    }
    forged = h.driver.post(urlencode({"payload": json.dumps(payload)}))
    h.app.drain()
    # Only Slack knows whether a stranger is a workspace admin: the modal says it is
    # checking (the ack), then shows the refusal (views.update after the ack).
    assert forged.json["response_action"] == "update"
    assert "Only program coordinators" in all_text(h.slack.view(review["id"]))
    with h.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Pair)) == 0

    h.submit(COORDINATOR, review, {})  # every proposed pair stays ticked
    assert "1 invitation is on its way" in h.last_dm(COORDINATOR)["text"]
    h.tick(h.clock.now + timedelta(minutes=1))
    invitation = h.last_dm(MENTEE)
    assert f"<@{MENTOR}>" in all_text(invitation)
    assert "The program coordinators matched you two" in all_text(invitation)
    assert "matched you with" in h.last_dm(MENTOR)["text"]
    assert "couldn't find a match" in h.last_dm(EXTRA_MENTEE)["text"]
    # The invitation works like /mentor start: accepting opens the pair's group DM.
    h.click(MENTEE, invitation, Action.ACCEPT_INVITE)
    assert h.slack.calls_to("conversations.open")
    assert "accepted" in all_text(h.slack.message(invitation["ts"]))


def _review(h: Harness, *, capacity: str, erins_topic: str) -> dict:
    """The coordinator's review modal for a mentor with room for ``capacity`` (in
    leadership), the mentee (leadership) and Erin (``erins_topic``) in the pool."""
    h.slack.add_user(EXTRA_MENTEE, name="erin", real_name="Erin Mentee", tz="Europe/Berlin")
    join(h, MENTOR, "mentor", ["leadership"], capacity=capacity)
    join(h, MENTEE, "mentee", ["leadership"])
    join(h, EXTRA_MENTEE, "mentee", [erins_topic])
    h.slash(COORDINATOR, "match")
    return h.driver.last_view_opened(COORDINATOR)


def test_approving_a_line_whose_mentee_left_since_invites_no_one(harness: Harness) -> None:
    """The review modal shows the pool as it was; between it and the approval the mentee
    leaves the pool (or pauses): they are neither invited nor told "you stay in the
    pool", and the coordinator hears which line was skipped and why."""
    h = harness
    review = _review(h, capacity="1", erins_topic="writing")
    assert "1 pair proposed" in all_text(review)
    assert "left the mentoring pool" in h.driver.slash(MENTEE, "leave").json["text"]
    assert "Paused" in h.driver.slash(EXTRA_MENTEE, "pause 2w").json["text"]
    dms_before = len(h.slack.calls_to("chat.postMessage"))

    h.submit(COORDINATOR, review, {})
    told = h.last_dm(COORDINATOR)["text"]
    # Which of the two changed, by name.
    assert f"<@{MENTEE}> is no longer free to match" in told and "0 invitations" in told.lower()
    h.tick(h.clock.now + timedelta(minutes=1))
    sent = h.slack.calls_to("chat.postMessage")[dms_before:]
    recipients = {call.args["channel"] for call in sent}
    assert MENTEE not in recipients  # no invitation, no "you stay in the pool"
    assert EXTRA_MENTEE in recipients  # paused, still in the pool: told kindly
    with h.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Pair)) == 0


def test_approval_keeps_to_a_mentors_room_as_it_is_now(harness: Harness) -> None:
    """A mentor with room for two, proposed with two mentees, invites a third person
    before the approval: one line is invited, the other skipped, and its mentee (still
    free, still in the pool) hears the kind "not this round"; their my-data says which
    of their lines became an invitation."""
    from bot.services.privacy import personal_data

    h = harness
    review = _review(h, capacity="2", erins_topic="leadership")
    assert "2 pairs proposed" in all_text(review)
    h.driver.slash(MENTOR, f"start <@{STRANGER}>")
    dms_before = len(h.slack.calls_to("chat.postMessage"))

    h.submit(COORDINATOR, review, {})
    told = h.last_dm(COORDINATOR)["text"]
    assert "1 invitation is on its way" in told and f"<@{MENTOR}> is no longer free" in told
    with h.db.session() as s:
        invited = s.scalars(select(Pair.mentee_id).where(Pair.mentor_id == MENTOR)).all()
        assert len(invited) == 2 and STRANGER in invited  # room for two, as joined
        records = {
            who: personal_data(s, team_id=h.slack.team_id, user_id=who)
            for who in (MENTEE, EXTRA_MENTEE)
        }
    h.tick(h.clock.now + timedelta(minutes=1))
    recipients = [c.args["channel"] for c in h.slack.calls_to("chat.postMessage")[dms_before:]]
    for who, record in records.items():
        [line] = [line for p in record["match_proposals"] for line in p["your_lines"]]
        if who in invited:
            assert line["approved"] and "couldn't find a match" not in all_text(h.last_dm(who))
        else:
            # Their match fell through; "no match fits you well, add topics" was untrue.
            assert not line["approved"] and who in recipients
            assert "match for you this round couldn't go ahead" in h.last_dm(who)["text"]


def test_match_whose_modal_does_not_open_is_answered_by_dm(harness: Harness) -> None:
    """/mentor match is written before its ack; when its modal then fails to open (the
    trigger expired), the request still runs, and answers by DM: nothing is matched."""
    h = harness
    join(h, MENTOR, "mentor", ["leadership"])
    join(h, MENTEE, "mentee", ["leadership"])
    h.slack.inject("views.open", error="expired_trigger_id")
    response = h.slash(COORDINATOR, "match")
    assert response.status == 200 and response.body == b""
    assert "Nothing was matched. Run `/mentor match` again." in h.last_dm(COORDINATOR)["text"]
    with h.db.session() as s:
        assert s.scalar(select(func.count()).select_from(MatchProposal)) == 0
    # The next try opens its modal and shows the proposal there.
    h.slash(COORDINATOR, "match")
    assert "1 pair proposed" in all_text(h.driver.last_view_opened(COORDINATOR))


def test_everyone_a_round_leaves_without_a_pair_hears_kindly(harness: Harness) -> None:
    """Mentors too: one with no mentee this round is listed as unmatched and told they
    stay in the pool; so are both people of a line the coordinator unticked."""
    h = harness
    join(h, MENTOR, "mentor", ["leadership"])
    join(h, STRANGER, "mentor", ["writing"])
    join(h, MENTEE, "mentee", ["leadership"])
    h.slash(COORDINATOR, "match")
    review = h.driver.last_view_opened(COORDINATOR)
    assert "1 pair proposed" in all_text(review)
    assert f"Unmatched this round: <@{STRANGER}>" in all_text(review)
    h.submit(COORDINATOR, review, {})
    assert "1 person stays in the pool and has been told kindly" in h.last_dm(COORDINATOR)["text"]
    h.tick(h.clock.now + timedelta(minutes=1))
    assert "couldn't find a match" in h.last_dm(STRANGER)["text"]
    assert "matched you with" in h.last_dm(MENTOR)["text"]


def test_an_unticked_line_tells_both_its_people(harness: Harness) -> None:
    h = harness
    join(h, MENTOR, "mentor", ["leadership"])
    join(h, MENTEE, "mentee", ["leadership"])
    h.slash(COORDINATOR, "match")
    review = h.driver.last_view_opened(COORDINATOR)
    group = next(b["block_id"] for b in review["blocks"] if b["type"] == "input")
    h.submit(COORDINATOR, review, {group: {"value": Input.checkboxes([])}})
    assert "2 people stay in the pool" in h.last_dm(COORDINATOR)["text"]
    h.tick(h.clock.now + timedelta(minutes=1))
    for person in (MENTOR, MENTEE):
        assert "couldn't find a match" in h.last_dm(person)["text"]
    with h.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Pair)) == 0


def test_lines_the_review_had_no_room_for_are_left_out_untold(harness: Harness) -> None:
    """A modal holds 100 blocks: in a large round, the lines after those shown were not
    seen, so approving neither invites nor tells their people "no match" (they stay in
    the pool for the next round), and the coordinator is told so."""
    h = harness
    mentees = [MENTEE, EXTRA_MENTEE, "UFAY000008"]
    mentors = [MENTOR, STRANGER, "UGUS000009"]
    for user in [EXTRA_MENTEE, *mentees[2:], *mentors[2:]]:
        h.slack.add_user(user, name=user.lower(), tz="UTC")
    for mentor, mentee in zip(mentors, mentees, strict=True):
        join(h, mentor, "mentor", ["leadership"])
        join(h, mentee, "mentee", ["leadership"])
    h.slash(COORDINATOR, "match")
    review = h.driver.last_view_opened(COORDINATOR)
    assert json.loads(review["private_metadata"])["shown"] == 3  # all fit here
    assert "3 pairs proposed" in all_text(review)
    # As if only the first group of one line had fitted in the modal.
    metadata = {**json.loads(review["private_metadata"]), "shown": 1}
    h.submit(COORDINATOR, {**review, "private_metadata": json.dumps(metadata)}, {})
    summary = h.last_dm(COORDINATOR)["text"]
    assert "1 invitation is on its way" in summary
    assert "2 proposed pairs did not fit in the review and were left out, untold" in summary
    h.tick(h.clock.now + timedelta(minutes=1))
    with h.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Pair)) == 1
    told = [
        u for u in mentees + mentors if "couldn't find a match" in all_text(h.slack.messages_in(u))
    ]
    assert told == []
    # The next round proposes the two lines left out.
    h.slash(COORDINATOR, "match")
    assert "2 pairs proposed" in all_text(h.driver.last_view_opened(COORDINATOR))


def _match_request_before_its_ack(h: Harness) -> str:
    """What the ``/mentor match`` listener commits before its ack, with nothing after
    it: the request's key."""
    from bot.services import coordinators

    return h.app.run(
        h.app.deps.db.run(
            coordinators.ask_for_matches,
            team_id=h.slack.team_id,
            by=COORDINATOR,
            admins={COORDINATOR},
            now=h.clock.now,
            topic_labels={},
        )
    )


def test_match_request_waits_for_its_modal_then_goes_without(harness: Harness) -> None:
    """Written before the ack, the request is not due until the listener names its
    modal; if that never happens (the process died between), it goes after MODAL_WAIT
    and answers by DM. A modal that opens after that is told where the answer went."""
    from bot.services import coordinators

    h = harness
    key = _match_request_before_its_ack(h)
    h.app.deliver_due_now()
    assert not h.slack.calls_to("users.info", user=COORDINATOR)
    h.tick(h.clock.now + coordinators.MODAL_WAIT)
    assert "the window didn't open in Slack" in h.last_dm(COORDINATOR)["text"]
    # Too late now: the request already went.
    assert not h.app.run(
        h.app.deps.db.run(coordinators.modal_opened, key=key, view_id="V0LATE", now=h.clock.now)
    )


def test_a_match_modal_closed_before_its_late_notice_is_left_alone(harness: Harness) -> None:
    """The request went by DM before its modal opened; the coordinator closed the modal
    before it could say so. Slack answers views.update of a closed modal not_found:
    the DM stands, and nothing more is said (no "something went wrong")."""
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.listeners.program import _open_match_modal
    from bot.services import coordinators
    from tests.conftest import BOT_TOKEN

    h = harness
    key = _match_request_before_its_ack(h)
    h.tick(h.clock.now + coordinators.MODAL_WAIT)
    assert "the window didn't open in Slack" in h.last_dm(COORDINATOR)["text"]

    def closed_meanwhile(args: dict) -> bool:
        h.slack.close_view(COORDINATOR, args.get("view_id"))
        return False  # no fault: Slack's own rule answers

    h.slack.inject("views.update", error="not_found", when=closed_meanwhile)
    client = AsyncWebClient(token=BOT_TOKEN, base_url=h.slack.base_url)
    trigger = h.slack.issue_trigger(COORDINATOR)
    mark = h.slack.mark()
    h.app.run(_open_match_modal(h.app.deps, client, key, trigger))  # raises nothing
    h.slack.clear_faults()
    (update,) = h.slack.calls_to("views.update")
    assert update.response["error"] == "not_found"
    assert not h.ephemeral_texts(mark) and not h.slack.open_views(COORDINATOR)


def test_a_match_request_held_before_its_modal_opened_still_waits_for_it(
    harness: Harness,
) -> None:
    """Held in between (its workspace paused): the request did not go without its modal,
    so the modal is not told "I've sent you a DM"; it answers there once released."""
    from bot.services import coordinators
    from bot.store import workspaces

    h = harness
    key = _match_request_before_its_ack(h)
    with h.db.session() as s:
        workspaces.pause(
            s, team_id=h.slack.team_id, reason="token_revoked", now=h.clock.now, token=None
        )
    assert h.app.run(
        h.app.deps.db.run(coordinators.modal_opened, key=key, view_id="V0HELD", now=h.clock.now)
    )
    with h.db.session() as s:
        held = s.scalars(select(ScheduledMessage).where(ScheduledMessage.key == key)).one()
        assert (held.status, held.payload["view_id"]) == ("held", "V0HELD")


def test_coordinator_home_shows_insights_and_nudges(harness: Harness) -> None:
    h = harness
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    group = h.slack.wait_for("conversations.open").response["channel"]["id"]
    # No first meeting: the pair is nudged at 21 days, and shows at risk to coordinators
    # once a week has passed with nothing changed.
    h.tick(h.clock.now + timedelta(days=21, hours=1))
    h.clock.advance(days=8)
    h.driver.app_home_opened(COORDINATOR)
    h.app.drain()
    home = h.slack.home_view(COORDINATOR)
    shown = all_text(home)
    assert "Program insights" in shown and "Pairs at risk" in shown
    # One pair: every figure from answers rests on fewer than K people, so it is
    # hidden, and the coordinator is told the rule.
    assert "hidden (fewer than 3 people)" in shown
    assert "at least 3 people, and a split" in shown
    assert "Your own answers are in none of them" in shown
    h.driver.click_in_view(COORDINATOR, home, Action.SEND_CHART)
    h.app.drain()
    chart = h.last_dm(COORDINATOR)
    assert chart["files"][0]["mimetype"] == "image/png"
    assert h.slack.file_content(chart["files"][0]["id"]).startswith(b"\x89PNG")
    # The coordinator's Nudge sends the care nudge for the pair's reason again, and
    # says so; a second press before it went (a double click, another coordinator), or
    # after, sends nothing more.
    for _ in range(2):
        h.driver.click_in_view(COORDINATOR, home, Action.NUDGE_PAIR)
    h.app.drain()
    h.driver.click_in_view(COORDINATOR, home, Action.NUDGE_PAIR)
    h.app.drain()
    # Their Home is published again at once: the pair has left the list.
    assert "Pairs at risk" not in all_text(h.slack.home_view(COORDINATOR))
    nudges = [m for m in h.slack.messages_in(group) if "first meeting is what gets" in m["text"]]
    assert len(nudges) == 2  # the care pass's at 21 days, and the coordinator's
    told = [m["text"] for m in h.slack.messages_in(COORDINATOR)[-3:]]
    assert "I've nudged" in told[0] and "leave the at-risk list for a week" in told[0]
    assert all("nudged in the last week" in t or "already nudged today" in t for t in told[1:])
    # Two presses planned before the first nudge went: one row, by its key.
    from bot.services import care

    week_later = h.clock.now + timedelta(days=8)
    with h.db.session() as s:
        pair_id = s.scalars(select(Pair.id)).one()
        first = care.nudge_at_risk(s, team_id=h.slack.team_id, pair_id=pair_id, now=week_later)
        second = care.nudge_at_risk(s, team_id=h.slack.team_id, pair_id=pair_id, now=week_later)
        s.rollback()
    assert "I've nudged" in first and second == "That pair was already nudged today."
    # It starts the pair's week anew: they leave the list, and come back after it.
    h.driver.app_home_opened(COORDINATOR)
    h.app.drain()
    assert "Pairs at risk" not in all_text(h.slack.home_view(COORDINATOR))
    h.clock.advance(days=8)
    h.driver.app_home_opened(COORDINATOR)
    h.app.drain()
    assert "Pairs at risk" in all_text(h.slack.home_view(COORDINATOR))
    # Someone who is not a coordinator cannot nudge.
    before = len(h.slack.messages_in(group))
    h.driver.click_in_view(STRANGER, home, Action.NUDGE_PAIR)
    h.app.drain()
    assert len(h.slack.messages_in(group)) == before


def test_my_data_and_forget_me(harness: Harness) -> None:
    h = harness
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    join(h, MENTEE, "mentee", ["leadership"], goals="private goal text")
    response = h.driver.slash(MENTEE, "my-data")
    assert "copy of your data" in response.json["text"]
    h.app.drain()
    copy = h.last_dm(MENTEE)
    assert "private goal text" in all_text(copy)

    confirm = h.driver.slash(MENTEE, "forget-me")
    assert "Delete my data" in all_text(confirm.json)
    h.click(
        MENTEE,
        {"ts": "0", "blocks": confirm.json["blocks"]},
        Action.FORGET_CONFIRM,
        channel=h.slack.dm_channel(MENTEE),
    )
    with h.db.session() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)):
                assert MENTEE not in repr(tuple(row)), table.name
        assert s.scalars(select(Pair.status)).one() == "ended"
        assert s.scalar(select(func.count()).select_from(Feedback)) == 0


def test_exclusions_keep_two_people_apart(harness: Harness) -> None:
    h = harness
    # Whether a stranger is a Slack admin only Slack can tell: asked after the ack,
    # answered on the response_url.
    refused = h.slash(STRANGER, f"exclude <@{MENTOR}> <@{MENTEE}>")
    answer = h.slack.wait_for("response_url", after=refused.mark)
    assert "Only program coordinators" in answer.args["text"]
    assert (
        "two different people"
        in h.driver.slash(COORDINATOR, f"exclude <@{MENTOR}> <@{MENTOR}>").json["text"]
    )
    # Only people of this workspace who can be matched: a bot, a deactivated account or
    # a mistyped ID is said to be one, and nothing is noted.
    for who, said in (
        (OTHER_BOT, "is a bot"),
        (DEACTIVATED, "account is deactivated"),
        ("UNOBODY0042", "can't find"),
    ):
        refused = h.slash(COORDINATOR, f"exclude <@{MENTOR}> <@{who}>")
        answer = h.slack.wait_for("response_url", after=refused.mark)
        assert said in answer.args["text"] and "nothing was noted" in answer.args["text"]
    with h.db.session() as s:
        assert s.scalar(select(func.count()).select_from(MatchExclusion)) == 0
    # A coordinator too is confirmed as one of this workspace by Slack, after the ack.
    noted = h.slash(COORDINATOR, f"exclude <@{MENTOR}|alice> <@{MENTEE}|bob>")
    answer = h.slack.wait_for("response_url", after=noted.mark)
    assert "will not be matched" in answer.args["text"]
    join(h, MENTOR, "mentor", ["leadership"])
    join(h, MENTEE, "mentee", ["leadership"])
    h.slash(COORDINATOR, "match")
    review = all_text(h.driver.last_view_opened(COORDINATOR))
    assert "0 pairs proposed" in review and "Nobody is told anything" in review
    # The pool has both a mentor and a mentee: the reason is not "needs mentors".
    assert "each mentor here is ruled out for each mentee, by an exclusion" in review
    assert "the pool needs mentors and mentees" not in review
    assert "everyone unmatched hears kindly" not in review


def _says_no_to_a_match(h: Harness, no: Callable[[], object]) -> None:
    """A coordinators' match of MENTOR and MENTEE that one side turns down (``no``):
    the next round does not propose it again, until the 30 days of a decline pass."""
    join(h, MENTOR, "mentor", ["leadership"], capacity="2")
    join(h, MENTEE, "mentee", ["leadership"])
    h.slash(COORDINATOR, "match")
    h.submit(COORDINATOR, h.driver.last_view_opened(COORDINATOR), {})
    h.tick(h.clock.now + timedelta(minutes=1))
    no()
    h.clock.advance(minutes=2)
    h.slash(COORDINATOR, "match")
    assert "0 pairs proposed" in all_text(h.driver.last_view_opened(COORDINATOR))
    h.clock.advance(days=31)
    h.slash(COORDINATOR, "match")
    assert "1 pair proposed" in all_text(h.driver.last_view_opened(COORDINATOR))


def test_a_declined_match_is_not_proposed_again_for_the_cooldown(harness: Harness) -> None:
    """The mentee declines a matched invitation: the next match does not ask them again
    about the same mentor (as `/mentor start` would not), until 30 days have passed."""
    h = harness

    def decline() -> None:
        h.click(MENTEE, h.last_dm(MENTEE), Action.DECLINE_INVITE)
        join(h, MENTEE, "mentee", ["leadership"])  # back in the pool, say

    _says_no_to_a_match(h, decline)


def test_a_match_its_mentor_withdrew_is_not_proposed_again_for_the_cooldown(
    harness: Harness,
) -> None:
    """The mentor takes back the coordinators' match (`/mentor end` before the mentee
    answers): a "no" like a decline, so the next round does not propose it again."""
    h = harness

    def withdraw() -> None:
        assert "withdrawn your invitation" in h.slash(MENTOR, f"end <@{MENTEE}>").json["text"]

    _says_no_to_a_match(h, withdraw)


def test_a_match_left_to_expire_is_not_proposed_again_for_the_cooldown(
    harness: Harness,
) -> None:
    """The mentee never answers the coordinators' match, and it expires: a "no" like a
    decline, so the next round does not propose it again straight away."""
    h = harness

    def lapse() -> None:
        h.tick(h.clock.now + INVITATION_LASTS + timedelta(minutes=1))  # moves the clock
        assert "expired unanswered" in all_text(h.slack.messages_in(MENTEE)[-1])
        join(h, MENTEE, "mentee", ["leadership"])  # back in the pool, say

    _says_no_to_a_match(h, lapse)


def test_someone_signed_up_as_both_is_matched_once_and_not_told_otherwise(
    harness: Harness,
) -> None:
    """A mentor who also signed up to be mentored, matched as a mentor: told they have a
    mentee, never "no match this round" beside it. While their room is full they still
    wait for a mentor, as their pool line says, and a round that finds none says so."""
    h = harness
    join(h, MENTOR, "both", ["leadership"], capacity="1")
    join(h, MENTEE, "mentee", ["leadership"])

    def match_round() -> list[str]:
        mark = len(h.slack.messages_in(MENTOR))
        h.slash(COORDINATOR, "match")
        h.submit(COORDINATOR, h.driver.last_view_opened(COORDINATOR), {})
        h.tick(h.clock.now + timedelta(minutes=1))
        h.clock.advance(minutes=2)
        return [m.get("text", "") for m in h.slack.messages_in(MENTOR)[mark:]]

    first = match_round()
    assert any("matched you with" in text for text in first), first
    assert not any("couldn't find a match" in text for text in first), first
    status = all_text(h.driver.slash(MENTOR, "status").json)
    assert "a coordinator's next match may pair you as a mentee" in status, status
    second = match_round()  # no mentor in the pool for them: told kindly, once
    assert [text for text in second if "couldn't find a match" in text] != [], second
    assert not any("matched you with" in text for text in second), second


def test_the_pool_line_promises_a_match_only_to_those_a_match_can_pair(
    harness: Harness,
) -> None:
    """Matched and accepted, a mentee (and a mentor whose room is full) stay in the pool,
    but no match will pair them while that lasts: their status says so, not "a
    coordinator's next match may pair you"."""
    h = harness
    join(h, MENTOR, "mentor", ["leadership"], capacity="1")
    join(h, MENTEE, "mentee", ["leadership"])
    before = all_text(h.driver.slash(MENTEE, "status").json)
    assert "a coordinator's next match may pair you" in before
    h.slash(COORDINATOR, "match")
    h.submit(COORDINATOR, h.driver.last_view_opened(COORDINATOR), {})
    h.tick(h.clock.now + timedelta(minutes=1))
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    h.app.drain()
    for person in (MENTEE, MENTOR):
        status = all_text(h.driver.slash(person, "status").json)
        assert "no new match while your pairings fill what you signed up for" in status, status


def test_a_listed_coordinator_coordinates_only_where_they_are_a_member(harness: Harness) -> None:
    from dataclasses import replace

    h = harness
    visitor = "UVISIT0007"  # in MENTOR_ADMINS, but a member of another workspace
    h.slack.add_user(visitor, name="vic", home_team="T0OTHER", tz="UTC")
    h.app.deps.settings = replace(
        h.app.deps.settings, admins=h.app.deps.settings.admins | {visitor}
    )
    refused = h.slash(visitor, f"exclude <@{MENTOR}> <@{MENTEE}>")
    answer = h.slack.wait_for("response_url", after=refused.mark)
    assert "Only program coordinators" in answer.args["text"]
    with h.db.session() as s:
        assert s.scalars(select(MatchExclusion)).all() == []
    h.driver.app_home_opened(visitor)
    h.app.drain()
    assert "Program" not in all_text(h.slack.home_view(visitor) or {})
    # The same listing in their own workspace's member is honoured.
    h.driver.app_home_opened(COORDINATOR)
    h.app.drain()
    assert "Program" in all_text(h.slack.home_view(COORDINATOR))


def _pairs(h: Harness) -> list[tuple[str, str, str]]:
    with h.db.session() as s:
        rows = s.execute(select(Pair.mentor_id, Pair.mentee_id, Pair.status))
        return [tuple(row) for row in rows]


def test_a_review_approved_after_an_exclusion_or_a_decline_leaves_that_line_out(
    harness: Harness,
) -> None:
    """The review was open while a coordinator excluded the two, or the mentee declined
    the mentor's own invitation: approving it invited them all the same (and the
    decline's cooldown, which `/mentor start` keeps, was skipped). Now the line is left
    out, and the summary says why."""
    h = harness
    h.slack.add_user(EXTRA_MENTEE, name="erin", real_name="Erin Mentee", tz="Europe/Berlin")
    join(h, MENTOR, "mentor", ["leadership"], capacity="2")
    join(h, MENTEE, "mentee", ["leadership"])
    join(h, EXTRA_MENTEE, "mentee", ["leadership"])
    h.slash(COORDINATOR, "match")
    review = h.driver.last_view_opened(COORDINATOR)
    assert "2 pairs proposed" in all_text(review)
    noted = h.slash(COORDINATOR, f"exclude <@{MENTOR}> <@{MENTEE}>")
    assert "will not be matched" in h.slack.wait_for("response_url", after=noted.mark).args["text"]
    h.slash(MENTOR, f"start <@{EXTRA_MENTEE}>")
    h.click(EXTRA_MENTEE, h.last_dm(EXTRA_MENTEE), Action.DECLINE_INVITE)
    h.submit(COORDINATOR, review, {})
    summary = h.last_dm(COORDINATOR)["text"]
    assert "Approved: 0 invitations" in summary, summary
    assert summary.count("ruled out since the proposal") == 2, summary
    assert "invited" not in {status for _m, _e, status in _pairs(h)}, _pairs(h)
    # The mentor, left with room, hears their match fell through, and not why.
    h.tick(h.clock.now + timedelta(minutes=1))
    told = [m["text"] for m in h.slack.messages_in(MENTOR) if "couldn't go ahead" in m["text"]]
    assert len(told) == 1 and MENTEE not in told[0] and "excluded" not in told[0]


def test_only_the_newest_match_round_can_be_approved(harness: Harness) -> None:
    """Two reviews open (two coordinators, or one who ran `match` twice): approving both
    told the unmatched twice. A newer round replaces the older, whose approval says so."""
    h = harness
    h.slack.add_user(EXTRA_MENTEE, name="erin", real_name="Erin Mentee", tz="Europe/Berlin")
    join(h, MENTOR, "mentor", ["leadership"])
    join(h, MENTEE, "mentee", ["leadership"])
    join(h, EXTRA_MENTEE, "mentee", ["writing"])
    owner = "UOWNER0009"  # a workspace owner coordinates too
    h.slack.add_user(owner, name="olive", real_name="Olive Owner", is_owner=True)
    h.slash(COORDINATOR, "match")
    older = h.driver.last_view_opened(COORDINATOR)
    h.slash(STRANGER, "match")  # not a coordinator: replaces nothing
    h.slash(owner, "match")
    newer = h.driver.last_view_opened(owner)
    h.submit(owner, newer, {})
    h.submit(COORDINATOR, older, {})
    refused = all_text(h.slack.view(older["id"]))
    assert "A newer round replaced this proposal" in refused, refused
    h.tick(h.clock.now + timedelta(minutes=1))
    erin = [m["text"] for m in h.slack.messages_in(EXTRA_MENTEE)]
    assert len([text for text in erin if "couldn't find a match" in text]) == 1
    assert [status for _m, _e, status in _pairs(h)] == ["invited"]


def _match_someone_who_is_gone(h: Harness) -> None:
    join(h, MENTOR, "mentor", ["leadership"])
    join(h, MENTEE, "mentee", ["leadership"])
    h.tick(h.clock.now + timedelta(minutes=1))
    # Deactivated after signing up: only the invitation's delivery can find out.
    h.slack.add_user(MENTEE, name="bob", real_name="Bob Mentee", deleted=True)


def test_a_match_whose_mentee_cannot_be_invited_tells_mentor_and_coordinator(
    harness: Harness,
) -> None:
    """The mentor had been told an answer would follow, and never heard again; the
    coordinator got `/mentor start`'s advice; the mentee stayed in the pool, proposed
    again every round."""
    h = harness
    _match_someone_who_is_gone(h)
    h.slash(COORDINATOR, "match")
    h.submit(COORDINATOR, h.driver.last_view_opened(COORDINATOR), {})
    h.tick(h.clock.now + timedelta(minutes=1))
    assert _pairs(h) == []
    mentor_heard = h.last_dm(MENTOR)["text"]
    assert f"The coordinators' match with <@{MENTEE}> can't go ahead" in mentor_heard
    told = h.last_dm(COORDINATOR)["text"]
    assert f"A match you approved, <@{MENTOR}> with <@{MENTEE}>, can't go ahead" in told
    assert "account is deactivated" in told and "Mention someone" not in told
    h.clock.advance(minutes=5)
    h.slash(COORDINATOR, "match")  # out of the pool: not proposed again
    assert "0 pairs proposed" in all_text(h.driver.last_view_opened(COORDINATOR))


def test_a_match_approved_from_the_command_line_that_cannot_be_invited_is_withdrawn(
    harness: Harness,
) -> None:
    """`mentor-bot match` approves as "cli": the refusal was sent to a channel named
    "cli", Slack refused that, and the pair stayed invited for good."""
    from bot.services import matching

    h = harness
    _match_someone_who_is_gone(h)
    with h.db.session() as s:
        proposal = matching.compute_proposal(
            s, team_id=h.slack.team_id, by=matching.CLI, now=h.clock.now, topic_labels={}
        )
        matching.approve(
            s,
            team_id=h.slack.team_id,
            proposal_id=proposal.id,
            by=matching.CLI,
            selected=None,
            now=h.clock.now,
        )
        s.commit()
    h.tick(h.clock.now + timedelta(minutes=1))
    assert _pairs(h) == []
    assert "can't go ahead" in h.last_dm(MENTOR)["text"]
    assert not [c for c in h.slack.calls if c.args.get("channel") == matching.CLI]
    with h.db.session() as s:
        assert s.scalars(select(ScheduledMessage.status)).all().count("failed") == 0


def test_mentor_bot_match_counts_in_words(harness: Harness, monkeypatch, capsys) -> None:
    """`mentor-bot match` said "1 pairs from 2 people" and "1 invitations"."""
    from bot.__main__ import main

    h = harness
    join(h, MENTOR, "mentor", ["leadership"])
    join(h, MENTEE, "mentee", ["leadership"])
    monkeypatch.setenv("DATABASE_URL", h.db.engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("MENTOR_CONTENT_DIR", raising=False)
    assert main(["match", "--team", h.slack.team_id]) == 0
    out = capsys.readouterr().out
    assert "1 pair from 2 people" in out
    assert "approved: 1 invitation and 0 notes of 'not this round' queued" in out


def test_pause_off_ends_a_pause_sooner(harness: Harness) -> None:
    """A pause could only be waited out (or shortened to a day with `pause 1d`), and
    `tips on` during one changed nothing."""
    from tests.scenario.test_adaptive_tips import day, pair_up, tick, tip_messages

    h = harness
    assert "You're not paused" in h.driver.slash(MENTEE, "pause off").json["text"]
    pair_up(h)
    assert "`/mentor pause off` ends it sooner" in h.driver.slash(MENTEE, "pause 2w").json["text"]
    tick(h, day(1, 4))  # Tuesday's tip time in Kolkata: paused, none
    assert tip_messages(h, MENTEE) == []
    assert "pause off" in all_text(h.driver.slash(MENTEE, "status").json)
    over = h.driver.slash(MENTEE, "PAUSE OFF").json["text"]
    assert "Your pause is over" in over
    assert "*paused*" not in all_text(h.driver.slash(MENTEE, "status").json)
    tick(h, day(2, 3))  # passes run every minute: one before Wednesday's tip time
    tick(h, day(2, 4))  # and after it: tips again
    assert len(tip_messages(h, MENTEE)) == 1


def test_an_exclusion_can_be_lifted(harness: Harness) -> None:
    """A coordinator's mistaken exclusion could only be undone in the database."""
    h = harness
    join(h, MENTOR, "mentor", ["leadership"])
    join(h, MENTEE, "mentee", ["leadership"])

    def say(text: str, user: str = COORDINATOR) -> str:
        response = h.slash(user, text)
        return h.slack.wait_for("response_url", after=response.mark).args["text"]

    assert "will not be matched" in say(f"exclude <@{MENTOR}> <@{MENTEE}>")
    h.slash(COORDINATOR, "match")
    assert "0 pairs proposed" in all_text(h.driver.last_view_opened(COORDINATOR))
    assert "Only program coordinators" in say(f"exclude <@{MENTOR}> <@{MENTEE}> off", STRANGER)
    # Either way round, and `OFF` as typed.
    lifted = say(f"exclude <@{MENTEE}|bob> <@{MENTOR}|alice> OFF")
    assert lifted == f"Lifted: <@{MENTEE}> and <@{MENTOR}> may be matched again."
    with h.db.session() as s:
        assert s.scalar(select(func.count()).select_from(MatchExclusion)) == 0
    h.slash(COORDINATOR, "match")
    assert "1 pair proposed" in all_text(h.driver.last_view_opened(COORDINATOR))
    again = say(f"exclude <@{MENTOR}> <@{MENTEE}> off")
    assert again.endswith("were not excluded: nothing changed.")
    # Without the two, the usage says how.
    assert "off` to lift it" in h.driver.slash(COORDINATOR, "exclude off").json["text"]
