"""A workspace's standing with Slack: paused, uninstalled, resumed, purged.

One row per workspace that is *not* active (``models.Workspace``): while it
exists, nothing is sent there. Its scheduled messages are held (status
``held``), its people's tips stop being planned, and claims skip whatever is
planned meanwhile (``outbox.claim_due``). A reinstall (a new installation saved)
or a new token resumes it; a workspace Slack said was uninstalled is deleted
after the retention period.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store import outbox
from bot.store.models import Base, Installation, Person, ScheduledMessage, Workspace

PAUSED = "paused"
UNINSTALLED = "uninstalled"


def token_fingerprint(token: str | None) -> str | None:
    """A short, one-way mark of a token: enough to tell a new token from a dead one."""
    if not token:
        return None
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def get(session: Session, *, team_id: str) -> Workspace | None:
    return session.scalars(select(Workspace).where(Workspace.team_id == team_id)).first()


def is_active(session: Session, *, team_id: str) -> bool:
    return get(session, team_id=team_id) is None


def not_active(session: Session) -> list[tuple[str, str, str | None]]:
    """(team_id, status, dead token fingerprint) of every workspace not active."""
    rows = session.execute(select(Workspace.team_id, Workspace.status, Workspace.dead_token))
    return [(team, status, dead) for team, status, dead in rows]


def pause(session: Session, *, team_id: str, reason: str, now: datetime, token: str | None) -> bool:
    """Slack refused the workspace's bot token: hold everything until a new one.

    Returns True when the workspace was active until now. An uninstalled
    workspace stays uninstalled (its retention clock keeps running).
    """
    row, fresh = _row(session, team_id=team_id, status=PAUSED, reason=reason, now=now)
    if row.status == PAUSED:
        row.reason = reason[:64]
        row.dead_token = token_fingerprint(token) or row.dead_token
    _hold(session, team_id=team_id)
    session.flush()
    return fresh


def uninstall(
    session: Session, *, team_id: str, reason: str, now: datetime, token: str | None = None
) -> None:
    """Slack says the app is gone from the workspace (``app_uninstalled``, or its bot
    token revoked): forget the installation at once, hold everything, and start the
    retention clock (kept from the first time if Slack says it twice). ``token``: the
    dead token, whose fingerprint is kept (``installations.forget`` passes the stored one).
    """
    session.execute(delete(Installation).where(Installation.team_id == team_id))
    row, _fresh = _row(session, team_id=team_id, status=UNINSTALLED, reason=reason, now=now)
    if row.status != UNINSTALLED:
        row.status = UNINSTALLED
        row.since = now
    row.reason = reason[:64]
    row.dead_token = token_fingerprint(token) or row.dead_token
    _hold(session, team_id=team_id)
    session.flush()


def resume(session: Session, *, team_id: str, now: datetime) -> bool:
    """A reinstall or a new token: send again. Held messages that went stale meanwhile
    (due more than a day ago, as when a person is resumed) are dropped; tips are
    planned afresh. Returns True if the workspace was paused or uninstalled."""
    row = get(session, team_id=team_id)
    if row is None:
        return False
    session.delete(row)
    held = (ScheduledMessage.team_id == team_id, ScheduledMessage.status == "held")
    outbox.cancel_where(
        session,
        *held,
        ScheduledMessage.due_at < now - timedelta(days=1),
        # forget-me's deletions in Slack never go stale: they still have to happen.
        ScheduledMessage.kind != "slack_delete",
        last_error="stale after the workspace was paused",
    )
    session.execute(
        update(ScheduledMessage)
        .where(*held)
        .values(status="pending", last_error=None)
        .execution_options(synchronize_session=False)
    )
    # The planner decides again who gets tips (active pair, tips on, not blocked).
    session.execute(
        update(Person)
        .where(Person.team_id == team_id, Person.tips_enabled, Person.blocked_at.is_(None))
        .values(tips_planned_until=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return True


def purge_expired(session: Session, *, now: datetime, retention: timedelta) -> list[str]:
    """Delete every row of each workspace uninstalled more than ``retention`` ago,
    in every table that has a ``team_id``; returns the workspaces deleted."""
    teams = list(
        session.scalars(
            select(Workspace.team_id).where(
                Workspace.status == UNINSTALLED, Workspace.since <= now - retention
            )
        )
    )
    for team_id in teams:
        delete_workspace_data(session, team_id=team_id)
    return teams


def delete_workspace_data(session: Session, *, team_id: str) -> None:
    # Children before parents, so foreign keys hold on both databases.
    for table in reversed(Base.metadata.sorted_tables):
        if "team_id" in table.c:
            session.execute(delete(table).where(table.c.team_id == team_id))


def _row(
    session: Session, *, team_id: str, status: str, reason: str, now: datetime
) -> tuple[Workspace, bool]:
    """The workspace's row, locked; created with ``status`` if there was none (True).

    Several worker threads (and the web process) may meet the same dead token at
    once: the insert runs in a savepoint, and the loser reads the winner's row.
    """
    query = select(Workspace).where(Workspace.team_id == team_id).with_for_update()
    row = session.scalars(query).first()
    if row is not None:
        return row, False
    try:
        with session.begin_nested():
            row = Workspace(team_id=team_id, status=status, reason=reason[:64], since=now)
            session.add(row)
        return row, True
    except IntegrityError:
        return session.scalars(query).one(), False


def _hold(session: Session, *, team_id: str) -> None:
    """Hold the workspace's pending messages and stop planning its tips.

    Rows another worker is sending right now stay theirs: Slack refuses them
    with the same error and they are held when settled.
    """
    session.execute(
        update(ScheduledMessage)
        .where(ScheduledMessage.team_id == team_id, ScheduledMessage.status == "pending")
        .values(status="held", lease_until=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Person)
        .where(Person.team_id == team_id, Person.tips_planned_until.is_not(None))
        .values(tips_planned_until=None)
        .execution_options(synchronize_session=False)
    )
