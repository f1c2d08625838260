"""A person as Slack's ``users.info`` describes them, read one way for the listeners and
the sender alike."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient


@dataclass(frozen=True)
class SlackUser:
    user_id: str
    name: str
    tz: str
    is_bot: bool
    deleted: bool
    is_admin: bool
    # The workspaces the person belongs to: their own, plus an Enterprise Grid
    # org's (``enterprise_user.teams``); empty for a stranger from another org
    # (Slack Connect), whom Slack marks ``is_stranger``.
    teams: frozenset[str] = frozenset()

    def member_of(self, team_id: str) -> bool:
        return not self.deleted and team_id in self.teams


async def fetch_user(client: AsyncWebClient, user_id: str) -> SlackUser:
    """The person who is looking at their Home. Slack's errors are raised as they come:
    the one caller (an error answer on Home) falls back to a DM on any failure."""
    response = await client.users_info(user=user_id)
    return user_from_info(user_id, response["user"])


def user_from_info(user_id: str, user: dict) -> SlackUser:
    """A ``users.info`` user object as the app reads it (the listeners' async client and
    the sender's sync one alike)."""
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or user_id
    )
    return SlackUser(
        user_id=user_id,
        name=name,
        tz=user.get("tz") or "UTC",
        is_bot=bool(user.get("is_bot")) or user_id == "USLACKBOT",
        deleted=bool(user.get("deleted")),
        is_admin=bool(user.get("is_admin") or user.get("is_owner")),
        teams=_teams(user),
    )


def _teams(user: dict) -> frozenset[str]:
    # users.info: https://docs.slack.dev/reference/methods/users.info (team_id,
    # enterprise_user.teams); Slack Connect strangers: "is_stranger".
    if user.get("is_stranger"):
        return frozenset()
    teams = set((user.get("enterprise_user") or {}).get("teams") or ())
    if user.get("team_id"):
        teams.add(user["team_id"])
    return frozenset(t for t in teams if isinstance(t, str))
