"""Buttons of care before a pair fails: the private 30-day check-in (1–5, "this isn't
working for me"), the blame-free exit offer, and "match me again".

Each press runs its use case (``bot.services.care``: one transaction with every message
it causes), acks, and wakes the sender. A refusal (someone else's pair, a button that
was never sent to them, a pairing already ended) is a ``UserError``, which the app's
one error handler shows to the person; nothing changes.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.buttons import parse_pair
from bot.deps import Deps
from bot.domain.care import parse_exit_value, parse_score_value
from bot.ids import Action
from bot.listeners.common import commit_then_ack, team_of
from bot.services import care


def register(app: AsyncApp) -> None:
    app.action(re.compile(f"^{Action.CHECKIN_SCORE}:"))(handle_checkin_score)
    app.action(Action.CHECKIN_NOT_WORKING)(handle_not_working)
    app.action(re.compile(f"^{Action.EXIT_CHOICE}:"))(handle_exit_choice)
    app.action(Action.REJOIN_POOL)(handle_rejoin_pool)


async def handle_checkin_score(
    ack: Any, body: dict[str, Any], action: dict[str, Any], context: Any, deps: Deps
) -> None:
    """1–5: kept for that member only; the check-in is updated in place to show it."""
    pair_id, score = parse_score_value(action.get("value"))
    await commit_then_ack(
        deps,
        ack,
        care.record_score,
        team_id=team_of(body, context),
        pair_id=pair_id,
        user_id=body["user"]["id"],
        score=score,
        now=deps.clock(),
    )


async def handle_not_working(
    ack: Any, body: dict[str, Any], action: dict[str, Any], context: Any, deps: Deps
) -> None:
    await commit_then_ack(
        deps,
        ack,
        care.not_working,
        team_id=team_of(body, context),
        pair_id=parse_pair(action.get("value")),
        user_id=body["user"]["id"],
        now=deps.clock(),
    )


async def handle_exit_choice(
    ack: Any, body: dict[str, Any], action: dict[str, Any], context: Any, deps: Deps
) -> None:
    pair_id, choice = parse_exit_value(action.get("value"))
    await commit_then_ack(
        deps,
        ack,
        care.exit_choice,
        team_id=team_of(body, context),
        pair_id=pair_id,
        user_id=body["user"]["id"],
        choice=choice,
        coordinators=deps.settings.admins,
        now=deps.clock(),
    )


async def handle_rejoin_pool(
    ack: Any, body: dict[str, Any], action: dict[str, Any], context: Any, deps: Deps
) -> None:
    await commit_then_ack(
        deps,
        ack,
        care.rejoin_pool,
        team_id=team_of(body, context),
        pair_id=parse_pair(action.get("value")),
        user_id=body["user"]["id"],
        content=deps.content,
        now=deps.clock(),
        response_url=body.get("response_url"),
    )
