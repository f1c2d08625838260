"""**Set our goals** (the button and its modal) and the mentee's progress taps.

Thin, as every listener: the use case (one transaction: the change and the goal
card's outbox row), the ack, then the sender. Opening the modal runs after the ack
(a trigger_id lasts 3 s).
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.buttons import parse_pair
from bot.deps import Deps
from bot.domain.goals import parse_progress_value, plan_seen
from bot.ids import Action, View
from bot.listeners.common import (
    commit_then_ack,
    metadata,
    metadata_int,
    open_modal_after_ack,
    surface_of,
    team_of,
)
from bot.listeners.home import home_of
from bot.services import goals
from bot.views.goals import goals_form_errors, goals_modal, read_goals_form


def register(app: AsyncApp) -> None:
    app.action(Action.OPEN_GOALS)(handle_open_goals)
    app.action(re.compile(f"^{Action.GOAL_PROGRESS}:"))(handle_goal_progress)
    app.view(View.GOALS)(handle_goals_submit)


async def handle_open_goals(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Any,
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    """Only a member of that active pair opens the form (others hear why, kindly);
    it opens filled with what the pair saved before."""
    pair_id = parse_pair(action.get("value"))
    saved, agreement = await deps.db.run(
        goals.goals_form,
        team_id=team_of(body, context),
        pair_id=pair_id,
        user_id=body["user"]["id"],
    )
    await ack()
    view = goals_modal(
        deps.content,
        pair_id=pair_id,
        goals=saved,
        agreement=agreement,
        seen=plan_seen(saved, agreement),
    )
    opening = client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())
    open_modal_after_ack(deps, opening, client, body, respond)


async def handle_goals_submit(
    ack: Any,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    """Checked on the server (lengths, dates, choices: a forged form skips the modal's
    limits); problems go back into the form, nothing saved."""
    pair_id = metadata_int(view, "pair_id")
    typed, agreement = read_goals_form(view)
    seen = metadata(view).get("seen")  # what the form opened on
    team_id, user_id = team_of(body, context), body["user"]["id"]
    problems = await deps.db.run(
        goals.save_goals,
        team_id=team_id,
        pair_id=pair_id,
        user_id=user_id,
        goals=typed,
        agreement=agreement,
        now=deps.clock(),
        # Home shows the goals too: refreshed for the one who saved (an outbox row).
        home=home_of(deps, team_id, user_id),
        seen=seen if isinstance(seen, str) else None,
    )
    if problems:
        await ack(response_action="errors", errors=goals_form_errors(problems))
        return
    await ack()
    deps.wake_scheduler()


async def handle_goal_progress(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    """One tap of progress on a goal, by the mentee of that pair, in the poll that asked:
    saved, the goal card updated and the poll redrawn with the tap marked."""
    tap = parse_progress_value(action.get("value"))
    await commit_then_ack(
        deps,
        ack,
        goals.record_goal_progress,
        team_id=team_of(body, context),
        user_id=body["user"]["id"],
        tap=tap,
        now=deps.clock(),
        response_url=body.get("response_url") if surface_of(body) == "message" else None,
    )
