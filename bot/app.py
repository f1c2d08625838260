"""create_app: wires settings, content, database and listeners into a Bolt app."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.config import Settings
from bot.content import Content, load_content
from bot.deps import Clock, Deps, utc_now
from bot.domain.errors import UserError
from bot.listeners import actions, commands, events, program, views
from bot.store.db import Database
from bot.store.repo import remember_event

logger = logging.getLogger(__name__)

# Keep in step with manifest.yml (a test compares them).
BOT_SCOPES = ["chat:write", "commands", "files:write", "im:write", "mpim:write", "users:read"]


class SharedSessionRespond:
    """``respond`` as Bolt offers it, over the app's keep-alive HTTP session."""

    def __init__(self, url: str, session: Any) -> None:
        # Most requests never respond this way; the client is built on first use.
        self._url = url
        self._session = session

    async def __call__(
        self,
        text: str | None = None,
        blocks: list[Any] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        **extra: Any,
    ) -> Any:
        webhook = AsyncWebhookClient(
            self._url, session=self._session, retry_handlers=retry_handlers()
        )
        return await webhook.send(
            text=text,
            blocks=blocks,
            response_type=response_type,
            replace_original=replace_original,
            delete_original=delete_original,
            **extra,
        )


def retry_handlers() -> list[Any]:
    # Slack asks clients to wait Retry-After on 429 and to retry brief 5xx and
    # connection failures; slack_sdk's handlers do exactly that.
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        AsyncServerErrorRetryHandler(max_retry_count=3),
        AsyncConnectionErrorRetryHandler(max_retry_count=3),
    ]


def create_app(
    settings: Settings,
    *,
    content: Content | None = None,
    db: Database | None = None,
    clock: Clock = utc_now,
) -> tuple[AsyncApp, Deps]:
    deps = Deps(
        settings=settings,
        content=content or load_content(settings.content_dir),
        db=db or Database(settings.database_url),
        clock=clock,
    )
    client = AsyncWebClient(
        token=None if settings.oauth_enabled else settings.bot_token,
        base_url=settings.api_url,
        retry_handlers=retry_handlers(),
    )
    oauth_settings = None
    if settings.oauth_enabled:
        from bot.oauth import DatabaseInstallationStore, SignedStateStore

        oauth_settings = AsyncOAuthSettings(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            scopes=BOT_SCOPES,
            installation_store=DatabaseInstallationStore(deps.db, clock=clock),
            state_store=SignedStateStore(secret=settings.client_secret or ""),
            install_path="/slack/install",
            redirect_uri_path="/slack/oauth_redirect",
        )
    app = AsyncApp(
        client=client,
        signing_secret=settings.signing_secret or "socket-mode-does-not-sign",
        oauth_settings=oauth_settings,
        # Listeners ack as soon as they know the answer and hand slow work to
        # Background; waiting for the listener avoids Bolt's 10 ms ack polling.
        process_before_response=True,
        request_verification_enabled=not settings.socket_mode,
    )
    app.use(_prepare(deps))
    commands.register(app)
    actions.register(app)
    views.register(app)
    events.register(app)
    program.register(app)
    app.error(_answer_error)
    return app, deps


def _prepare(deps: Deps) -> Callable[..., Any]:
    """One middleware for every request: hand listeners their dependencies, and drop
    events Slack redelivers (Bolt does not in HTTP mode; the event_id is the key)."""

    async def prepare(body: dict[str, Any], context: Any, next: Callable[[], Any]) -> Any:
        context["deps"] = deps
        response_url = context.get("response_url")
        session = getattr(context.get("client"), "session", None)
        if response_url and session is not None:
            # Bolt's own respond() opens a new HTTP session per call; reuse the app's.
            context["respond"] = SharedSessionRespond(response_url, session)
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            team_id = body.get("team_id") or context.get("team_id") or ""
            first = await deps.db.run(
                lambda s: remember_event(s, team_id=team_id, event_id=event_id, now=deps.clock())
            )
            if not first:
                logger.info("skipping redelivered event %s", event_id)
                return BoltResponse(status=200, body="")
        return await next()

    return prepare


async def _answer_error(
    error: Exception, body: dict[str, Any], response: BoltResponse | None, respond: Any
) -> None:
    """The one place that turns errors into what the person sees."""
    if not isinstance(error, UserError):
        logger.error("unhandled error: %s", error, exc_info=error)
        message = "Sorry, something went wrong on my side. Please try again in a minute."
    else:
        message = str(error)
    if response is None:
        return
    response.status = 200
    kind = body.get("type")
    if kind == "view_submission":
        response.headers["content-type"] = ["application/json"]
        response.body = json.dumps({"response_action": "update", "view": error_modal(message)})
    elif body.get("command"):
        response.headers["content-type"] = ["application/json"]
        response.body = json.dumps({"response_type": "ephemeral", "text": message})
    else:
        response.body = ""
        if respond is not None:
            await respond(text=message, response_type="ephemeral", replace_original=False)


def error_modal(message: str) -> dict[str, Any]:
    from bot.views.common import section

    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Mentor Bot"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [section(message).to_dict()],
    }
