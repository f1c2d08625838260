"""Invitations in a burst beyond users.info's rate limit go at once.

An invitation normally asks Slack about the invitee first (users.info: a bot? a
deactivated account? their time zone). users.info allows 100 calls a minute (Tier 4),
so a burst of invitations used to queue behind it, a minute per hundred people. When
its next slot is not free at once (within 50 ms), the invitation goes without the
check: Slack refuses a DM to a bot or a deactivated account itself (the inviter is told
in the same words the check would use), and the check follows as an outbox row,
spaced at users.info's pace: it withdraws an invitation whose invitee cannot be
invited after all (deactivated meanwhile, say) and records everyone else's time zone.
A pass also reads the zone of anyone accepted before their check came, before it
plans their first tip.

Here users.info is paced at 4 a minute (a burst of 3) on a clock the test moves.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.scheduling.engine import Engine
from bot.scheduling.pacing import Pacer
from bot.scheduling.sender import SlackSender
from bot.services import pairing
from bot.store import repo
from bot.store.db import Database
from bot.store.models import Pair, ScheduledMessage
from slackemu import TEAM_ID, SlackEmulator

NOW = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)  # a Tuesday
MAYA = "UMAYA00001"
ANNA, BEN, DEV, ERIN = "UANNA00001", "UBENN00001", "UDEVV00001", "UERIN00001"
HELPER_BOT = "UBOTT00001"


class Clock:
    def __init__(self) -> None:
        self.at = 0.0

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    # Slack's own limits off: the app's pacer is the subject, on a clock the test moves.
    with SlackEmulator(rate_limits=None) as emulator:
        emulator.add_user(MAYA, name="maya", tz="America/Los_Angeles")
        emulator.add_user(ANNA, name="anna", tz="Europe/Berlin")
        emulator.add_user(BEN, name="ben", tz="Europe/London")
        emulator.add_user(DEV, name="dev", tz="Asia/Kolkata")
        emulator.add_user(ERIN, name="erin", tz="America/Chicago")
        emulator.add_user(HELPER_BOT, name="helper", is_bot=True)
        yield emulator


def _engine(db: Database, slack: SlackEmulator, content: Any, clock: Clock) -> Engine:
    pacer = Pacer(
        posts_per_minute=0,
        per_channel_per_second=0,
        method_per_minute={"users.info": 4},
        clock=clock,
    )
    sender = SlackSender(api_url=slack.base_url, token_for_team=lambda _team: "xoxb-test")
    # One thread: the invitations go in the order they were asked for.
    return Engine(db, sender, content, worker="w1", concurrency=1, pacer=pacer)


def _invite(db: Database, slack: SlackEmulator, invitee: str) -> int:
    url = slack.new_response_url(channel=slack.dm_channel(MAYA), user=MAYA)
    return db.call(
        pairing.invite,
        team_id=TEAM_ID,
        inviter_id=MAYA,
        invitee_id=invitee,
        inviter_role="mentor",
        now=NOW,
        response_url=url,
    )


def test_a_burst_past_users_info_goes_at_once_and_slack_still_refuses_a_bot(
    db: Database, slack: SlackEmulator, content: Any
) -> None:
    clock = Clock()
    engine = _engine(db, slack, content, clock)
    pairs = {who: _invite(db, slack, who) for who in (ANNA, BEN, HELPER_BOT, DEV, ERIN)}

    report = engine.deliver_due(NOW)

    # users.info had three slots: Anna, Maya (the inviter), Ben. The next slot was 15 s
    # away, so the bot's, Dev's and Erin's invitations went without asking.
    asked = [c.args.get("user") for c in slack.calls_to("users.info")]
    assert asked == [ANNA, MAYA, BEN]
    invited = [
        c.args.get("channel")
        for c in slack.calls_to("chat.postMessage")
        if c.response.get("ok") and str(c.args.get("channel", "")).startswith("U")
    ]
    assert invited == [ANNA, BEN, DEV, ERIN]
    assert report.outcomes["refused"] == 1
    # Slack refused the DM to the bot; Maya hears why in the check's own words.
    answers = [str(c.args.get("text", "")) for c in slack.calls_to("response_url")]
    assert any(f"<@{HELPER_BOT}> is a bot" in text for text in answers), answers
    with db.session() as session:
        assert session.get(Pair, pairs[HELPER_BOT]) is None  # withdrawn, as if never asked
        checks = session.scalars(
            select(ScheduledMessage)
            .where(ScheduledMessage.kind == "invitee_check")
            .order_by(ScheduledMessage.due_at)
        ).all()
    # Dev's and Erin's checks follow, one users.info slot (15 s here) apart.
    assert [row.recipient for row in checks] == [DEV, ERIN]
    assert checks[1].due_at - checks[0].due_at == timedelta(seconds=15)
    assert checks[0].due_at > NOW
    assert db.call(repo.recent_tz, team_id=TEAM_ID, user_id=DEV, now=NOW) is None

    # Before the checks come: Erin's account is deactivated, and Dev accepts.
    slack.add_user(ERIN, name="erin", tz="America/Chicago", deleted=True)
    later = NOW + timedelta(minutes=1)
    db.call(
        pairing.answer_invitation,
        team_id=TEAM_ID,
        pair_id=pairs[DEV],
        user_id=DEV,
        accept=True,
        now=later,
    )
    clock.at += 60.0
    engine.run_pass(later)

    # The pass read Dev's time zone before it planned the first tip, so the tip comes
    # at Dev's own morning in Kolkata.
    assert db.call(repo.recent_tz, team_id=TEAM_ID, user_id=DEV, now=later) == "Asia/Kolkata"
    with db.session() as session:
        tips = session.scalars(
            select(ScheduledMessage).where(
                ScheduledMessage.kind == "tip", ScheduledMessage.recipient == DEV
            )
        ).all()
        left = session.scalars(
            select(ScheduledMessage.kind).where(ScheduledMessage.kind == "invitee_check")
        ).all()
        erin = session.get(Pair, pairs[ERIN])
    assert tips, "Dev's first tip is planned"
    local = tips[0].due_at.astimezone(ZoneInfo("Asia/Kolkata"))
    tip_time = content.settings.tip_time
    assert (local.hour, local.minute) == (tip_time.hour, tip_time.minute)
    # Erin's check withdrew her invitation, and Maya heard why by DM.
    assert left == []
    assert erin is None
    told = [
        str(c.args.get("text", ""))
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") == MAYA and c.response.get("ok")
    ]
    assert any(f"<@{ERIN}>'s account is deactivated" in text for text in told), told


def test_a_match_in_a_burst_whose_check_finds_the_mentee_gone_is_withdrawn(
    db: Database, slack: SlackEmulator, content: Any
) -> None:
    """The check that follows a matched invitation sent without it (users.info at its
    limit) withdraws the match as the invitation itself would: mentee out of the pool,
    mentor and approving coordinator told (``pairing.withdraw_match``)."""
    from bot.services import pool
    from bot.store.models import PoolMember

    coordinator = "UCOOR00001"
    slack.add_user(coordinator, name="carol")
    clock = Clock()
    engine = _engine(db, slack, content, clock)
    with db.session() as session:
        pool.join(
            session,
            team_id=TEAM_ID,
            user_id=ERIN,
            signup=pool.Signup("mentee", (), "", 1, 540, 1020),
            now=NOW,
            confirm=False,
        )
        pairs = {
            who: pairing.create_pair(
                session,
                team_id=TEAM_ID,
                inviter_id=MAYA,
                invitee_id=who,
                inviter_role="mentor",
                now=NOW,
                tell=coordinator,
                matched=True,
            )
            for who in (ANNA, BEN, DEV, ERIN)
        }
        session.commit()
    engine.deliver_due(NOW)
    with db.session() as session:  # Erin's went without asking: her check follows
        assert session.scalars(
            select(ScheduledMessage.recipient).where(ScheduledMessage.kind == "invitee_check")
        ).all()[-1] == ERIN
    slack.add_user(ERIN, name="erin", tz="America/Chicago", deleted=True)
    clock.at += 60.0
    engine.run_pass(NOW + timedelta(minutes=1))

    def told(user: str) -> list[str]:
        return [
            str(c.args.get("text", ""))
            for c in slack.calls_to("chat.postMessage")
            if c.args.get("channel") == user and c.response.get("ok")
        ]

    with db.session() as session:
        assert session.get(Pair, pairs[ERIN]) is None
        assert session.scalars(select(PoolMember).where(PoolMember.user_id == ERIN)).all() == []
    assert any(f"The coordinators' match with <@{ERIN}> can't go ahead" in t for t in told(MAYA))
    assert any(
        "their account is deactivated" in t and "has left the pool" in t
        for t in told(coordinator)
    ), told(coordinator)
