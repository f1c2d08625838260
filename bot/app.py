"""create_app: wires settings, content, database and listeners into a Bolt app."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.config import Settings
from bot.content import Content, load_content
from bot.deps import Clock, Deps, utc_now
from bot.domain.errors import UserError
from bot.listeners import actions, care, commands, events, goals, lifecycle, program, views
from bot.listeners.common import error_modal, tell
from bot.logs import bolt_logger, quiet_libraries
from bot.metrics import CURRENT_TEAM, Metrics
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


def retry_handlers(metrics: Metrics | None = None) -> list[Any]:
    # Slack asks clients to wait Retry-After on 429 and to retry brief 5xx and
    # connection failures; slack_sdk's handlers do exactly that. With ``metrics``
    # every 429 is also counted for the request's workspace.
    return [
        metrics.counting_async_handler(max_retry_count=3)
        if metrics is not None
        else AsyncRateLimitErrorRetryHandler(max_retry_count=3),
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
    if settings.encryption_keys:
        deps.db.cipher = settings.cipher  # stored bot tokens are sealed with it
    deps.metrics.watch_outbox(deps.db, clock)
    quiet_libraries()  # request bodies that libraries log at DEBUG are never emitted
    client = AsyncWebClient(
        token=None if settings.oauth_enabled else settings.bot_token,
        base_url=settings.api_url,
        retry_handlers=retry_handlers(deps.metrics),
    )
    oauth_settings = None
    authorize = None
    installation_store = None
    if settings.oauth_enabled:
        from bot.oauth import DatabaseInstallationStore, SignedStateStore

        installation_store = DatabaseInstallationStore(deps.db, clock=clock)
        oauth_settings = AsyncOAuthSettings(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            scopes=BOT_SCOPES,
            installation_store=installation_store,
            # The app keeps bot tokens only: find_bot, one query a request.
            installation_store_bot_only=True,
            state_store=SignedStateStore(secret=settings.client_secret or ""),
            install_path="/slack/install",
            redirect_uri_path="/slack/oauth_redirect",
        )
        authorize = StoredInstallationAuthorize(settings, installation_store, client)
    app = AsyncApp(
        client=client,
        logger=bolt_logger(),
        signing_secret=settings.signing_secret or "socket-mode-does-not-sign",
        oauth_settings=oauth_settings,
        authorize=authorize,
        # Listeners ack as soon as they know the answer and hand slow work to
        # Background; waiting for the listener avoids Bolt's 10 ms ack polling.
        process_before_response=True,
        request_verification_enabled=not settings.socket_mode,
        # A request no listener takes (a button from an older version, an unknown
        # modal) reaches _answer_error, which answers 200 and says so, instead of
        # Bolt's bare 404.
        raise_error_for_unhandled_request=True,
    )
    app.use(_Prepare(deps))
    commands.register(app)
    actions.register(app)
    views.register(app)
    events.register(app)
    lifecycle.register(app, installation_store)
    program.register(app)
    goals.register(app)
    care.register(app)
    app.error(_answer_error)
    return app, deps


class StoredInstallationAuthorize(AsyncAuthorize):
    """Authorizes each request from the stored installation, with no Slack call.

    Bolt's installation-store authorize checks a token with ``auth.test`` the
    first time it sees it (and without its cache, on every request), which is a
    Slack call before the ack. Everything ``auth.test`` would say is stored at
    install time (team, bot user and bot id, scopes), so a request costs one
    ``find_bot`` query; a deleted or paused installation is found by that query,
    so nothing outlives its token. A dead token shows at the first Slack call,
    and the workspace is paused then (bot/store/workspaces.py).

    Token rotation: the scheduler pass refreshes stored tokens ahead of their
    expiry; only a token within minutes of expiring is refreshed here, before
    the ack, with Bolt's own rotator.
    """

    ROTATE_MINUTES_BEFORE = 10

    def __init__(self, settings: Settings, store: Any, client: AsyncWebClient) -> None:
        self.store = store
        self.rotator = AsyncTokenRotator(
            client_id=settings.client_id or "",
            client_secret=settings.client_secret or "",
            client=client,
        )

    async def __call__(
        self,
        *,
        context: Any,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
    ) -> AuthorizeResult | None:
        bot = await self.store.async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=context.is_enterprise_install,
        )
        if bot is None:
            return None
        if bot.bot_refresh_token is not None:
            try:
                refreshed = await self.rotator.perform_bot_token_rotation(
                    bot=bot, minutes_before_expiration=self.ROTATE_MINUTES_BEFORE
                )
            except SlackTokenRotationError as error:
                logger.error("workspace %s: token rotation failed: %s", bot.team_id, error)
                return None
            if refreshed is not None:
                await self.store.async_save_bot(refreshed)
                bot = refreshed
        return AuthorizeResult(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            bot_user_id=bot.bot_user_id,
            bot_id=bot.bot_id,
            bot_token=bot.bot_token,
            bot_scopes=bot.bot_scopes,
            user_id=user_id,
        )


class _Prepare(AsyncMiddleware):
    """One middleware for every request: hand listeners their dependencies, and drop
    events Slack redelivers (Bolt does not in HTTP mode; the event_id is the key).

    A class, not a function: Bolt calls a class's ``async_process`` as it is, while a
    function middleware gets its arguments injected, which builds every argument Bolt
    could inject on every request (about 0.012 ms, 8 % of a ``help`` ack's CPU, by
    ``bench/dispatch_cpu.py``)."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],  # Bolt passes it by this name
    ) -> BoltResponse | None:
        deps, body, context = self._deps, req.body, req.context
        context["deps"] = deps
        CURRENT_TEAM.set(context.get("team_id") or "")  # whose 429s these calls meet
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


async def _answer_error(
    error: Exception,
    body: dict[str, Any],
    response: BoltResponse | None,
    respond: Any,
    client: Any,
    context: Any,
) -> None:
    """The one place that turns errors into what the person sees.

    Always HTTP 200 with something readable: a slash command's answer in the
    response, a modal's in the modal (``response_action: update``); a button's
    after the ack (Bolt runs this before it answers Slack), through its
    response_url or, in App Home and modals which have none, in the view or a DM.
    """
    if isinstance(error, BoltUnhandledRequestError):
        logger.info("no listener for a %s request", body.get("type") or "slash command")
        message = "That is not something I know how to do, so I left everything as it was."
    elif not isinstance(error, UserError):
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
        deps = context.get("deps") if context is not None else None
        if kind == "block_actions" and deps is not None and client is not None:
            deps.background.spawn(tell(deps, client, body, respond, message))
