"""Multi-workspace installs: installations kept in our own database.

Uninstalls and revocations (Bolt calls ``async_delete_*``) forget the workspace's
token at once, hold its scheduled messages and start the retention clock
(``bot.store.workspaces``); a new install resumes it. Requests are authorized
from this store on each request (``bot.app.StoredInstallationAuthorize``), so
no cached authorization outlives its token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.deps import Clock
from bot.store import installations
from bot.store.db import Database

STATE_TTL_SECONDS = 600

logger = logging.getLogger(__name__)


def _expires_at(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


class DatabaseInstallationStore(AsyncInstallationStore):
    def __init__(self, db: Database, *, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    @property
    def logger(self) -> logging.Logger:
        return logger

    async def async_save(self, installation: Installation) -> None:
        """An install (or reinstall): store the token and resume the workspace."""
        team_id = installation.team_id or installation.enterprise_id or ""
        await self._db.run(
            installations.save,
            team_id=team_id,
            enterprise_id=installation.enterprise_id,
            bot_token=installation.bot_token or "",
            bot_user_id=installation.bot_user_id or "",
            bot_id=installation.bot_id,
            app_id=installation.app_id,
            scopes=installation.bot_scopes,
            # Token rotation on: Slack sent a refresh token and an expiry with it.
            refresh_token=installation.bot_refresh_token,
            expires_at=_expires_at(installation.bot_token_expires_at),
            now=self._clock(),
            resume=True,
        )

    async def async_save_bot(self, bot: Bot) -> None:
        """Bolt's token rotator refreshed the bot token: keep the new pair."""
        team_id = bot.team_id or bot.enterprise_id or ""
        await self._db.run(
            installations.update_token,
            team_id=team_id,
            bot_token=bot.bot_token,
            refresh_token=bot.bot_refresh_token,
            expires_at=_expires_at(bot.bot_token_expires_at),
        )

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        row = await self._db.run(
            installations.find, team_id=team_id or enterprise_id or "", active_only=True
        )
        if row is None:
            return None
        return Bot(
            app_id=row.app_id,
            enterprise_id=row.enterprise_id,
            team_id=row.team_id,
            bot_token=row.bot_token,
            bot_id=row.bot_id,
            bot_user_id=row.bot_user_id,
            bot_scopes=row.scopes or "",
            bot_refresh_token=row.refresh_token,
            bot_token_expires_at=(
                None if row.expires_at is None else int(row.expires_at.timestamp())
            ),
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
            bot_scopes=bot.bot_scopes,
            bot_refresh_token=bot.bot_refresh_token,
            bot_token_expires_at=bot.bot_token_expires_at,
            user_id="",
            installed_at=bot.installed_at,
        )

    async def async_delete_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
    ) -> None:
        """The bot token was revoked (``tokens_revoked``): it is all this app holds."""
        await self._forget(team_id or enterprise_id or "", reason="tokens_revoked")

    async def async_delete_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
    ) -> None:
        if user_id:
            return  # user tokens: the app never keeps any
        await self._forget(team_id or enterprise_id or "", reason="installation deleted")

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """``app_uninstalled``."""
        await self._forget(team_id or enterprise_id or "", reason="app_uninstalled")

    async def _forget(self, team_id: str, *, reason: str) -> None:
        await self._db.run(installations.forget, team_id=team_id, reason=reason, now=self._clock())


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
