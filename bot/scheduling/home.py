"""One person's App Home, built in one unit of work: what the ``home_refresh`` delivery
publishes (and the error answer on Home, ``bot.listeners.home.publish_home``).

Who the person is in Slack (time zone, admin, member of this workspace) is asked
by the caller (``users.info``) and passed in; everything else is read here.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.content import Content
from bot.domain.permissions import is_coordinator
from bot.services import goals
from bot.services.overview import overview
from bot.services.program import coordinator_overview
from bot.slackapi import SlackUser
from bot.views.home import home_view


def home_page(
    session: Session,
    *,
    content: Content,
    team_id: str,
    user_id: str,
    now: datetime,
    slack_user: SlackUser,
    admins: Collection[str],
    coordinators: Collection[str] = (),
    notice: str | None = None,
) -> dict[str, Any]:
    """The Home view (a ``views.publish`` payload) as the database holds it now.
    ``admins``: whether this person is listed in ``MENTOR_ADMINS`` (all of it, or only
    them); ``coordinators``: all of it, whose answers no figure counts."""
    tip_time = content.settings.tip_time
    data = overview(
        session,
        team_id=team_id,
        user_id=user_id,
        now=now,
        default_tip_minute=tip_time.hour * 60 + tip_time.minute,
        default_tz=slack_user.tz,
        tip_days=content.settings.tip_days,
    )
    program = None
    if is_coordinator(
        user_id,
        admins=admins,
        slack_admin=slack_user.is_admin,
        member=slack_user.member_of(team_id),
    ):
        program = coordinator_overview(
            session,
            team_id=team_id,
            now=now,
            viewer=user_id,  # never counted in what they are shown
            coordinators=coordinators,
            minimum=content.settings.privacy_minimum_people,
        )
    pair_goals = goals.home_goals(session, team_id=team_id, user_id=user_id)
    view = home_view(data, program=program, notice=notice, goals=pair_goals, content=content)
    return view.to_dict()
