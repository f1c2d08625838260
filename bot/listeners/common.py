"""What every listener module shares: reporting failures of work done after the ack."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import UserError
from bot.ids import INPUT_ACTION
from bot.views.coaching import Outgoing

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


def button_int(value: object) -> int:
    """The ID a button or menu carries; anything that is not one of ours is refused."""
    try:
        return int(str(value))
    except ValueError:
        raise UserError(
            "That button is not one of mine any more, so I left everything as it was."
        ) from None


async def post(client: AsyncWebClient, channel: str, message: Outgoing) -> Any:
    return await client.chat_postMessage(
        channel=channel, text=message.text, blocks=[b.to_dict() for b in message.blocks]
    )


def team_of(body: dict[str, Any], context: Any) -> str:
    return (
        context.get("team_id")
        or (body.get("team") or {}).get("id")
        or body.get("team_id")
        or (body.get("user") or {}).get("team_id")
        or ""
    )


# ---------------------------------------------------------------- modal submissions

FORM_GONE = "This form is not one of mine any more, so nothing was saved."


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The modal's private_metadata; a view that was not built by us is refused."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise UserError(FORM_GONE)
    return data


def metadata_int(view: dict[str, Any], key: str) -> int:
    value = metadata(view).get(key)
    if not isinstance(value, int):
        raise UserError(FORM_GONE)
    return value


def input_value(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return view.get("state", {}).get("values", {}).get(block_id, {}).get(INPUT_ACTION, {}) or {}


def input_text(view: dict[str, Any], block_id: str) -> str:
    return (input_value(view, block_id).get("value") or "").strip()


def input_instant(view: dict[str, Any], block_id: str) -> datetime | None:
    stamp = input_value(view, block_id).get("selected_date_time")
    if stamp is None:
        return None
    return datetime.fromtimestamp(int(stamp), UTC)
