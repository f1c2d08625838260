"""Publishing App Home, shared by the event and by actions that change what it shows."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.errors import UserError
from bot.domain.permissions import is_coordinator
from bot.services import coaching
from bot.services.overview import overview
from bot.services.program import coordinator_overview
from bot.slackapi import fetch_user
from bot.views.home import home_view


async def publish_home(
    deps: Deps, client: AsyncWebClient, team_id: str, user_id: str, *, notice: str | None = None
) -> None:
    """Publish the person's Home; ``notice``: a line on top answering what they just did
    there (Home's buttons have no response_url to answer through)."""
    now = deps.clock()
    # One users.info answers both "which zone?" (for someone the bot has not met yet)
    # and "a Slack admin?" (coordinators see the program's figures).
    slack_user = await fetch_user(client, user_id)
    await deps.db.run(coaching.resume_if_paused, team_id=team_id, user_id=user_id, now=now)
    data = await deps.db.run(
        overview,
        team_id=team_id,
        user_id=user_id,
        now=now,
        default_tip_minute=deps.default_tip_minute,
        default_tz=slack_user.tz,
    )
    figures = report = None
    if is_coordinator(
        user_id,
        admins=deps.settings.admins,
        slack_admin=slack_user.is_admin,
        member=slack_user.member_of(team_id),
    ):
        figures, report = await deps.db.run(
            coordinator_overview,
            team_id=team_id,
            now=now,
            viewer=user_id,  # their own answers never count in what they see
            minimum=deps.content.settings.privacy_minimum_people,
        )
    view = home_view(data, figures=figures, report=report, notice=notice)
    await client.views_publish(user_id=user_id, view=view.to_dict())


async def is_coordinator_user(
    deps: Deps, client: AsyncWebClient, team_id: str, user_id: str
) -> bool:
    """In MENTOR_ADMINS, or a Slack workspace admin or owner, and a member of this
    workspace. It asks Slack (users.info), so it runs after the ack."""
    try:
        slack_user = await fetch_user(client, user_id)
    except UserError:  # users.info: user_not_found, i.e. not in this workspace
        return False
    return is_coordinator(
        user_id,
        admins=deps.settings.admins,
        slack_admin=slack_user.is_admin,
        member=slack_user.member_of(team_id),
    )
