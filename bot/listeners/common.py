"""What every listener module shares: reporting failures of work done after the ack."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.domain.errors import UserError

logger = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side. Please try again in a minute."


def report_with(respond: Any) -> Callable[[BaseException], Awaitable[None]]:
    """Tell the person what went wrong after the ack, through the request's response_url."""

    async def report(error: BaseException) -> None:
        if isinstance(error, UserError):
            message = str(error)
        else:
            logger.error("background work failed: %s", error, exc_info=error)
            message = SORRY
        if respond is not None:
            await respond(text=message, response_type="ephemeral", replace_original=False)

    return report


def team_of(body: dict[str, Any], context: Any) -> str:
    return (
        context.get("team_id")
        or (body.get("team") or {}).get("id")
        or body.get("team_id")
        or (body.get("user") or {}).get("team_id")
        or ""
    )
