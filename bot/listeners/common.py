"""What every listener module shares: reading payloads, and answering after the ack.

Listeners make no Slack call of their own for what a person must receive: a use
case writes its messages as outbox rows and the sender delivers them. What runs
on ``deps.background`` after the ack is only what Slack makes immediate and
short-lived: opening a modal (a trigger_id lives 3 s), refreshing a view, and
answering an error where the person acted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from slack_sdk.web.async_client import AsyncWebClient

from bot.buttons import MAX_ID
from bot.buttons import button_int as button_int  # re-exported: button values' checks
from bot.buttons import id_or_none as id_or_none
from bot.domain.errors import UserError
from bot.ids import INPUT_ACTION

logger = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side. Please try again in a minute."

T = TypeVar("T")


async def commit_then_ack(
    deps: Any, ack: Any, work: Callable[..., T], /, *args: Any, **kwargs: Any
) -> T:
    """The use case's one transaction, then Slack's ack, then the sender woken: once
    Slack has its 200 the work (and every message it causes, as outbox rows) is
    committed, and what is due now leaves at once. A refusal (``UserError``) raises
    before the ack and is answered as the error middleware answers it."""
    result = await deps.db.run(work, *args, **kwargs)
    await ack()
    deps.wake_scheduler()
    return result


def report_with(
    respond: Any,
    *,
    deps: Any = None,
    client: AsyncWebClient | None = None,
    body: dict[str, Any] | None = None,
) -> Callable[[BaseException], Awaitable[None]]:
    """Tell the person what went wrong after the ack: through the request's
    response_url when it has one, otherwise as ``tell`` does (the modal, Home, a DM)."""

    async def report(error: BaseException) -> None:
        if isinstance(error, UserError):
            message = str(error)
        else:
            logger.error("background work failed: %s", error, exc_info=error)
            message = SORRY
        if client is not None and body is not None:
            await tell(deps, client, body, respond, message)
        elif respond is not None:
            await respond(text=message, response_type="ephemeral", replace_original=False)
        else:
            # Not the message itself: a UserError may quote what the person typed.
            logger.warning("nobody to tell the person about a %s", type(error).__name__)

    return report


def report_to(
    deps: Any, client: AsyncWebClient, body: dict[str, Any], respond: Any
) -> Callable[[BaseException], Awaitable[None]]:
    """``report_with`` for a request whose surface may have no response_url."""
    return report_with(respond, deps=deps, client=client, body=body)


def open_modal_after_ack(
    deps: Any, opening: Any, client: AsyncWebClient, body: dict[str, Any], respond: Any
) -> None:
    """Run ``opening`` (a views.open) after the ack, ahead of other queued work: a
    trigger_id is good for 3 s ("Pass a valid trigger_id within 3 seconds of
    receiving it", docs.slack.dev/tools/bolt-python/concepts/opening-modals)."""
    deps.background.spawn(opening, on_error=report_to(deps, client, body, respond), first=True)


def message_ref(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(channel, ts) of the message a button was pressed in; (None, None) elsewhere."""
    container = body.get("container") if isinstance(body.get("container"), dict) else {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    ts = (body.get("message") or {}).get("ts") or container.get("message_ts")
    if isinstance(channel, str) and isinstance(ts, str) and channel and ts:
        return channel, ts
    return None, None


def error_modal(message: str) -> dict[str, Any]:
    from bot.views.common import notice_modal

    return notice_modal("Mentor Bot", message)


def surface_of(body: dict[str, Any]) -> str:
    """Where the person acted: "message", "modal", "home", or "" (a command, an event).

    Slack's block_actions payload names its source in ``container`` (type
    ``message``, or ``view`` with a ``view_id``) and carries the ``message`` or
    the ``view`` itself (docs.slack.dev/reference/interaction-payloads/block_actions-payload).
    """
    container = body.get("container") if isinstance(body.get("container"), dict) else {}
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    if container.get("type") == "view" or view:
        return "home" if view.get("type") == "home" else "modal"
    if container.get("type") == "message" or body.get("message"):
        return "message"
    return ""


async def tell(
    deps: Any, client: AsyncWebClient, body: dict[str, Any], respond: Any, message: str
) -> None:
    """Show ``message`` to the person who acted, where they will read it.

    Buttons in App Home and in modals come with no ``response_url`` (Slack sends
    none for view surfaces; Bolt's ``respond`` is then one that raises), so: a modal shows
    the message in place (``views.update`` with the view's id, which "will be
    available in the body of the request",
    docs.slack.dev/tools/bolt-python/concepts/updating-pushing-views); Home is
    published again with the message on top; anything else, or a failure on
    the way, becomes a DM from the bot.
    """
    user_id = str((body.get("user") or {}).get("id") or body.get("user_id") or "")
    if respond is not None and (body.get("response_url") or body.get("response_urls")):
        try:
            await respond(text=message, response_type="ephemeral", replace_original=False)
            return
        except Exception as error:  # noqa: BLE001 - an expired response_url: a DM instead
            logger.warning("response_url answer failed (%s); sending a DM", error)
    surface = surface_of(body)
    view_id = (body.get("view") or {}).get("id") if surface in ("modal", "home") else None
    try:
        if surface == "modal" and isinstance(view_id, str) and view_id:
            await client.views_update(view_id=view_id, view=error_modal(message))
            return
        if surface == "home" and deps is not None and user_id:
            from bot.listeners.home import publish_home

            await publish_home(deps, client, team_of(body, {}), user_id, notice=message)
            return
    except Exception as error:  # noqa: BLE001 - the DM below still reaches them
        logger.warning("answering in the %s failed (%s); sending a DM", surface, error)
    if user_id:
        await client.chat_postMessage(channel=user_id, text=message)


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
    except (ValueError, TypeError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise UserError(FORM_GONE)
    return data


def metadata_int(view: dict[str, Any], key: str) -> int:
    value = metadata(view).get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
        raise UserError(FORM_GONE)
    return value


def input_value(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    values = (view.get("state") or {}).get("values")
    entry = values.get(block_id) if isinstance(values, dict) else None
    entry = entry.get(INPUT_ACTION) if isinstance(entry, dict) else None
    return entry if isinstance(entry, dict) else {}


def input_text(view: dict[str, Any], block_id: str) -> str:
    value = input_value(view, block_id).get("value")
    return value.strip() if isinstance(value, str) else ""


def input_instant(view: dict[str, Any], block_id: str) -> datetime | None:
    stamp = input_value(view, block_id).get("selected_date_time")
    if stamp is None:
        return None
    try:
        return datetime.fromtimestamp(int(stamp), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise UserError(FORM_GONE) from None
