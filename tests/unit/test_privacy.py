"""Forgetting a person leaves no trace of them and keeps everyone else's history."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.services.privacy import forget_person, people_named, personal_data
from bot.store.db import Database
from bot.store.models import (
    Base,
    Feedback,
    GoalProgress,
    MatchCheckin,
    MatchExclusion,
    MatchProposal,
    Meeting,
    Pair,
    PairAgreement,
    PairGoal,
    ParkedQuestion,
    Person,
    PoolMember,
    PostedMessage,
    PrepAnswer,
    ProcessedEvent,
    ScheduledMessage,
    TipVote,
)
from bot.views.common import as_dicts
from bot.views.privacy import (
    forget_confirmation_blocks,
    forgotten_message,
    my_data_file,
    my_data_fits,
    my_data_message,
)
from slackemu.limits import (
    MAX_BLOCKS_TEXT,
    blocks_text_length,
    validate_message_blocks,
    validate_message_text,
)

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
TEAM, OTHER_TEAM = "T0PRIVACY1", "T0PRIVACY2"
GONE = "UFORGET001"  # the person who asks to be forgotten (the mentee)
PARTNER = "UPARTNER02"  # their mentor
THIRD, FOURTH = "UTHIRD0003", "UFOURTH004"  # another pair, unrelated
ERIN = "UERIN00005"  # in the pool, invited by GONE
COORD = "UCOORD0006"

GONE_DM, PARTNER_DM = "DFORGET001", "DPARTNER02"  # their DMs with the bot
COACHING_TEXTS = (
    "gone-parked-words",
    "gone-goal-what",
    "gone-goal-why",
    "gone-contact-words",
    "gone-confidential-words",
)
GONE_TEXTS = ("gone-helped-words", "gone-change-words", "gone-focus-words", "gone-question-words")
PARTNER_TEXTS = ("partner-helped-words", "partner-change-words", "partner-focus-words")


def _add(session: Any, *rows: Any) -> None:
    session.add_all(rows)
    session.flush()


def _person(team: str, user: str, **kw: Any) -> Person:
    defaults = {"display_name": user.lower(), "tz": "Europe/Berlin", "tip_minute": 540}
    return Person(team_id=team, user_id=user, **{**defaults, **kw})


def _pool(team: str, user: str, roles: str, goals: str = "grow") -> PoolMember:
    return PoolMember(
        team_id=team,
        user_id=user,
        roles=roles,
        topics={"ids": ["career", "public_speaking"]},
        goals=goals,
        joined_at=NOW - timedelta(days=30),
        updated_at=NOW - timedelta(days=30),
    )


def _pair(team: str, mentor: str, mentee: str, status: str = "active", **kw: Any) -> Pair:
    return Pair(
        team_id=team,
        mentor_id=mentor,
        mentee_id=mentee,
        inviter_id=kw.pop("inviter_id", mentor),
        status=status,
        channel_id=kw.pop("channel_id", None),
        created_at=NOW - timedelta(days=20),
        accepted_at=NOW - timedelta(days=19) if status != "invited" else None,
        **kw,
    )


def _meeting(pair: Pair, number: int, starts_at: datetime) -> Meeting:
    return Meeting(
        team_id=pair.team_id,
        pair_id=pair.id,
        starts_at=starts_at,
        minutes=45,
        status="scheduled",
        number=number,
        created_at=NOW - timedelta(days=10),
    )


def _message(
    pair: Pair | None,
    kind: str,
    recipient: str,
    key: str,
    payload: dict[str, Any],
    *,
    status: str = "pending",
    meeting: Meeting | None = None,
    due_at: datetime = NOW + timedelta(days=1),
    sent_to: tuple[str, str] | None = None,
) -> ScheduledMessage:
    team = pair.team_id if pair is not None else payload.pop("team")
    channel_id, message_ts = sent_to or (None, None)
    return ScheduledMessage(
        channel_id=channel_id,
        message_ts=message_ts,
        team_id=team,
        key=key,
        kind=kind,
        recipient=recipient,
        due_at=due_at,
        status=status,
        pair_id=pair.id if pair else None,
        meeting_id=meeting.id if meeting else None,
        payload=payload,
        created_at=NOW - timedelta(days=5),
    )


def _build_team(session: Any, team: str, *, prefix: str = "") -> dict[str, Any]:
    """Two people in a pair (GONE the mentee), a third pair, and everything around them."""
    _add(
        session,
        _person(team, GONE, tips_planned_until=NOW + timedelta(hours=3)),
        _person(team, PARTNER, tips_planned_until=NOW + timedelta(hours=5)),
        _person(team, THIRD, tips_planned_until=NOW + timedelta(hours=7)),
        _person(team, FOURTH),
        _person(team, ERIN),
        _pool(team, GONE, "mentee", goals=f"{prefix}gone-goal-words"),
        _pool(team, PARTNER, "mentor", goals=f"keep <@{GONE}> growing"),
        _pool(team, THIRD, "mentor"),
        _pool(team, ERIN, "both"),
    )
    pair = _pair(
        team,
        PARTNER,
        GONE,
        channel_id=f"G{prefix}PAIR1",
        invite_channel_id=f"{prefix}{GONE_DM}",
        invite_ts="100.5",
    )
    third = _pair(team, THIRD, FOURTH, channel_id=f"G{prefix}PAIR2")
    invited = _pair(
        team,
        ERIN,
        GONE,
        status="invited",
        inviter_id=GONE,
        invite_channel_id=f"{prefix}DERIN00005",
        invite_ts="100.4",
    )
    old = _pair(
        team,
        GONE,
        ERIN,
        status="ended",
        inviter_id=ERIN,
        ended_at=NOW - timedelta(days=25),
        ended_by=GONE,
    )
    _add(session, pair, third, invited, old)
    past = _meeting(pair, 1, NOW - timedelta(days=2))
    future = _meeting(pair, 2, NOW + timedelta(days=2))
    third_past = _meeting(third, 1, NOW - timedelta(days=3))
    third_future = _meeting(third, 2, NOW + timedelta(days=3))
    _add(session, past, future, third_past, third_future)
    _add(
        session,
        PrepAnswer(
            team_id=team,
            meeting_id=past.id,
            user_id=GONE,
            focus=f"{prefix}gone-focus-words",
            questions=f"{prefix}gone-question-words",
            answered_at=NOW - timedelta(days=3),
        ),
        PrepAnswer(
            team_id=team,
            meeting_id=future.id,
            user_id=GONE,
            focus="gone-focus-2",
            questions="",
            answered_at=NOW - timedelta(hours=2),
        ),
        PrepAnswer(
            team_id=team,
            meeting_id=past.id,
            user_id=PARTNER,
            focus=f"{prefix}partner-focus-words",
            questions="partner-questions",
            answered_at=NOW - timedelta(days=3),
        ),
        PrepAnswer(
            team_id=team,
            meeting_id=third_past.id,
            user_id=FOURTH,
            focus="fourth-focus",
            questions="",
            answered_at=NOW - timedelta(days=4),
        ),
        Feedback(
            team_id=team,
            pair_id=pair.id,
            meeting_id=past.id,
            user_id=GONE,
            happened="yes",
            usefulness=4,
            helped=f"{prefix}gone-helped-words",
            change=f"{prefix}gone-change-words",
            updated_at=NOW - timedelta(days=1),
        ),
        Feedback(
            team_id=team,
            pair_id=pair.id,
            meeting_id=past.id,
            user_id=PARTNER,
            happened="yes",
            usefulness=5,
            helped=f"{prefix}partner-helped-words",
            change=f"{prefix}partner-change-words",
            updated_at=NOW - timedelta(days=1),
        ),
        Feedback(
            team_id=team,
            pair_id=pair.id,
            meeting_id=None,
            user_id=PARTNER,
            happened=None,
            usefulness=3,
            helped=f"talking with <@{GONE}> about goals",
            change=None,
            updated_at=NOW - timedelta(hours=1),
        ),
        Feedback(
            team_id=team,
            pair_id=old.id,
            meeting_id=None,
            user_id=GONE,
            happened=None,
            usefulness=2,
            helped=None,
            change="gone-old-change",
            updated_at=NOW - timedelta(days=24),
        ),
        Feedback(
            team_id=team,
            pair_id=third.id,
            meeting_id=third_past.id,
            user_id=THIRD,
            happened="no",
            usefulness=1,
            helped="third-helped",
            change="third-change",
            updated_at=NOW - timedelta(days=2),
        ),
    )
    stamp = int(future.starts_at.timestamp())
    base = {
        "pair_id": pair.id,
        "meeting_id": future.id,
        "mentor_id": PARTNER,
        "mentee_id": GONE,
        "starts_at": future.starts_at.isoformat(),
    }
    tip_gone = _message(
        None,
        "tip",
        GONE,
        f"tip:{team}:{GONE}:1",
        {"team": team, "tip_id": "listen"},
        status="sent",
        due_at=NOW - timedelta(days=1),
        sent_to=(f"{prefix}{GONE_DM}", "100.1"),
    )
    tip_partner = _message(
        None,
        "tip",
        PARTNER,
        f"tip:{team}:{PARTNER}:1",
        {"team": team, "tip_id": "ask"},
        status="sent",
        due_at=NOW - timedelta(days=1),
        sent_to=(f"{prefix}{PARTNER_DM}", "100.3"),
    )
    tip_third = _message(
        None,
        "tip",
        THIRD,
        f"tip:{team}:{THIRD}:1",
        {"team": team, "tip_id": "ask"},
        status="sent",
        due_at=NOW - timedelta(days=1),
    )
    _add(
        session,
        tip_gone,
        tip_partner,
        tip_third,
        _message(None, "tip", PARTNER, f"tip:{team}:{PARTNER}:2", {"team": team, "tip_id": "x"}),
        _message(pair, "prep_mentee", GONE, f"{prefix}prep_mentee:{future.id}:{stamp}", base),
        _message(pair, "prep_mentor", PARTNER, f"{prefix}prep_mentor:{future.id}:{stamp}", base),
        _message(
            pair,
            "feedback",
            GONE,
            f"{prefix}feedback:{future.id}:{stamp}:{GONE}",
            {**base, "partner_id": PARTNER},
            meeting=future,
        ),
        _message(
            pair,
            "feedback",
            PARTNER,
            f"{prefix}feedback:{future.id}:{stamp}:{PARTNER}",
            {**base, "partner_id": GONE},
            meeting=future,
        ),
        _message(
            pair,
            "feedback",
            PARTNER,
            f"{prefix}feedback:{past.id}:1:{PARTNER}",
            {**base, "partner_id": GONE, "answered": True},
            status="sent",
            meeting=past,
            due_at=NOW - timedelta(days=2),
            sent_to=(f"{prefix}{PARTNER_DM}", "100.2"),
        ),
        _message(pair, "schedule_ask", f"G{prefix}PAIR1", f"{prefix}ask:{pair.id}", {"p": 1}),
        _message(
            third,
            "feedback",
            THIRD,
            f"{prefix}feedback:{third_future.id}:1:{THIRD}",
            {"mentor_id": THIRD, "mentee_id": FOURTH, "partner_id": FOURTH},
            meeting=third_future,
        ),
    )
    _add(
        session,
        TipVote(
            team_id=team,
            user_id=GONE,
            tip_id="listen",
            outbox_id=tip_gone.id,
            vote=1,
            voted_at=NOW - timedelta(hours=20),
        ),
        TipVote(
            team_id=team,
            user_id=PARTNER,
            tip_id="ask",
            outbox_id=tip_partner.id,
            vote=-1,
            voted_at=NOW - timedelta(hours=20),
        ),
        TipVote(
            team_id=team,
            user_id=THIRD,
            tip_id="ask",
            outbox_id=tip_third.id,
            vote=1,
            voted_at=NOW - timedelta(hours=20),
        ),
        MatchExclusion(team_id=team, user_a=ERIN, user_b=GONE, created_by=COORD, created_at=NOW),
        MatchExclusion(team_id=team, user_a=PARTNER, user_b=ERIN, created_by=GONE, created_at=NOW),
        MatchExclusion(team_id=team, user_a=THIRD, user_b=ERIN, created_by=COORD, created_at=NOW),
        MatchProposal(
            team_id=team,
            created_by=COORD,
            created_at=NOW,
            status="open",
            data={
                "pairs": [{"mentor_id": ERIN, "mentee_id": GONE, "score": 0.8}],
                "unmatched": [FOURTH],
            },
        ),
        MatchProposal(
            team_id=team,
            created_by=COORD,
            created_at=NOW - timedelta(days=21),
            status="approved",
            data={
                "pairs": [
                    {
                        "mentor": PARTNER,
                        "mentee": GONE,
                        "score": 0.7,
                        "reasons": ["Goals mention: gone-goal-words"],
                    }
                ],
                "approved": [0],
            },
        ),
        MatchProposal(
            team_id=team,
            created_by=COORD,
            created_at=NOW,
            status="open",
            data={"pairs": [{"mentor_id": THIRD, "mentee_id": ERIN, "score": 0.5}]},
        ),
        ProcessedEvent(team_id=team, event_id=f"Ev{prefix}0001", received_at=NOW),
        # The ledger: their words shared with the partner, their export (message and
        # file), the pair's kickoff; and entries about others, which stay.
        _posted(team, GONE, "prep_shared", f"{prefix}{PARTNER_DM}", "100.6"),
        _posted(team, GONE, "my_data", f"{prefix}{GONE_DM}", "100.7"),
        _posted(team, GONE, "my_data_file", f"{prefix}{GONE_DM}", None, file_id=f"F{prefix}1"),
        _posted(team, None, "group_dm", f"G{prefix}PAIR1", "100.8"),
        _posted(team, None, "group_dm", f"G{prefix}PAIR2", "100.9"),
        _posted(team, PARTNER, "my_data", f"{prefix}{PARTNER_DM}", "101.0"),
    )
    # Coaching (migration 0007): the pair's goals and agreement (the pair's own words),
    # a tap on a goal, questions parked by each member, and each member's check-in; the
    # third pair's goal, question and check-in, which stay.
    goal = PairGoal(
        team_id=team,
        pair_id=pair.id,
        position=1,
        what=f"{prefix}gone-goal-what",
        why=f"{prefix}gone-goal-why",
        by_when=(NOW + timedelta(days=60)).date(),
        status="open",
        created_at=NOW - timedelta(days=5),
        updated_at=NOW - timedelta(days=5),
    )
    third_goal = PairGoal(
        team_id=team,
        pair_id=third.id,
        position=1,
        what="third-goal-what",
        why="third-goal-why",
        by_when=(NOW + timedelta(days=60)).date(),
        status="done",
        done_at=NOW - timedelta(days=1),
        created_at=NOW - timedelta(days=5),
        updated_at=NOW - timedelta(days=1),
    )
    _add(session, goal, third_goal)
    _add(
        session,
        GoalProgress(
            team_id=team, goal_id=goal.id, meeting_id=past.id, progress="some", noted_at=NOW
        ),
        PairAgreement(
            team_id=team,
            pair_id=pair.id,
            cadence="weekly",
            contact=f"{prefix}gone-contact-words",
            confidential=f"{prefix}gone-confidential-words",
            card_channel=f"G{prefix}PAIR1",
            card_ts="101.5",
            created_at=NOW - timedelta(days=5),
            updated_at=NOW - timedelta(days=5),
        ),
        ParkedQuestion(
            team_id=team,
            pair_id=pair.id,
            asked_by=GONE,
            text=f"{prefix}gone-parked-words",
            asked_at=NOW - timedelta(hours=5),
        ),
        ParkedQuestion(
            team_id=team,
            pair_id=pair.id,
            asked_by=PARTNER,
            text=f"{prefix}partner-parked-words for <@{GONE}>",
            asked_at=NOW - timedelta(hours=4),
        ),
        ParkedQuestion(
            team_id=team,
            pair_id=third.id,
            asked_by=FOURTH,
            text="fourth-parked-words",
            asked_at=NOW - timedelta(hours=4),
        ),
        MatchCheckin(
            team_id=team,
            pair_id=pair.id,
            user_id=GONE,
            score=2,
            not_working=True,
            exit_choice="rematch",
            answered_at=NOW - timedelta(days=1),
        ),
        MatchCheckin(
            team_id=team,
            pair_id=pair.id,
            user_id=PARTNER,
            score=4,
            not_working=False,
            answered_at=NOW - timedelta(days=1),
        ),
        MatchCheckin(
            team_id=team,
            pair_id=third.id,
            user_id=FOURTH,
            score=5,
            not_working=False,
            answered_at=NOW - timedelta(days=1),
        ),
    )
    return {"pair": pair.id, "third": third.id, "invited": invited.id, "old": old.id}


def _posted(
    team: str, user: str | None, kind: str, channel: str, ts: str | None, **kw: Any
) -> PostedMessage:
    return PostedMessage(
        team_id=team, user_id=user, kind=kind, channel_id=channel, ts=ts, posted_at=NOW, **kw
    )


def _value(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def _dump(session: Any) -> dict[str, list[dict[str, str]]]:
    """Every row of every table, each value as a string; ordered by primary key."""
    tables = {}
    for table in Base.metadata.sorted_tables:
        rows = session.execute(select(table).order_by(*table.primary_key.columns)).mappings()
        tables[table.name] = [{k: _value(v) for k, v in row.items()} for row in rows]
    return tables


def _rows(dump: dict[str, list[dict[str, str]]], team: str) -> list[tuple[str, dict[str, str]]]:
    return [(name, row) for name, rows in dump.items() for row in rows if row["team_id"] == team]


def _build(db: Database) -> dict[str, Any]:
    with db.session() as session:
        ids = _build_team(session, TEAM)
        _build_team(session, OTHER_TEAM, prefix="o-")
    return ids


def test_every_table_carries_team_id() -> None:
    # The scan below relies on it; a new table without team_id needs thought here.
    for table in Base.metadata.sorted_tables:
        assert "team_id" in table.columns, table.name


def test_forget_leaves_no_trace_and_keeps_the_rest(db: Database) -> None:
    ids = _build(db)
    with db.session() as session:
        before = _dump(session)
        assert any(GONE in v for _, row in _rows(before, TEAM) for v in row.values())
        report = forget_person(session, team_id=TEAM, user_id=GONE, now=NOW)
    with db.session() as session:
        after = _dump(session)

    # No trace: the forgotten ID is nowhere in this workspace, in any column.
    leaks = [
        (name, column, value)
        for name, row in _rows(after, TEAM)
        for column, value in row.items()
        if GONE in value
    ]
    assert leaks == []
    for text in GONE_TEXTS + ("gone-focus-2", "gone-old-change", "gone-goal-words", "ufor"):
        assert not any(text in v.lower() for _, row in _rows(after, TEAM) for v in row.values())
    # Coaching: their parked question and check-in go; the pair's goal and agreement
    # words go too (the pair's own, either member may have typed them).
    for text in COACHING_TEXTS:
        assert not any(text in v.lower() for _, row in _rows(after, TEAM) for v in row.values())
    # Their DM and their pair's group DM are named only by the pending Slack deletions
    # (which the next pass sends, then deletes); no timestamp of a message about them stays.
    deletions = [row for row in after["scheduled_messages"] if row["kind"] == "slack_delete"]
    for channel in (GONE_DM, "GPAIR1", "DERIN00005"):
        holders = [
            (name, row["id"])
            for name, row in _rows(after, TEAM)
            if any(channel in v for v in row.values()) and row not in deletions
        ]
        assert holders == [], channel
    for ts in ("100.1", "100.2", "100.4", "100.5", "100.6", "100.7", "100.8"):
        assert not any(
            ts in v
            for name, row in _rows(after, TEAM)
            if row not in deletions
            for v in row.values()
        ), ts
    targets = sorted(
        (
            json.loads(row["payload"]).get("channel"),
            json.loads(row["payload"]).get("ts", ""),
            json.loads(row["payload"]).get("file", ""),
        )
        for row in deletions
        if row["team_id"] == TEAM
    )
    assert targets == [
        ("DERIN00005", "100.4", ""),
        (GONE_DM, "", "F1"),
        (GONE_DM, "100.1", ""),
        (GONE_DM, "100.5", ""),
        (GONE_DM, "100.7", ""),
        ("DPARTNER02", "100.2", ""),
        ("DPARTNER02", "100.6", ""),
        ("GPAIR1", "100.8", ""),
        ("GPAIR1", "101.5", ""),  # the goal card
    ]
    assert all(
        row["status"] == "pending" and row["due_at"] == NOW.isoformat() and GONE not in row["key"]
        for row in deletions
    )

    # The other workspace is exactly as it was, the same user ID included.
    assert _rows(after, OTHER_TEAM) == _rows(before, OTHER_TEAM)

    with db.session() as session:
        pair = session.get(Pair, ids["pair"])
        tombstone = pair.mentee_id
        assert re.fullmatch(r"ANON-[0-9a-f]{10}", tombstone)
        assert pair.mentor_id == PARTNER
        assert (pair.status, pair.ended_at, pair.ended_by) == ("ended", NOW, tombstone)
        invited = session.get(Pair, ids["invited"])
        assert (invited.status, invited.mentee_id, invited.inviter_id) == (
            "ended",
            tombstone,
            tombstone,
        )
        old = session.get(Pair, ids["old"])
        assert (old.mentor_id, old.mentee_id, old.ended_by, old.status) == (
            tombstone,
            ERIN,
            tombstone,
            "ended",
        )
        # One tombstone per forget call, for every row it rewrote.
        assert {tombstone} == set(
            session.scalars(select(TipVote.user_id).where(TipVote.user_id.like("ANON-%")))
        )
        # No pair keeps a channel or message of theirs.
        for row in (pair, invited, old):
            assert (row.channel_id, row.invite_channel_id, row.invite_ts) == (None, None, None)
        # Future meetings of the ended pair are cancelled, past ones kept.
        statuses = {m.number: m.status for m in pair.meetings}
        assert statuses == {1: "scheduled", 2: "cancelled"}

        # The partner's own rows survive intact.
        partner_feedback = session.scalars(
            select(Feedback).where(Feedback.team_id == TEAM, Feedback.user_id == PARTNER)
        ).all()
        texts = {(f.helped, f.change) for f in partner_feedback}
        assert ("partner-helped-words", "partner-change-words") in texts
        # Their ID quoted in the partner's words is replaced, the words kept.
        assert (f"talking with <@{tombstone}> about goals", None) in texts
        partner_prep = session.scalars(
            select(PrepAnswer).where(PrepAnswer.team_id == TEAM, PrepAnswer.user_id == PARTNER)
        ).one()
        assert partner_prep.focus == "partner-focus-words"
        assert session.scalars(
            select(Person).where(Person.team_id == TEAM, Person.user_id == PARTNER)
        ).one()
        partner_pool = session.scalars(
            select(PoolMember).where(PoolMember.team_id == TEAM, PoolMember.user_id == PARTNER)
        ).one()
        assert partner_pool.goals == f"keep <@{tombstone}> growing"

        # Coaching: the partner's parked question and check-in stay (their ID quoted in
        # it replaced); the pair's goal keeps its date, status and tap, not its words;
        # the third pair's goal, question and check-in are untouched.
        parked = {
            (q.asked_by, q.text)
            for q in session.scalars(select(ParkedQuestion).where(ParkedQuestion.team_id == TEAM))
        }
        assert parked == {
            (PARTNER, f"partner-parked-words for <@{tombstone}>"),
            (FOURTH, "fourth-parked-words"),
        }
        checked_in = session.scalars(
            select(MatchCheckin.user_id).where(MatchCheckin.team_id == TEAM)
        ).all()
        assert sorted(checked_in) == sorted([PARTNER, FOURTH])
        goals = {
            g.pair_id: (g.what, g.why, g.status)
            for g in session.scalars(select(PairGoal).where(PairGoal.team_id == TEAM))
        }
        assert goals == {
            ids["pair"]: ("", "", "open"),
            ids["third"]: ("third-goal-what", "third-goal-why", "done"),
        }
        assert session.scalars(select(GoalProgress).where(GoalProgress.team_id == TEAM)).one()
        agreement = session.scalars(
            select(PairAgreement).where(PairAgreement.team_id == TEAM)
        ).one()
        assert (agreement.cadence, agreement.contact, agreement.card_ts) == ("weekly", "", None)

        # The partner's prompts of the ended pair are cancelled and no longer name them.
        partner_messages = session.scalars(
            select(ScheduledMessage).where(
                ScheduledMessage.team_id == TEAM, ScheduledMessage.recipient == PARTNER
            )
        ).all()
        by_kind = {(m.kind, m.status) for m in partner_messages}
        assert ("prep_mentor", "cancelled") in by_kind
        assert ("feedback", "cancelled") in by_kind
        assert ("feedback", "sent") in by_kind
        # With no active pair left, the partner's tips stop too.
        # (planned tips are dropped: cancelled or deleted, never left pending)
        assert ("tip", "pending") not in by_kind and ("tip", "sent") in by_kind
        partner = session.scalars(
            select(Person).where(Person.team_id == TEAM, Person.user_id == PARTNER)
        ).one()
        assert partner.tips_planned_until is None
        sent = next(m for m in partner_messages if m.status == "sent" and m.kind == "feedback")
        assert sent.payload["partner_id"] == tombstone
        assert sent.payload["mentee_id"] == tombstone
        assert sent.payload["answered"] is True

        # Exclusions: about them deleted; one they set keeps its rule, anonymously.
        exclusions = session.scalars(
            select(MatchExclusion).where(MatchExclusion.team_id == TEAM)
        ).all()
        assert {(e.user_a, e.user_b, e.created_by) for e in exclusions} == {
            (PARTNER, ERIN, tombstone),
            (THIRD, ERIN, COORD),
        }
        # Proposals: the open one naming them is gone, the approved one anonymised.
        proposals = session.scalars(
            select(MatchProposal).where(MatchProposal.team_id == TEAM).order_by(MatchProposal.id)
        ).all()
        assert [p.status for p in proposals] == ["approved", "open"]
        # ...without its reasons, which quoted their sign-up.
        assert proposals[0].data == {
            "pairs": [{"mentor": PARTNER, "mentee": tombstone, "score": 0.7, "reasons": []}],
            "approved": [0],
        }

    # Their poll answers are gone, ratings included (kept, they would still be tied to a
    # named partner and a meeting); everyone else's stay. Tip votes stay, anonymous.
    def feedback_numbers(dump: dict[str, list[dict[str, str]]]) -> list[tuple[str, str]]:
        return sorted(
            (row["happened"], row["usefulness"])
            for row in dump["feedback"]
            if row["team_id"] == TEAM
        )

    assert feedback_numbers(after) == [("None", "3"), ("no", "1"), ("yes", "5")]
    assert len(feedback_numbers(before)) == 5
    votes = sorted((r["tip_id"], r["vote"]) for r in after["tip_votes"] if r["team_id"] == TEAM)
    assert votes == [("ask", "-1"), ("ask", "1"), ("listen", "1")]
    assert len([r for r in after["pairs"] if r["team_id"] == TEAM]) == 4
    assert len([r for r in after["meetings"] if r["team_id"] == TEAM]) == 4

    # The third pair, and everything that names neither of the two, is untouched.
    def about_others(dump: dict[str, list[dict[str, str]]]) -> list[tuple[str, dict]]:
        return [
            (name, row)
            for name, row in _rows(dump, TEAM)
            if any(THIRD in v or FOURTH in v for v in row.values())
            and not any(GONE in v or PARTNER in v or "ANON-" in v for v in row.values())
            and name != "match_proposals"
        ]

    untouched = about_others(before)
    assert len(untouched) >= 8
    assert about_others(after) == untouched
    third_rows = [r for r in after["pairs"] if r["id"] == str(ids["third"])]
    assert third_rows[0]["status"] == "active"
    third_meetings = [r for r in after["meetings"] if r["pair_id"] == str(ids["third"])]
    assert {r["status"] for r in third_meetings} == {"scheduled"}
    assert [r for r in after["processed_events"]] == [r for r in before["processed_events"]]
    open_third = [
        r
        for r in after["match_proposals"]
        if r["team_id"] == TEAM and r["status"] == "open" and THIRD in r["data"]
    ]
    assert len(open_third) == 1

    counts = report.as_dict()
    assert counts["pairs_ended"] == 2
    assert counts["pairs_anonymised"] == 3
    assert counts["feedback_deleted"] == 2
    assert counts["prep_answers_deleted"] == 2
    assert counts["tip_votes_anonymised"] == 1
    assert counts["people_deleted"] == 1
    assert counts["pool_members_deleted"] == 1
    assert counts["match_exclusions_deleted"] == 1
    assert counts["match_exclusions_anonymised"] == 1
    assert counts["match_proposals_deleted"] == 1
    assert counts["match_proposals_anonymised"] == 1
    # Three to them, one to the group DM, and the calendar cancellation that ending
    # their pair planned (its rows go with the rest of the pair's).
    assert counts["scheduled_messages_deleted"] == 5
    assert counts["posted_messages_deleted"] == 4
    assert counts["slack_deletions_planned"] == 9  # the goal card too
    assert counts["meetings_cancelled"] == 1
    assert counts["mentions_scrubbed"] == 2
    assert counts["parked_questions_deleted"] == 1
    assert counts["match_checkins_deleted"] == 1
    assert counts["goal_words_forgotten"] == 2  # the pair's goal and its agreement
    assert report.total == sum(counts.values())


def test_each_forget_draws_a_new_tombstone(db: Database) -> None:
    ids = _build(db)
    with db.session() as session:
        forget_person(session, team_id=TEAM, user_id=GONE, now=NOW)
        forget_person(session, team_id=OTHER_TEAM, user_id=GONE, now=NOW)
    with db.session() as session:
        mentees = session.scalars(
            select(Pair.mentee_id).where(Pair.mentor_id == PARTNER).order_by(Pair.id)
        ).all()
        assert len(set(mentees)) == 2
        assert all(m.startswith("ANON-") and GONE not in m for m in mentees)
        assert session.get(Pair, ids["pair"]).mentee_id in mentees
        # Forgetting again finds nothing more to do.
        again = forget_person(session, team_id=TEAM, user_id=GONE, now=NOW)
        assert again.total == 0


def test_personal_data_has_their_words_not_the_partners(db: Database) -> None:
    ids = _build(db)
    with db.session() as session:
        data = personal_data(session, team_id=TEAM, user_id=GONE)
    dumped = json.dumps(data)  # plain JSON-able
    for text in GONE_TEXTS:
        assert text in dumped
    for text in PARTNER_TEXTS + ("partner-questions", "talking with", "fourth-focus", "o-"):
        assert text not in dumped
    assert data["person"]["tz"] == "Europe/Berlin"
    assert data["person"]["tip_minute"] == 540
    assert data["pool"]["roles"] == "mentee"
    by_id = {p["id"]: p for p in data["pairs"]}
    assert set(by_id) == {ids["pair"], ids["invited"], ids["old"]}
    assert by_id[ids["pair"]]["role"] == "mentee"
    assert by_id[ids["pair"]]["partner_id"] == PARTNER
    assert by_id[ids["old"]]["role"] == "mentor"
    assert [m["number"] for m in by_id[ids["pair"]]["meetings"]] == [1, 2]
    assert len(data["prep_answers"]) == 2
    assert {f["usefulness"] for f in data["feedback"]} == {4, 2}
    assert data["tip_votes"] == [
        {"tip_id": "listen", "vote": 1, "voted_at": (NOW - timedelta(hours=20)).isoformat()}
    ]
    assert data["scheduled_messages"] == {"pending": 2, "sent": 1}
    # Coaching: the pair's goals and agreement, their own parked question and check-in;
    # never the partner's question or check-in.
    assert [g["what"] for p in data["goals"] for g in p["goals"]] == ["gone-goal-what"]
    assert data["goals"][0]["agreement"]["contact"] == "gone-contact-words"
    assert [q["question"] for q in data["parked_questions"]] == ["gone-parked-words"]
    assert [(c["score"], c["exit_choice"]) for c in data["match_checkins"]] == [(2, "rematch")]
    assert "partner-parked-words" not in dumped and "third-goal" not in dumped
    assert data["match_exclusions"] == [
        {
            "never_matched_with": ERIN,
            "set_by": "a coordinator",
            "created_at": NOW.isoformat(),
        }
    ]

    with db.session() as session:
        forget_person(session, team_id=TEAM, user_id=GONE, now=NOW)
        empty = personal_data(session, team_id=TEAM, user_id=GONE)
        other = personal_data(session, team_id=OTHER_TEAM, user_id=GONE)
    assert empty["person"] is None and empty["pool"] is None
    assert empty["pairs"] == empty["feedback"] == empty["prep_answers"] == []
    assert empty["scheduled_messages"] == {}
    assert empty["match_proposals"] == empty["messages_kept_for_deletion"] == []
    assert empty["tips_received"] == empty["match_exclusions"] == []
    assert empty["goals"] == empty["parked_questions"] == empty["match_checkins"] == []
    assert "o-gone-helped-words" in json.dumps(other)


# Where each table's rows about a person appear in their export. A new table that can
# name a person fails the completeness test below until it is added here (and exported).
EXPORT_SECTIONS = {
    "people": ("person",),
    "pool_members": ("pool",),
    "pairs": ("pairs",),
    "prep_answers": ("prep_answers",),
    "feedback": ("feedback",),
    "tip_votes": ("tip_votes",),
    "insight_people": ("weekly_figures",),
    "tips_received": ("tip_rotation",),
    "scheduled_messages": ("scheduled_messages", "tips_received"),
    "match_exclusions": ("match_exclusions", "match_exclusions_you_set"),
    "match_proposals": ("match_proposals",),
    "posted_messages": ("messages_kept_for_deletion",),
    "parked_questions": ("parked_questions",),
    "match_checkins": ("match_checkins",),
}


def test_personal_data_is_complete(db: Database) -> None:
    """One of everything is seeded about GONE; each table naming them shows in the export."""
    _build(db)
    with db.session() as session:
        person = session.scalars(
            select(Person).where(Person.team_id == TEAM, Person.user_id == GONE)
        ).one()
        person.paused_until = NOW + timedelta(days=14)
        session.add(
            PoolMember(
                team_id=TEAM,
                user_id=COORD,
                roles="mentor",
                topics={},
                goals="",
                paused_until=NOW + timedelta(days=3),
                joined_at=NOW,
                updated_at=NOW,
            )
        )
        dump = _dump(session)
        data = personal_data(session, team_id=TEAM, user_id=GONE)

    naming = {name for name, row in _rows(dump, TEAM) if any(GONE in v for v in row.values())}
    assert naming <= set(EXPORT_SECTIONS), naming - set(EXPORT_SECTIONS)
    for table in naming:
        assert any(data[key] for key in EXPORT_SECTIONS[table]), table

    assert data["person"]["paused_until"] == (NOW + timedelta(days=14)).isoformat()
    assert data["person"]["display_name"] == GONE.lower()
    assert data["pool"]["goals"] == "gone-goal-words"
    assert data["tips_received"] == [
        {"tip_id": "listen", "sent_at": None},
    ]
    assert data["match_exclusions_you_set"] == [
        {"between": [PARTNER, ERIN], "created_at": NOW.isoformat()}
    ]
    proposals = {p["status"]: p for p in data["match_proposals"]}
    assert set(proposals) == {"open", "approved"}
    # Their part in each line; not the other person on it, nor the line's score and
    # reasons, which come from that person's sign-up (only coordinators see it).
    assert proposals["open"]["your_lines"] == [{"as": "mentee", "approved": False}]
    assert proposals["approved"]["your_lines"] == [{"as": "mentee", "approved": True}]
    assert not any(
        key in line
        for p in data["match_proposals"]
        for line in p["your_lines"]
        for key in ("mentor", "mentee", "score", "reasons")
    )
    assert sorted(c["kind"] for c in data["messages_kept_for_deletion"]) == [
        "my_data",
        "my_data_file",
        "prep_shared",
    ]
    # Others' rows in the same tables are not theirs: the third pair's proposal, the
    # partner's export, the coordinator's pause.
    dumped = json.dumps(data)
    for foreign in (THIRD, FOURTH, COORD, "keep <@", "fourth-focus", "third-helped"):
        assert foreign not in dumped, foreign


# ---------------------------------------------------------------- views


def _check(text: str, blocks: list[Any]) -> list[dict]:
    payload = as_dicts(blocks)
    assert validate_message_blocks(payload) == []
    assert validate_message_text(text) == []
    assert len(payload) <= 50
    # What chat.postMessage takes in all (msg_blocks_too_long), as the emulator has it.
    assert blocks_text_length(payload) <= MAX_BLOCKS_TEXT
    return payload


def test_forget_confirmation_blocks() -> None:
    payload = _check("Delete my data?", forget_confirmation_blocks())
    text = json.dumps(payload)
    assert "Deleted" in text and "anonymous" in text
    buttons = [e for b in payload if b["type"] == "actions" for e in b["elements"]]
    confirm, cancel = buttons
    assert confirm["action_id"] == "forget_confirm"
    assert confirm["style"] == "danger"
    assert confirm["text"]["text"] == "Delete my data"
    assert set(confirm["confirm"]) >= {"title", "text", "confirm", "deny"}
    assert cancel["action_id"] == "forget_cancel"
    assert cancel["text"]["text"] == "Cancel"


def test_forgotten_message() -> None:
    text, blocks = forgotten_message()
    _check(text, blocks)
    assert "deleted" in text


def _json_of(payload: list[dict]) -> str:
    parts = [
        b["text"]["text"]
        for b in payload
        if b["type"] == "section" and b["text"]["text"].startswith("```")
    ]
    body = "\n".join(p.removeprefix("```\n").removesuffix("\n```") for p in parts)
    # JSON strings hold no raw line breaks, so dropping them all undoes any split line.
    body = body.replace("\n", "")
    return body.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_my_data_message_carries_the_full_record(db: Database) -> None:
    _build(db)
    with db.session() as session:
        data = personal_data(session, team_id=TEAM, user_id=GONE)
    # A short record (someone who only set their tips): inline, in one code block,
    # whole, so that it can be copied as JSON; control characters escaped in mrkdwn.
    short = {
        "team_id": TEAM,
        "user_id": GONE,
        "person": {**data["person"], "display_name": "a <b> & c"},
    }
    payload = _check(*my_data_message(short))
    sections = [b["text"]["text"] for b in payload if b["type"] == "section"]
    assert sum(s.startswith("```") for s in sections) == 1
    assert json.loads(_json_of(payload)) == short
    assert "Europe/Berlin" in json.dumps(payload)
    assert "too long" not in json.dumps(payload)
    # Longer than one code block: never cut across several, a file instead.
    data["feedback"][0]["helped"] = "a <b> & c " + "x" * 2_500
    assert not my_data_fits(data)
    payload = _check(*my_data_message(data))
    assert not any(b["text"]["text"].startswith("```") for b in payload if b["type"] == "section")
    assert json.loads(my_data_file(data)) == data


@given(st.lists(st.integers(0, 6_000), max_size=12))
@settings(max_examples=60, deadline=None)
def test_my_data_message_is_one_slack_takes_whatever_the_record(notes: list[int]) -> None:
    """However long the notes, the DM is within Slack's limits for one message: the
    record inline when the whole DM stays well under them, else as a file."""
    data = {
        "team_id": TEAM,
        "user_id": GONE,
        "feedback": [{"helped": "<&>" * (n // 3), "usefulness": 3} for n in notes],
    }
    text, blocks = my_data_message(data)
    payload = _check(text, blocks)
    inline = any(b["text"]["text"].startswith("```") for b in payload if b["type"] == "section")
    assert inline == my_data_fits(data)
    if inline:
        assert json.loads(_json_of(payload)) == data


def test_my_data_message_sends_a_huge_record_as_a_file() -> None:
    data = {
        "team_id": TEAM,
        "user_id": GONE,
        "person": {"tz": "UTC", "tips_enabled": False, "tip_minute": None},
        "pool": None,
        "pairs": [
            {
                "id": i,
                "role": "mentor",
                "partner_id": f"U{i:09d}",
                "status": "ended",
                "created_at": NOW.isoformat(),
                "meetings": [{"id": j, "starts_at": NOW.isoformat()} for j in range(5)],
            }
            for i in range(300)
        ],
        "prep_answers": [],
        "feedback": [{"helped": "y" * 1_000, "usefulness": 3} for _ in range(300)],
        "tip_votes": [],
        "scheduled_messages": {"sent": 12_000},
    }
    text, blocks = my_data_message(data)
    payload = _check(text, blocks)
    # Nothing is cut: the message is a summary that points to the file, which has it all.
    assert not my_data_fits(data)
    assert not any(b["text"]["text"].startswith("```") for b in payload if b["type"] == "section")
    assert "comes as a file" in json.dumps(payload)
    assert "too long" not in json.dumps(payload)
    assert all(len(b["text"]["text"]) <= 3_000 for b in payload if b["type"] == "section")
    assert json.loads(my_data_file(data)) == data


def test_an_export_names_partners_and_people_mentioned_in_words_but_not_its_owner():
    data = {
        "user_id": "UOWNER0001",
        "pairs": [{"partner_id": "UPARTNER01", "tz": "UTC", "status": "ended"}],
        "goals": [{"what": "Present to <@UBOSS00001> and W0GRID0001 by May", "why": "UX"}],
        "match_exclusions": [{"never_matched_with": "UOTHER0001"}],
        "tips_received": [{"tip_id": "mentor-listen", "kind": "USE-CASE"}],
        "UKEYED0001": True,
    }
    assert people_named(data, besides="UOWNER0001") == [
        "UBOSS00001",
        "UKEYED0001",
        "UOTHER0001",
        "UPARTNER01",
        "W0GRID0001",
    ]
