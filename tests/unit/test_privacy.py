"""Forgetting a person leaves no trace of them and keeps everyone else's history."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.services.privacy import forget_person, personal_data
from slackemu.limits import validate_message_blocks, validate_message_text
from bot.store.db import Database
from bot.store.models import (
    Base,
    Feedback,
    MatchExclusion,
    MatchProposal,
    Meeting,
    Pair,
    Person,
    PoolMember,
    PrepAnswer,
    ProcessedEvent,
    ScheduledMessage,
    TipVote,
)
from bot.views.common import as_dicts
from bot.views.privacy import forget_confirmation_blocks, forgotten_message, my_data_message

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
TEAM, OTHER_TEAM = "T0PRIVACY1", "T0PRIVACY2"
GONE = "UFORGET001"  # the person who asks to be forgotten (the mentee)
PARTNER = "UPARTNER02"  # their mentor
THIRD, FOURTH = "UTHIRD0003", "UFOURTH004"  # another pair, unrelated
ERIN = "UERIN00005"  # in the pool, invited by GONE
COORD = "UCOORD0006"

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
) -> ScheduledMessage:
    team = pair.team_id if pair is not None else payload.pop("team")
    return ScheduledMessage(
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
    pair = _pair(team, PARTNER, GONE, channel_id=f"G{prefix}PAIR1")
    third = _pair(team, THIRD, FOURTH, channel_id=f"G{prefix}PAIR2")
    invited = _pair(team, ERIN, GONE, status="invited", inviter_id=GONE)
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
    )
    tip_partner = _message(
        None,
        "tip",
        PARTNER,
        f"tip:{team}:{PARTNER}:1",
        {"team": team, "tip_id": "ask"},
        status="sent",
        due_at=NOW - timedelta(days=1),
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
                "pairs": [{"mentor_id": PARTNER, "mentee_id": GONE, "score": 0.7}],
                "reasons": {GONE: ["shares career"]},
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
    )
    return {"pair": pair.id, "third": third.id, "invited": invited.id, "old": old.id}


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
    for text in GONE_TEXTS + ("gone-focus-2", "gone-old-change", "gone-goal-words"):
        assert not any(text in v for _, row in _rows(after, TEAM) for v in row.values()), text

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
            session.scalars(select(Feedback.user_id).where(Feedback.user_id.like("ANON-%")))
        )
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
        assert ("tip", "cancelled") in by_kind and ("tip", "sent") in by_kind
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
        assert proposals[0].data == {
            "pairs": [{"mentor_id": PARTNER, "mentee_id": tombstone, "score": 0.7}],
            "reasons": {tombstone: ["shares career"]},
        }

    # Aggregates survive: as many feedback rows, the same usefulness scores and votes.
    def feedback_numbers(dump: dict[str, list[dict[str, str]]]) -> list[tuple[str, str]]:
        return sorted(
            (row["happened"], row["usefulness"])
            for row in dump["feedback"]
            if row["team_id"] == TEAM
        )

    assert feedback_numbers(after) == feedback_numbers(before)
    assert len([r for r in after["feedback"] if r["team_id"] == TEAM]) == 5
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
    assert counts["feedback_anonymised"] == 2
    assert counts["prep_answers_deleted"] == 2
    assert counts["tip_votes_anonymised"] == 1
    assert counts["people_deleted"] == 1
    assert counts["pool_members_deleted"] == 1
    assert counts["match_exclusions_deleted"] == 1
    assert counts["match_exclusions_anonymised"] == 1
    assert counts["match_proposals_deleted"] == 1
    assert counts["match_proposals_anonymised"] == 1
    assert counts["scheduled_messages_deleted"] == 3
    assert counts["meetings_cancelled"] == 1
    assert counts["mentions_scrubbed"] == 2
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
    assert data["match_exclusions"] == 1

    with db.session() as session:
        forget_person(session, team_id=TEAM, user_id=GONE, now=NOW)
        empty = personal_data(session, team_id=TEAM, user_id=GONE)
        other = personal_data(session, team_id=OTHER_TEAM, user_id=GONE)
    assert empty["person"] is None and empty["pool"] is None
    assert empty["pairs"] == empty["feedback"] == empty["prep_answers"] == []
    assert empty["scheduled_messages"] == {}
    assert "o-gone-helped-words" in json.dumps(other)


# ---------------------------------------------------------------- views


def _check(text: str, blocks: list[Any]) -> list[dict]:
    payload = as_dicts(blocks)
    assert validate_message_blocks(payload) == []
    assert validate_message_text(text) == []
    assert len(payload) <= 50
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
    data["feedback"][0]["helped"] = "a <b> & c " + "x" * 4_000  # long, with control characters
    text, blocks = my_data_message(data)
    payload = _check(text, blocks)
    sections = [b["text"]["text"] for b in payload if b["type"] == "section"]
    assert all(len(s) <= 2_900 for s in sections if s.startswith("```"))
    assert sum(s.startswith("```") for s in sections) >= 2
    assert json.loads(_json_of(payload)) == data
    assert "Europe/Berlin" in json.dumps(payload)
    assert "too long" not in json.dumps(payload)


def test_my_data_message_truncates_a_huge_record() -> None:
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
    assert len(payload) == 50
    assert "too long for one message" in json.dumps(payload)
    assert all(len(b["text"]["text"]) <= 3_000 for b in payload if b["type"] == "section")
