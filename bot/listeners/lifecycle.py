"""Events API: the app uninstalled from a workspace, or its bot token revoked.

Slack sends ``app_uninstalled`` (https://api.slack.com/events/app_uninstalled) and
``tokens_revoked`` (docs.slack.dev/reference/events/tokens_revoked; ``tokens.bot``
lists the bot users whose tokens died) in either order. Both stop the
workspace at once: the installation is deleted, scheduled messages are held,
cached authorizations are dropped, and the data is deleted after
``MENTOR_UNINSTALL_RETENTION_DAYS`` unless the app is installed again.
Bolt answers these events without an ``auth.test`` (there is no live token).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.store import workspaces

logger = logging.getLogger(__name__)


def register(app: AsyncApp, installation_store: Any | None) -> None:
    """``installation_store``: the OAuth store (None in single-workspace mode)."""

    # Each acks once its change is committed: Slack does not send an acknowledged event
    # again, so a process killed between the two would keep sending as if installed.
    async def app_uninstalled(ack: Any, body: dict[str, Any], context: Any, deps: Deps) -> None:
        team_id = _team(body, context)
        if installation_store is not None:
            await installation_store.async_delete_all(
                enterprise_id=context.get("enterprise_id"), team_id=team_id
            )
        else:
            await _forget_single(deps, team_id, reason="app_uninstalled")
        await ack()
        logger.warning("workspace %s uninstalled the app: sending stopped", team_id)

    async def tokens_revoked(
        ack: Any, body: dict[str, Any], event: dict[str, Any], context: Any, deps: Deps
    ) -> None:
        team_id = _team(body, context)
        if not (event.get("tokens") or {}).get("bot"):
            await ack()
            return  # user tokens only: the app keeps none
        if installation_store is not None:
            await installation_store.async_delete_bot(
                enterprise_id=context.get("enterprise_id"), team_id=team_id
            )
        else:
            await _forget_single(deps, team_id, reason="tokens_revoked")
        await ack()
        logger.warning("workspace %s revoked the bot token: sending stopped", team_id)

    app.event("app_uninstalled")(app_uninstalled)
    app.event("tokens_revoked")(tokens_revoked)


def _team(body: dict[str, Any], context: Any) -> str:
    return body.get("team_id") or context.get("team_id") or ""


async def _forget_single(deps: Deps, team_id: str, *, reason: str) -> None:
    # Single-workspace mode: the token is SLACK_BOT_TOKEN; a different one resumes.
    await deps.db.run(
        workspaces.uninstall,
        team_id=team_id,
        reason=reason,
        now=deps.clock(),
        token=deps.settings.bot_token,
    )
