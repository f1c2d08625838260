"""Events API: App Home."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.listeners.common import team_of
from bot.listeners.home import publish_home


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(handle_home_opened)


async def handle_home_opened(
    ack: Any,
    body: dict[str, Any],
    event: dict[str, Any],
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    await ack()
    if event.get("tab", "home") != "home":
        return
    deps.background.spawn(publish_home(deps, client, team_of(body, context), event["user"]))
