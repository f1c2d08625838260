"""Workspace state in the store: pause, uninstall, resume, purge, and the claim that skips them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from bot.store import installations, outbox, workspaces
from bot.store.db import Database
from bot.store.models import Base, Installation, Pair, Person, ScheduledMessage
from bot.store.outbox import PlannedMessage

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
TEAM, OTHER = "T0001", "T0002"


def plan(db: Database, team: str, key: str, due: datetime = NOW) -> None:
    message = PlannedMessage(team_id=team, key=key, kind="tip", recipient="U1", due_at=due)
    db.call(outbox.plan, [message], now=NOW)


def statuses(db: Database, team: str) -> dict[str, int]:
    with db.session() as session:
        rows = session.execute(
            select(ScheduledMessage.status, func.count())
            .where(ScheduledMessage.team_id == team)
            .group_by(ScheduledMessage.status)
        )
        return {status: count for status, count in rows}


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        diff = compare_metadata(context, Base.metadata)
    assert not diff, diff


def test_pause_holds_the_workspace_and_claims_skip_it(db: Database) -> None:
    plan(db, TEAM, "a")
    plan(db, OTHER, "b")
    with db.session() as session:
        session.add(Person(team_id=TEAM, user_id="U1", tips_planned_until=NOW))

    assert db.call(workspaces.pause, team_id=TEAM, reason="invalid_auth", now=NOW, token="xoxb-1")
    assert not db.call(
        workspaces.pause, team_id=TEAM, reason="invalid_auth", now=NOW, token="xoxb-1"
    )
    assert statuses(db, TEAM) == {"held": 1}
    # Planned after the pause: still never claimed.
    plan(db, TEAM, "c")
    claimed = db.call(outbox.claim_due, now=NOW + timedelta(hours=1), worker="w")
    assert [m.team_id for m in claimed] == [OTHER]
    state = db.call(workspaces.get, team_id=TEAM)
    assert state.status == "paused" and state.dead_token == workspaces.token_fingerprint("xoxb-1")
    with db.session() as session:
        assert session.scalar(select(Person.tips_planned_until)) is None


def test_uninstall_wins_over_pause_and_keeps_its_first_date(db: Database) -> None:
    with db.session() as session:
        session.add(
            Installation(
                team_id=TEAM, bot_token="xoxb-1", bot_user_id="UB", installed_at=NOW, data={}
            )
        )
    db.call(workspaces.pause, team_id=TEAM, reason="invalid_auth", now=NOW, token=None)
    db.call(installations.forget, team_id=TEAM, reason="app_uninstalled", now=NOW)
    db.call(workspaces.uninstall, team_id=TEAM, reason="tokens_revoked", now=NOW + timedelta(1))
    db.call(workspaces.pause, team_id=TEAM, reason="account_inactive", now=NOW, token=None)
    state = db.call(workspaces.get, team_id=TEAM)
    assert state.status == "uninstalled" and state.since == NOW
    assert state.dead_token == workspaces.token_fingerprint("xoxb-1")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Installation)) == 0


def test_resume_releases_fresh_messages_and_replans_tips(db: Database) -> None:
    plan(db, TEAM, "fresh", due=NOW)
    plan(db, TEAM, "stale", due=NOW - timedelta(days=2))
    with db.session() as session:
        session.add(Person(team_id=TEAM, user_id="U1", tips_planned_until=NOW))
        session.add(Person(team_id=TEAM, user_id="U2", tips_enabled=False))
        session.add(Person(team_id=TEAM, user_id="U3", blocked_at=NOW))
    db.call(workspaces.uninstall, team_id=TEAM, reason="app_uninstalled", now=NOW)

    later = NOW + timedelta(hours=3)
    assert db.call(workspaces.resume, team_id=TEAM, now=later)
    assert not db.call(workspaces.resume, team_id=TEAM, now=later)

    assert db.call(workspaces.is_active, team_id=TEAM)
    assert statuses(db, TEAM) == {"pending": 1, "cancelled": 1}
    with db.session() as session:
        planned = {
            u: t for u, t in session.execute(select(Person.user_id, Person.tips_planned_until))
        }
    assert planned == {"U1": later, "U2": None, "U3": None}


def test_purge_deletes_every_table_of_that_workspace_only(db: Database) -> None:
    for team in (TEAM, OTHER):
        plan(db, team, f"k-{team}")
        with db.session() as session:
            session.add(Person(team_id=team, user_id="U1"))
            session.add(
                Pair(
                    team_id=team,
                    mentor_id="U1",
                    mentee_id="U2",
                    inviter_id="U1",
                    status="active",
                    created_at=NOW,
                )
            )
    db.call(workspaces.uninstall, team_id=TEAM, reason="app_uninstalled", now=NOW)
    retention = timedelta(days=30)

    assert (
        db.call(workspaces.purge_expired, now=NOW + timedelta(days=29), retention=retention) == []
    )
    assert db.call(workspaces.purge_expired, now=NOW + retention, retention=retention) == [TEAM]

    with db.session() as session:
        for table in Base.metadata.sorted_tables:
            if "team_id" not in table.c:
                continue
            teams = set(session.scalars(select(table.c.team_id)))
            assert TEAM not in teams, table.name
        assert set(session.scalars(select(Person.team_id))) == {OTHER}
        assert set(session.scalars(select(ScheduledMessage.team_id))) == {OTHER}


def test_many_workers_meeting_the_same_dead_token_at_once(db: Database) -> None:
    plan(db, TEAM, "a")
    barrier = threading.Barrier(6)
    fresh: list[bool] = []
    errors: list[BaseException] = []

    def meet() -> None:
        try:
            barrier.wait(5)
            fresh.append(
                db.call(workspaces.pause, team_id=TEAM, reason="token_revoked", now=NOW, token="t")
            )
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=meet) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(fresh) == [False] * 5 + [True]
    assert statuses(db, TEAM) == {"held": 1}
