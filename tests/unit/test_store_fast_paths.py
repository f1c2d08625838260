"""The fast paths the benchmarks asked for keep their meaning: PostgreSQL's array
statements plan what the executemany planned, a new pair is a pair like any other,
SQLite's writer serves requests first, and an up-to-date database starts without
Alembic or cryptography."""

from __future__ import annotations

import asyncio
import functools
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, event, select
from sqlalchemy.exc import IntegrityError

from bot.content import Content
from bot.domain.errors import Conflict
from bot.scheduling.planner import plan_tips
from bot.services import pairing
from bot.store import outbox, repo
from bot.store.db import Database, Prepared, _WriterLock
from bot.store.migrate import MIGRATIONS_DIR, head_revision, upgrade
from bot.store.models import Pair, Person, ProcessedEvent, ScheduledMessage

ROOT = Path(__file__).resolve().parents[2]
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
TEAM = "T0FAST"


def _program(db: Database, people: int) -> None:
    with db.session() as session:
        for n in range(people):
            session.add(
                Person(
                    team_id=TEAM,
                    user_id=f"U{n:06d}",
                    display_name=f"user {n}",
                    tz=("Europe/Berlin", "Asia/Tokyo", "America/Lima")[n % 3],
                    tips_enabled=True,
                    tips_sent=0,
                    tip_seed=n,
                    tips_planned_until=MONDAY,
                )
            )
        for n in range(0, people - 1, 2):
            session.add(
                Pair(
                    team_id=TEAM,
                    mentor_id=f"U{n:06d}",
                    mentee_id=f"U{n + 1:06d}",
                    inviter_id=f"U{n:06d}",
                    status="active",
                    created_at=MONDAY - timedelta(days=7),
                    accepted_at=MONDAY - timedelta(days=7),
                )
            )


def test_a_planning_wave_writes_each_tip_once_with_its_person_moved_on(
    db: Database, content: Content
) -> None:
    _program(db, 40)
    assert db.call(plan_tips, content=content, now=MONDAY) == (40, 40)
    with db.session() as session:
        rows = session.scalars(select(ScheduledMessage).order_by(ScheduledMessage.id)).all()
        people = session.scalars(select(Person).order_by(Person.user_id)).all()
    assert len({r.key for r in rows}) == 40
    assert {r.recipient for r in rows} == {p.user_id for p in people}
    by_user = {r.recipient: r for r in rows}
    for person in people:
        row = by_user[person.user_id]
        role = "mentor" if int(person.user_id[1:]) % 2 == 0 else "mentee"
        assert row.payload == {
            "role": role,
            "local_day": row.payload["local_day"],
            "seed": person.tip_seed,
        }
        assert (row.kind, row.status, row.attempts) == ("tip", "pending", 0)
        assert row.pair_id is None and row.meeting_id is None
        assert row.due_at.tzinfo is not None and row.due_at > MONDAY
        # The person's next planning is the tip just planned, and it is counted.
        assert (person.tips_planned_until, person.tips_sent) == (row.due_at, 1)
    # Nothing is due for planning again at the same instant.
    assert db.call(plan_tips, content=content, now=MONDAY) == (0, 0)


def test_planning_counts_only_the_new_rows_of_a_wave(db: Database) -> None:
    def message(n: int, due: datetime) -> outbox.PlannedMessage:
        return outbox.PlannedMessage(
            team_id=TEAM,
            key=f"fast:{n}",
            kind="tip",
            recipient=f"U{n:06d}",
            due_at=due,
            payload={"n": n, "text": 'quotes " and \\ backslashes'},
        )

    first = [message(n, MONDAY) for n in range(3)]
    assert db.call(lambda s: outbox.plan(s, first, now=MONDAY)) == 3
    again = [message(n, MONDAY + timedelta(hours=1)) for n in range(5)]
    assert db.call(lambda s: outbox.plan(s, again, now=MONDAY)) == 2
    assert db.call(lambda s: outbox.plan(s, [message(4, MONDAY)], now=MONDAY)) == 0
    with db.session() as session:
        rows = session.scalars(select(ScheduledMessage).order_by(ScheduledMessage.key)).all()
    assert [(r.key, r.due_at) for r in rows] == [
        ("fast:0", MONDAY),
        ("fast:1", MONDAY),
        ("fast:2", MONDAY),
        ("fast:3", MONDAY + timedelta(hours=1)),
        ("fast:4", MONDAY + timedelta(hours=1)),
    ]
    assert rows[4].payload == {"n": 4, "text": 'quotes " and \\ backslashes'}


def test_a_new_pair_reads_back_as_written_and_changes_like_any_other(db: Database) -> None:
    """The invite's statements run on the driver's cursor (``Prepared``): what they
    write is what SQLAlchemy would have written, so the ORM reads it back the same."""

    def invite(session):  # type: ignore[no-untyped-def]
        pair_id = pairing.invite(
            session,
            team_id=TEAM,
            inviter_id="UMENTEE",
            invitee_id="UMENTOR",
            inviter_role="mentee",
            now=MONDAY,
        )
        pair = session.get(Pair, pair_id)  # seen by the ORM in the same transaction
        pair.invite_ts = "1.2"  # and a change to it is saved like any other
        return pair_id

    pair_id = db.call(invite)
    with db.session() as session:
        pair = session.get(Pair, pair_id)
        assert pair is not None
        members = (pair.mentor_id, pair.mentee_id, pair.inviter_id)
        assert members == ("UMENTOR", "UMENTEE", "UMENTEE")
        assert (pair.status, pair.invite_ts, pair.channel_id) == ("invited", "1.2", None)
        assert pair.created_at == MONDAY and pair.created_at.tzinfo is not None
        row = session.scalars(
            select(ScheduledMessage).where(ScheduledMessage.pair_id == pair_id)
        ).one()
    assert (row.kind, row.recipient, row.due_at, row.status) == (
        "invitation",
        "UMENTOR",
        MONDAY,
        "pending",
    )
    assert row.payload["inviter_role"] == "mentee"
    # Stored as SQLAlchemy itself stores them: the same text (SQLite) or value
    # (PostgreSQL) as a pair and an outbox row written through the ORM.
    with db.session() as session:
        twin = Pair(**{c: getattr(pair, c) for c in ("team_id", "mentor_id", "mentee_id")})
        twin.inviter_id, twin.status, twin.created_at = "UMENTEE", "declined", MONDAY
        message = ScheduledMessage(
            **{c: getattr(row, c) for c in ("team_id", "kind", "recipient", "due_at")},
            key="twin",
            payload=row.payload,
            status="pending",
            attempts=0,
            created_at=MONDAY,
        )
        session.add_all([twin, message])
        session.flush()
        stored = session.connection().exec_driver_sql
        pairs = stored(f"SELECT created_at FROM pairs WHERE id IN ({pair_id}, {twin.id})")
        assert len(set(pairs.all())) == 1
        rows = stored(
            "SELECT due_at, created_at, payload FROM scheduled_messages "
            f"WHERE id IN ({row.id}, {message.id})"
        )
        assert len(set(map(str, rows.all()))) == 1
    # And `between` reads it back through the same path: the second invite is refused.
    with pytest.raises(Conflict, match="invitation waiting"):
        db.call(
            pairing.invite,
            team_id=TEAM,
            inviter_id="UMENTOR",
            invitee_id="UMENTEE",
            inviter_role="mentor",
            now=MONDAY,
        )


def test_a_prepared_statement_refuses_columns_it_would_leave_unfilled(db: Database) -> None:
    """A column SQLAlchemy fills with a Python-side default would be left NULL on the
    driver's cursor: such a statement is refused when first run, not half-written."""
    table = Table(
        "prepared_defaults",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("name", String(8)),
        Column("kind", String(8), default="x"),
    )
    statement = Prepared(table.insert(), columns=("name",))
    with db.session() as session, pytest.raises(ValueError, match="kind"):
        statement.execute_many(session, [{"name": "a"}])
    for refused, why in (
        (select(table.c.id).where(table.c.kind == "x"), "fixed in the statement"),
        (select(table.c.id).where(table.c.id.in_([1, 2])), "fixed in the statement"),
        (select(table.c.id).where(table.c.id.in_(bindparam("ids", expanding=True))), "IN"),
    ):
        with db.session() as session, pytest.raises(ValueError, match=why):
            Prepared(refused).rows(session, {"ids": [1]})


def test_a_request_takes_sqlites_writer_before_the_sender_threads_waiting_for_it() -> None:
    lock = _WriterLock()
    order: list[str] = []
    lock.acquire()

    def take(name: str, first: bool) -> None:
        lock.acquire(first=first)
        order.append(name)
        lock.release()

    def waiting(count: int) -> None:
        queued = lambda: len(lock._turn._waiters) + len(lock._first_turn._waiters)  # type: ignore[attr-defined]  # noqa: E731
        while queued() < count:
            time.sleep(0.001)

    sender = threading.Thread(target=take, args=("sender", False))
    sender.start()
    waiting(1)
    request = threading.Thread(target=take, args=("request", True))
    request.start()
    waiting(2)
    lock.release()
    sender.join(5)
    request.join(5)
    assert order == ["request", "sender"]


def _queued_behind_the_writer_thread(db: Database, works: list) -> list:  # type: ignore[type-arg]
    """Run ``works`` through ``db.run`` as concurrent requests do, all queued while the
    database thread is busy, so that they meet in one group; their outcomes, in order
    (a result, or the exception raised to that request)."""
    busy, queued = threading.Event(), threading.Event()
    db._executor.submit(lambda: (busy.set(), queued.wait(10)))
    assert busy.wait(10)

    async def requests() -> list:  # type: ignore[type-arg]
        tasks = [asyncio.ensure_future(db.run(*work)) for work in works]
        await asyncio.sleep(0)  # each task reaches db.run and queues its unit
        queued.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    return asyncio.run(requests())


def _inviting(invitee: str, *, then_refuse: bool = False) -> tuple:  # type: ignore[type-arg]
    """A unit of work and its arguments, as a listener passes them to ``db.run``: the
    session first, then the request's own (positional and by name)."""

    def work(session, invitee, *, then_refuse):  # type: ignore[no-untyped-def]
        pair_id = pairing.invite(
            session,
            team_id=TEAM,
            inviter_id="UMENTOR",
            invitee_id=invitee,
            inviter_role="mentor",
            now=MONDAY,
        )
        if then_refuse:  # after its writes: only a rollback can undo them
            raise Conflict(f"no, not {invitee}")
        return session.get(Pair, pair_id).mentee_id

    return (functools.partial(work, then_refuse=then_refuse), invitee)


def _pairs_and_rows(db: Database) -> tuple[list[str], list[str]]:
    with db.session() as session:
        pairs = session.scalars(select(Pair.mentee_id).order_by(Pair.id)).all()
        rows = session.scalars(select(ScheduledMessage.recipient).order_by(ScheduledMessage.id))
        return list(pairs), list(rows)


def _write_transactions(db: Database) -> list[int]:
    begun: list[int] = []

    @event.listens_for(db.engine, "begin")
    def _begun(connection) -> None:  # type: ignore[no-untyped-def]
        if connection.info.get("write", True):
            begun.append(1)

    return begun


def test_requests_queued_for_sqlites_writer_are_committed_together(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/group.db")
    upgrade(db.engine)
    begun = _write_transactions(db)
    outcomes = _queued_behind_the_writer_thread(db, [_inviting(f"U{n}") for n in range(5)])
    assert outcomes == [f"U{n}" for n in range(5)]
    assert len(begun) == 1  # one transaction, one commit, for the five requests
    assert _pairs_and_rows(db) == ([f"U{n}" for n in range(5)], [f"U{n}" for n in range(5)])
    db.dispose()


def test_a_refusal_in_a_group_undoes_its_own_writes_and_none_of_the_others(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite:///{tmp_path}/group.db")
    upgrade(db.engine)
    begun = _write_transactions(db)
    works = [_inviting("UANNA"), _inviting("UBEN", then_refuse=True), _inviting("UCARA")]
    # And a second request for Anna's pair, refused by the first one's pair in the group.
    works.append(_inviting("UANNA"))
    outcomes = _queued_behind_the_writer_thread(db, works)
    assert outcomes[0] == "UANNA" and outcomes[2] == "UCARA"
    assert isinstance(outcomes[1], Conflict) and str(outcomes[1]) == "no, not UBEN"
    assert isinstance(outcomes[3], Conflict) and "already have" in str(outcomes[3])
    # The group was rolled back at Ben's: Anna's ran again (a group of one, alone), Ben's
    # alone, then Cara's and the second Anna's as a group, which the second Anna's
    # rolled back too: Cara's alone, and the second Anna's alone.
    assert len(begun) == 1 + 1 + 1 + 1 + 1 + 1
    assert _pairs_and_rows(db) == (["UANNA", "UCARA"], ["UANNA", "UCARA"])
    db.dispose()


def test_a_unit_whose_writes_fail_at_the_flush_is_blamed_for_them_alone(
    tmp_path: Path,
) -> None:
    """A unit that leaves a doomed write unflushed fails as itself: the next unit's
    savepoint does not flush it, swallow the error and lose the group's work."""
    db = Database(f"sqlite:///{tmp_path}/group.db")
    upgrade(db.engine)
    try:
        db.call(repo.remember_event, team_id=TEAM, event_id="E1", now=MONDAY)

        def doomed(session):  # type: ignore[no-untyped-def]
            repo.ensure_person(session, team_id=TEAM, user_id="UDORA")
            session.add(ProcessedEvent(team_id=TEAM, event_id="E1", received_at=MONDAY))
            return "added"

        def remember(session, event_id):  # type: ignore[no-untyped-def]
            return repo.remember_event(session, team_id=TEAM, event_id=event_id, now=MONDAY)

        outcomes = _queued_behind_the_writer_thread(db, [(doomed,), (remember, "E2")])
        assert isinstance(outcomes[0], IntegrityError)
        assert outcomes[1] is True  # a new event, remembered, not taken for a redelivery
        with db.session() as session:
            events = session.scalars(select(ProcessedEvent.event_id)).all()
            people = session.scalars(select(Person.user_id)).all()
        assert sorted(events) == ["E1", "E2"] and people == []
    finally:
        db.dispose()


def test_a_request_after_the_database_is_closed_is_refused_not_left_waiting(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite:///{tmp_path}/group.db")
    upgrade(db.engine)
    db.dispose()

    async def twice() -> list:  # type: ignore[type-arg]
        return [
            await asyncio.wait_for(
                asyncio.gather(db.run(_inviting("UANNA")[0], "UANNA"), return_exceptions=True),
                timeout=10,
            )
            for _ in range(2)
        ]

    for (outcome,) in asyncio.run(twice()):
        assert isinstance(outcome, RuntimeError)


def test_the_head_read_from_the_migration_files_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    from bot.store.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert MIGRATIONS_DIR.is_dir()
    assert head_revision() == script.get_current_head()


def test_the_quick_look_at_the_revision_leaves_writes_as_they_were(db: Database) -> None:
    upgrade(db.engine)  # already at the head: only the quick look runs
    with db.engine.connect() as connection:
        assert "write" not in connection.info  # SQLite writes still BEGIN IMMEDIATE


def test_an_up_to_date_database_starts_without_alembic_or_cryptography(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ready.db"
    db = Database(url)
    upgrade(db.engine)  # the release phase
    db.dispose()
    probe = (
        "import sys\n"
        "from bot.store.db import Database\n"
        "from bot.store.migrate import upgrade\n"
        "import bot.store.installations, bot.app\n"
        f"db = Database({url!r})\n"
        "upgrade(db.engine)\n"
        "print(sorted(m for m in ('alembic', 'cryptography') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_sqlites_writer_passes_to_every_waiter_one_at_a_time() -> None:
    # A release wakes one waiter, not all: none may be left waiting, and never two inside.
    lock = _WriterLock()
    inside: list[int] = []
    most = [0]

    def take(first: bool) -> None:
        for _ in range(300):
            lock.acquire(first=first)
            inside.append(1)
            most[0] = max(most[0], len(inside))
            inside.pop()
            lock.release()

    threads = [threading.Thread(target=take, args=(n % 3 == 0,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert most[0] == 1


def test_people_as_slack_described_them_are_added_or_updated_and_nothing_else(
    db: Database,
) -> None:
    _program(db, 2)
    with db.session() as session:
        known = repo.get_person(session, team_id=TEAM, user_id="U000000")
        assert known is not None and known.tz == "Europe/Berlin"
        repo.record_people(
            session,
            team_id=TEAM,
            people={"U000000": ("Asia/Tokyo", ""), "UNEW": ("", "newcomer")},
            now=MONDAY,
        )
        # The object the session holds answers what the statement wrote, not what it read.
        assert (known.tz, known.tz_checked_at) == ("Asia/Tokyo", MONDAY)
        assert known.display_name == "user 0"  # an empty name leaves the one there
        assert (known.tips_planned_until, known.tip_seed) == (MONDAY, 0)
        new = repo.get_person(session, team_id=TEAM, user_id="UNEW")
        assert new is not None
        assert (new.tz, new.display_name, new.tips_enabled) == ("UTC", "newcomer", True)
        assert new.tip_seed == repo._stable_seed(TEAM, "UNEW")


def test_tips_start_for_the_people_who_have_them_on_and_none_planned(db: Database) -> None:
    _program(db, 3)
    later = MONDAY + timedelta(days=3)
    with db.session() as session:
        off = repo.get_person(session, team_id=TEAM, user_id="U000001")
        assert off is not None
        off.tips_enabled, off.tips_planned_until = False, None  # not flushed yet
        idle = repo.get_person(session, team_id=TEAM, user_id="U000002")
        assert idle is not None
        idle.tips_planned_until = None
        repo.start_tips(
            session, team_id=TEAM, user_ids=["U000000", "U000001", "U000002", "UNEW"], now=later
        )
        planned = {
            user: repo.get_person(session, team_id=TEAM, user_id=user).tips_planned_until  # type: ignore[union-attr]
            for user in ("U000000", "U000001", "U000002", "UNEW")
        }

    assert planned == {
        "U000000": MONDAY,  # planned already: left as it is
        "U000001": None,  # tips off
        "U000002": later,
        "UNEW": later,  # added, with tips on
    }


def test_a_wake_reaches_a_round_waiting_for_its_lanes_at_once() -> None:
    from bot.scheduling.engine import _Lanes

    lanes = _Lanes(threads=8, most=100)
    lanes.add(("T", "U1"), [])  # a lane in flight: the round waits for progress
    arrived, stopping, returned = threading.Event(), threading.Event(), threading.Event()

    def round_waits() -> None:
        lanes.wait_for_progress(arrived, stopping, timeout=60)
        returned.set()

    waiter = threading.Thread(target=round_waits)
    waiter.start()
    while not lanes._state._waiters:  # type: ignore[attr-defined]
        time.sleep(0.001)
    arrived.set()
    lanes.poke()
    # Well before the wait's one-second bound: the poke, not a poll, ended it.
    assert returned.wait(0.5)
    waiter.join(5)
