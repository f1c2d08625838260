"""OAuth installations: one bot token per workspace, with its refresh token when it rotates.

Both tokens are sealed at rest when the operator sets ``MENTOR_ENCRYPTION_KEY``
(``bot.store.crypto``): the session carries the cipher (``session.info["cipher"]``,
set by ``Database.cipher``), and nothing outside this module reads the columns raw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from bot.store import workspaces
from bot.store.crypto import open_sealed, seal
from bot.store.models import Installation, Workspace

# A rotating bot token is refreshed this long before it expires (the scheduler pass
# looks ahead by as much, and the sender refreshes one this close to expiry).
REFRESH_AHEAD = timedelta(minutes=120)


def _cipher(session: Session) -> Any:
    return session.info.get("cipher")


@dataclass(frozen=True)
class BotToken:
    """What an installation holds, detached from the session."""

    team_id: str
    enterprise_id: str | None
    bot_token: str
    bot_user_id: str
    bot_id: str | None
    app_id: str | None
    scopes: Any
    installed_at: datetime
    refresh_token: str | None
    expires_at: datetime | None


def find(
    session: Session, *, team_id: str, lock: bool = False, active_only: bool = False
) -> BotToken | None:
    """``active_only``: None while the workspace is paused (Slack refused this token), so
    no process authorizes a request with it, not even from a cache."""
    query = select(Installation).where(Installation.team_id == team_id)
    if active_only:
        query = query.where(~exists().where(Workspace.team_id == Installation.team_id))
    if lock:
        # Serialises token refreshes between workers (a no-op on SQLite, whose write
        # transactions are serialised anyway).
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        return None
    return BotToken(
        team_id=row.team_id,
        enterprise_id=row.enterprise_id,
        bot_token=open_sealed(_cipher(session), row.bot_token) or "",
        bot_user_id=row.bot_user_id,
        bot_id=row.bot_id,
        app_id=row.data.get("app_id"),
        scopes=row.data.get("scopes"),
        installed_at=row.installed_at,
        refresh_token=open_sealed(_cipher(session), row.bot_refresh_token),
        expires_at=row.bot_token_expires_at,
    )


def save(
    session: Session,
    *,
    team_id: str,
    enterprise_id: str | None,
    bot_token: str,
    bot_user_id: str,
    bot_id: str | None,
    app_id: str | None,
    scopes: Any,
    refresh_token: str | None,
    expires_at: datetime | None,
    now: datetime,
    resume: bool,
) -> None:
    """Insert or replace the workspace's installation. ``resume``: a (re)install, so a
    paused or uninstalled workspace sends again."""
    row = session.scalars(select(Installation).where(Installation.team_id == team_id)).first()
    if row is None:
        row = Installation(team_id=team_id, installed_at=now)
        session.add(row)
    row.enterprise_id = enterprise_id
    row.bot_token = seal(_cipher(session), bot_token) or ""
    row.bot_user_id = bot_user_id
    row.bot_id = bot_id
    row.data = {"app_id": app_id, "scopes": scopes}
    row.bot_refresh_token = seal(_cipher(session), refresh_token)
    row.bot_token_expires_at = expires_at
    if resume:
        row.installed_at = now
        session.flush()
        workspaces.resume(session, team_id=team_id, now=now)


def update_token(
    session: Session,
    *,
    team_id: str,
    bot_token: str,
    refresh_token: str | None,
    expires_at: datetime | None,
) -> None:
    """A refreshed token (token rotation) replaces the old one."""
    row = session.scalars(select(Installation).where(Installation.team_id == team_id)).first()
    if row is not None:
        row.bot_token = seal(_cipher(session), bot_token) or ""
        row.bot_refresh_token = seal(_cipher(session), refresh_token)
        row.bot_token_expires_at = expires_at


def expiring(session: Session, *, before: datetime) -> list[str]:
    """Workspaces whose rotating bot token expires before ``before``."""
    return list(
        session.scalars(
            select(Installation.team_id).where(
                Installation.bot_refresh_token.is_not(None),
                Installation.bot_token_expires_at.is_not(None),
                Installation.bot_token_expires_at < before,
            )
        )
    )


def bot_token(session: Session, *, team_id: str) -> str | None:
    stored = session.scalar(select(Installation.bot_token).where(Installation.team_id == team_id))
    return open_sealed(_cipher(session), stored)


def check_readable(session: Session) -> None:
    """Raise ``SealedTokenError`` if a stored token cannot be opened with the session's
    keys (a key removed too soon, or none set for sealed tokens)."""
    cipher = _cipher(session)
    for token, refresh in session.execute(
        select(Installation.bot_token, Installation.bot_refresh_token)
    ):
        open_sealed(cipher, token)
        open_sealed(cipher, refresh)


def reencrypt(session: Session) -> int:
    """Seal every stored token with the first key (``mentor-bot db reencrypt``), plaintext
    ones included; returns how many installations were rewritten."""
    cipher = _cipher(session)
    if cipher is None:
        raise ValueError("MENTOR_ENCRYPTION_KEY is not set: there is no key to encrypt with")
    rows = list(session.scalars(select(Installation).order_by(Installation.id).with_for_update()))
    for row in rows:
        row.bot_token = cipher.reseal(row.bot_token) or ""
        row.bot_refresh_token = cipher.reseal(row.bot_refresh_token)
    session.flush()
    return len(rows)


def forget(session: Session, *, team_id: str, reason: str, now: datetime) -> None:
    """The app was uninstalled or its bot token revoked: delete the installation and
    mark the workspace uninstalled, remembering which token died."""
    row = find(session, team_id=team_id)
    workspaces.uninstall(
        session,
        team_id=team_id,
        reason=reason,
        now=now,
        token=row.bot_token if row is not None else None,
    )
