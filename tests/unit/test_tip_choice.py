"""Choosing a tip's practice at claim time and recording it when sent (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, select, text

from bot.content import Content
from bot.scheduling import tipchoice
from bot.store import outbox
from bot.store.db import Database
from bot.store.migrate import alembic_config
from bot.store.models import Feedback, Pair, ScheduledMessage, TipReceived
from bot.store.outbox import PlannedMessage

NOW = datetime(2026, 3, 3, 9, tzinfo=UTC)
TEAM = "T1"


def pairs(db: Database, count: int, *, accepted: datetime = NOW - timedelta(days=60)) -> None:
    with db.session() as session:
        session.add_all(
            Pair(
                team_id=TEAM,
                mentor_id=f"M{i}",
                mentee_id=f"E{i}",
                inviter_id=f"M{i}",
                status="active",
                created_at=accepted,
                accepted_at=accepted,
            )
            for i in range(count)
        )


def plan_tips(
    db: Database, users: list[str], *, day: str = "2026-03-03", due: datetime = NOW
) -> None:
    db.call(
        outbox.plan,
        [
            PlannedMessage(
                team_id=TEAM,
                key=f"tip:{TEAM}:{u}:{day}",
                kind="tip",
                recipient=u,
                due_at=due,
                payload={"role": "mentor", "local_day": day, "seed": 1},
            )
            for u in users
        ],
        now=NOW,
    )


def claim(db: Database, content: Content, now: datetime = NOW, limit: int = 100) -> list[Any]:
    return db.call(tipchoice.claim_due, content=content, now=now, worker="w", limit=limit)


def send(db: Database, message: Any, now: datetime = NOW) -> bool:
    return db.call_core(
        tipchoice.mark_sent, message=message, worker="w", now=now, channel_id="D1", ts="1.0"
    )


def test_a_batch_is_chosen_with_a_fixed_number_of_queries(db: Database, content: Content) -> None:
    pairs(db, 50)
    plan_tips(db, [f"M{i}" for i in range(50)] + [f"E{i}" for i in range(50)])
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        batch = claim(db, content)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(batch) == 100
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, statements  # what they received; their pairs and ratings
    mentor_ids = {p.id for p in content.mentor_practices}
    mentee_ids = {p.id for p in content.mentee_practices}
    for message in batch:
        assert message.payload["tip_id"] in (
            mentor_ids if message.recipient.startswith("M") else mentee_ids
        )
        assert message.payload["role"] == ("mentor" if message.recipient[0] == "M" else "mentee")
    # Written into the rows in the claim's transaction: the buttons and a retry see it.
    with db.session() as session:
        stored = dict(session.execute(select(ScheduledMessage.id, ScheduledMessage.payload)).all())
    assert all(stored[m.id]["tip_id"] == m.payload["tip_id"] for m in batch)


def test_received_only_when_marked_sent_by_the_holder(db: Database, content: Content) -> None:
    pairs(db, 1)
    plan_tips(db, ["M0"])
    [message] = claim(db, content)
    with db.session() as session:
        assert session.scalars(select(TipReceived)).all() == []
    # Another worker took the row over (lease lost): nothing recorded.
    lost = db.call_core(
        tipchoice.mark_sent, message=message, worker="other", now=NOW, channel_id="D", ts="1"
    )
    assert not lost
    with db.session() as session:
        assert session.scalars(select(TipReceived)).all() == []
    assert send(db, message)
    with db.session() as session:
        row = session.scalars(select(TipReceived)).one()
        assert (row.user_id, row.practice_id, row.cycle, row.times) == (
            "M0",
            message.payload["tip_id"],
            0,
            1,
        )


def test_a_retry_keeps_its_practice_and_a_failed_tip_costs_nothing(
    db: Database, content: Content
) -> None:
    pairs(db, 1)
    plan_tips(db, ["M0"])
    [first] = claim(db, content)
    db.call(outbox.mark_retry, message_id=first.id, worker="w", due_at=NOW, error="x")
    [again] = claim(db, content, now=NOW + timedelta(minutes=1))
    assert again.payload["tip_id"] == first.payload["tip_id"]
    db.call(outbox.mark_failed, message_id=again.id, worker="w", error="x")
    # The next day's tip may be the same practice: the failed one never arrived.
    plan_tips(db, ["M0"], day="2026-03-04", due=NOW + timedelta(days=1))
    [next_day] = claim(db, content, now=NOW + timedelta(days=1))
    assert next_day.payload["tip_id"] == first.payload["tip_id"]


def test_one_persons_two_tips_in_a_batch_differ(db: Database, content: Content) -> None:
    pairs(db, 1)
    plan_tips(db, ["M0"], day="2026-03-03")
    plan_tips(db, ["M0"], day="2026-03-02")
    batch = claim(db, content)
    assert len({m.payload["tip_id"] for m in batch}) == 2


def test_the_list_and_the_rules_follow_the_pairs_of_the_moment(
    db: Database, content: Content
) -> None:
    # A new pairing: the mentee's relationship practices come first. Their low rating
    # of an older pair's meeting (as a mentor) brings a mentor practice forward.
    pairs(db, 1, accepted=NOW - timedelta(days=2))
    with db.session() as session:
        session.add(
            Pair(
                team_id=TEAM,
                mentor_id="E0",
                mentee_id="X9",
                inviter_id="E0",
                status="active",
                created_at=NOW - timedelta(days=90),
                accepted_at=NOW - timedelta(days=90),
            )
        )
        session.flush()
        older = session.scalars(select(Pair).where(Pair.mentor_id == "E0")).one()
        session.add(
            Feedback(
                team_id=TEAM,
                pair_id=older.id,
                user_id="E0",
                usefulness=2,
                updated_at=NOW - timedelta(days=1),
            )
        )
    plan_tips(db, ["E0"])
    [message] = claim(db, content)
    assert message.payload["role"] == "both"
    fitting = {p.id for p in content.mentor_practices if p.after_low_rating}
    assert message.payload["tip_id"] in fitting


def test_no_active_pair_keeps_the_planned_list(db: Database, content: Content) -> None:
    plan_tips(db, ["NOPAIR"])
    [message] = claim(db, content)
    assert message.payload["tip_id"] in {p.id for p in content.mentor_practices}


def test_the_migration_counts_tips_already_sent(database_url: str, tmp_path: Path) -> None:
    config = alembic_config(database_url)
    script = ScriptDirectory.from_config(config)
    before = script.get_revision("0006").down_revision
    assert isinstance(before, str)
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, before)
            connection.commit()
            rows = [
                ("k1", "U1", '{"tip_id": "a"}', "2026-03-02 09:00:00"),
                ("k2", "U1", '{"tip_id": "b"}', "2026-03-03 09:00:00"),
                ("k3", "U1", '{"tip_id": "a"}', "2026-03-04 09:00:00"),
                ("k4", "U2", '{"tip_id": "a"}', None),  # never sent
            ]
            for key, user, payload, sent_at in rows:
                connection.execute(
                    text(
                        "INSERT INTO scheduled_messages (team_id, key, kind, recipient, due_at,"
                        " status, payload, attempts, created_at, sent_at) VALUES ('T1', :key,"
                        " 'tip', :user, '2026-03-02 09:00:00', :status, :payload, 1,"
                        " '2026-03-01 09:00:00', :sent_at)"
                    ),
                    {
                        "key": key,
                        "user": user,
                        "payload": payload,
                        "sent_at": sent_at,
                        "status": "sent" if sent_at else "cancelled",
                    },
                )
            for n, (tip, vote) in enumerate((("a", -1), ("a", 1), ("b", 1), ("b", -1))):
                connection.execute(
                    text(
                        "INSERT INTO tip_votes (team_id, user_id, tip_id, outbox_id, vote,"
                        " voted_at) VALUES ('T1', 'U1', :tip, :n, :vote, :at)"
                    ),
                    {"tip": tip, "n": n, "vote": vote, "at": f"2026-03-0{5 + n} 09:00:00"},
                )
            connection.commit()
            command.upgrade(config, "head")
            connection.commit()
            found = connection.execute(
                text(
                    "SELECT user_id, practice_id, cycle, times, disliked FROM tips_received"
                    " ORDER BY user_id, practice_id"
                )
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in found] == [("U1", "a", 0, 2, False), ("U1", "b", 0, 1, True)]
