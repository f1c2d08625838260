"""Multi-workspace installs: installations kept in our own database."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.deps import Clock
from bot.store.db import Database
from bot.store.models import Installation as InstallationRow

STATE_TTL_SECONDS = 600


class DatabaseInstallationStore(AsyncInstallationStore):
    def __init__(self, db: Database, *, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def async_save(self, installation: Installation) -> None:
        await self._db.run(self._save, installation)

    def _save(self, session: Session, installation: Installation) -> None:
        team_id = installation.team_id or installation.enterprise_id or ""
        row = session.scalars(
            select(InstallationRow).where(InstallationRow.team_id == team_id)
        ).first()
        if row is None:
            row = InstallationRow(team_id=team_id)
            session.add(row)
        row.enterprise_id = installation.enterprise_id
        row.bot_token = installation.bot_token or ""
        row.bot_user_id = installation.bot_user_id or ""
        row.bot_id = installation.bot_id
        row.data = {"app_id": installation.app_id, "scopes": installation.bot_scopes}
        row.installed_at = self._clock()

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        row = await self._db.run(self._find, team_id or enterprise_id or "")
        if row is None:
            return None
        return Bot(
            app_id=row.data.get("app_id"),
            enterprise_id=row.enterprise_id,
            team_id=row.team_id,
            bot_token=row.bot_token,
            bot_id=row.bot_id,
            bot_user_id=row.bot_user_id,
            installed_at=row.installed_at.timestamp(),
        )

    async def async_find_installation(self, **kwargs: Any) -> Installation | None:
        bot = await self.async_find_bot(
            enterprise_id=kwargs.get("enterprise_id"), team_id=kwargs.get("team_id")
        )
        if bot is None:
            return None
        return Installation(
            app_id=bot.app_id,
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            user_id="",
            installed_at=bot.installed_at,
        )

    @staticmethod
    def _find(session: Session, team_id: str) -> InstallationRow | None:
        return session.scalars(
            select(InstallationRow).where(InstallationRow.team_id == team_id)
        ).first()


class SignedStateStore(AsyncOAuthStateStore):
    """OAuth state signed with the client secret: no shared storage needed across processes."""

    def __init__(self, *, secret: str) -> None:
        self._key = secret.encode()

    @property
    def logger(self):  # type: ignore[no-untyped-def]
        import logging

        return logging.getLogger(__name__)

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        payload = f"{int(time.time())}.{secrets.token_urlsafe(12)}"
        return f"{payload}.{self._sign(payload)}"

    async def async_consume(self, state: str) -> bool:
        payload, _, signature = state.rpartition(".")
        if not payload or not hmac.compare_digest(signature, self._sign(payload)):
            return False
        issued = payload.split(".", 1)[0]
        return issued.isdigit() and time.time() - int(issued) <= STATE_TTL_SECONDS

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()[:32]
