"""App Home from a listener: whose Home a use case refreshes (``home_of``: the refresh
is an outbox row, published by the sender, ``bot.scheduling.home``), and the one Home a
listener still publishes itself: an error answered where the person pressed a button."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.scheduling.home import home_page
from bot.services.answers import Home
from bot.slackapi import fetch_user


async def publish_home(
    deps: Deps, client: AsyncWebClient, team_id: str, user_id: str, *, notice: str | None = None
) -> None:
    """Publish the person's Home with ``notice`` on top: an error answering what they
    just did there (Home's buttons have no response_url to answer through). Nothing is
    changed by it; every Home shown after a change is an outbox row (``home_of``)."""
    slack_user = await fetch_user(client, user_id)
    view = await deps.db.run(
        home_page,
        content=deps.content,
        team_id=team_id,
        user_id=user_id,
        now=deps.clock(),
        slack_user=slack_user,
        admins=deps.settings.admins,
        coordinators=deps.settings.admins,
        notice=notice,
    )
    await client.views_publish(user_id=user_id, view=view)


def home_of(deps: Deps, team_id: str, user_id: str) -> Home:
    """Whose Home a use case refreshes (an outbox row: ``answers.refresh_home``)."""
    return Home(team_id=team_id, user_id=user_id, listed=user_id in deps.settings.admins)
