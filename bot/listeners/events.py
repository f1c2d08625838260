"""Events API: App Home."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.listeners.common import commit_then_ack, team_of
from bot.listeners.home import home_of
from bot.services import answers


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(handle_home_opened)


async def handle_home_opened(
    ack: Any,
    body: dict[str, Any],
    event: dict[str, Any],
    client: Any,
    context: Any,
    deps: Deps,
) -> None:
    if event.get("tab", "home") != "home":
        await ack()
        return
    # Held messages resume (they are talking to us) and the Home is published by the
    # sender, from an outbox row written in the same transaction.
    await commit_then_ack(
        deps,
        ack,
        answers.home_opened,
        home_of(deps, team_of(body, context), event["user"]),
        now=deps.clock(),
    )
