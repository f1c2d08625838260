"""The HTTP face of the app: Slack's requests, the health check, OAuth install."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import ClientSession, ClientTimeout, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.middleware.authorization.async_single_team_authorization import (
    AsyncSingleTeamAuthorization,
)
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.metrics import request_kind
from bot.scheduling.sender import WORKSPACE_ERRORS

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# Slack gives up on a request after 3 s; bodies beyond Slack's own are not from Slack.
MAX_BODY = 1024 * 1024
# What serve_http gives post-ack work and open connections after the sender's 3.5 s
# at most: together they fit inside the 10 s SIGTERM allows.
SHUTDOWN_GRACE_SECONDS = 6.0
AUTH_TEST_AT_START_SECONDS = 5.0


def parse_slack_body(raw: str, content_type: str | None) -> dict[str, Any]:
    """A request body as Slack means it, never raising.

    Slack posts Events API callbacks as JSON, slash commands as a form, and
    interactive payloads as a form with one field, ``payload``, holding JSON
    (docs.slack.dev/interactivity/handling-user-interaction). Bolt's own
    ``parse_body`` (slack_bolt/request/internals.py) looks for the *substring*
    "payload" anywhere in a form body, so a slash command whose text (or any
    other field) contains that word parses to ``{}`` and is answered 404. Here
    the form is parsed first and only its ``payload`` field is read as JSON.
    """
    if not raw:
        return {}
    try:
        if content_type == "application/json" or (content_type is None and raw[:1] == "{"):
            parsed: Any = json.loads(raw)
        else:
            form = dict(parse_qsl(raw, keep_blank_values=True))
            parsed = json.loads(form["payload"]) if "payload" in form else form
    except (ValueError, RecursionError):  # not from Slack: the signature check refuses it
        return {}
    return parsed if isinstance(parsed, dict) else {}


class SlackRequest(AsyncBoltRequest):
    """Bolt's request with the body parsed by ``parse_slack_body``; the raw body
    (what the signature covers) is kept as received."""

    def __init__(
        self, *, body: str, query: Any = None, headers: Any = None, context: Any = None
    ) -> None:
        # Bolt parses nothing for an empty body; the real body is set just after.
        super().__init__(body="", query=query, headers=headers, context=context)
        self.raw_body = body
        self.body = parse_slack_body(body, self.content_type)
        self.context = build_async_context(AsyncBoltContext(context or {}), self.body)

    def to_copyable(self) -> SlackRequest:
        return SlackRequest(
            body=self.raw_body,
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
        )


async def to_slack_request(request: web.Request) -> SlackRequest:
    return SlackRequest(
        body=await request.text(),
        query=request.query_string,
        headers=request.headers,  # type: ignore[arg-type]
    )


async def check_token_early(bolt: AsyncApp) -> None:
    """Bolt checks a single workspace's bot token with ``auth.test`` on the first
    request (AsyncSingleTeamAuthorization, slack_bolt/middleware/authorization),
    i.e. while Slack waits for that request's ack; do it at start-up instead.
    A failure here is logged and Bolt tries again on the first request."""
    for middleware in getattr(bolt, "_async_middleware_list", []):
        if isinstance(middleware, AsyncSingleTeamAuthorization):
            if middleware.auth_test_result is None:
                try:
                    # Start-up waits this long at most: a Slack that does not answer
                    # must not keep the port closed (nor SIGTERM unheard).
                    async with asyncio.timeout(AUTH_TEST_AT_START_SECONDS):
                        middleware.auth_test_result = await bolt.client.auth_test()
                except SlackApiError as error:
                    code = error.response.get("error") if error.response else None
                    if code in WORKSPACE_ERRORS:
                        # The token itself: every request would fail to authorize.
                        logger.error(
                            "auth.test at start-up failed: Slack refuses SLACK_BOT_TOKEN (%s). "
                            "Check the token (OAuth & Permissions, Bot User OAuth Token) or "
                            "reinstall the app; until then every request fails.",
                            code,
                        )
                    else:
                        logger.warning("auth.test at start-up failed: %s", code or error)
                except Exception as error:  # noqa: BLE001 - Bolt retries on the first request
                    reason = type(error).__name__ if isinstance(error, TimeoutError) else error
                    logger.warning("auth.test at start-up failed: %s", reason)


def _timestamp_is_a_number(value: str | None) -> bool:
    """Slack's X-Slack-Request-Timestamp is whole seconds; a missing one Bolt refuses
    by itself (it reads "0", five minutes too old)."""
    return value is None or (value.isascii() and value.isdigit() and len(value) <= 12)


def create_web_app(bolt: AsyncApp, deps: Deps) -> web.Application:
    async def slack_events(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        kind, status = "other", 500
        try:
            with deps.background.after_response() as sent:
                try:
                    # Slack sends a whole body at once; a trickle is not Slack.
                    async with asyncio.timeout(deps.settings.http_body_seconds):
                        bolt_request = await to_slack_request(request)
                except TimeoutError:
                    status = 408
                    return web.Response(status=status, text="request body too slow")
                kind = request_kind(bolt_request.body)
                if not _timestamp_is_a_number(request.headers.get("X-Slack-Request-Timestamp")):
                    # Bolt's check reads it with int() and raises, which its error handler
                    # would answer 200: a request Slack did not sign is refused, as any.
                    status = 401
                    return web.json_response({"error": "invalid request"}, status=status)
                response = await to_aiohttp_response(await bolt.async_dispatch(bolt_request))
                # Work spawned while handling this request starts once Slack has its
                # answer on the wire, so no Slack call ever comes before the ack.
                await response.prepare(request)
                await response.write_eof()
                status = response.status
                sent()
            return response
        except web.HTTPException as error:  # 413: a body larger than Slack's
            status = error.status
            raise
        finally:
            deps.metrics.observe_request(kind, status, time.perf_counter() - started)

    async def metrics(request: web.Request) -> web.Response:
        # Operators' figures, not Slack's: the reverse proxy keeps this path internal.
        body, content_type = await asyncio.to_thread(
            deps.metrics.render, request.headers.get("Accept")
        )
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def healthz(_request: web.Request) -> web.Response:
        ok = await asyncio.to_thread(deps.db.healthy)
        return web.json_response(
            {"ok": ok, "database": "ok" if ok else "unreachable"}, status=200 if ok else 503
        )

    async def share_http_session(_app: web.Application) -> Any:
        # One keep-alive session for every Web API call instead of a new
        # connection per call (slack_sdk's default without a session). slack_sdk puts
        # its timeout (30 s) only on sessions it makes itself: without one here, a call
        # to a Slack that hangs would wait aiohttp's five minutes.
        session = ClientSession(timeout=ClientTimeout(total=bolt.client.timeout))
        bolt.client.session = session
        await check_token_early(bolt)
        yield
        bolt.client.session = None
        await session.close()

    app = web.Application(client_max_size=MAX_BODY)
    app.cleanup_ctx.append(share_http_session)
    app.router.add_post(EVENTS_PATH, slack_events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    flow = bolt.oauth_flow
    if flow is not None:

        async def oauth(request: web.Request) -> web.Response:
            bolt_request = await to_bolt_request(request)
            if request.path == flow.install_path:
                bolt_response = await flow.handle_installation(bolt_request)
            else:
                bolt_response = await flow.handle_callback(bolt_request)
            return await to_aiohttp_response(bolt_response)

        app.router.add_get(flow.install_path, oauth)
        app.router.add_get(flow.redirect_uri_path, oauth)
    return app


class _Refused(asyncio.Protocol):
    """Answers a connection past the cap with 503 and closes it, before reading it."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(
            b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
            b"Retry-After: 1\r\nContent-Length: 0\r\n\r\n"
        )
        transport.close()


class CappedTCPSite(web.TCPSite):
    """aiohttp's TCPSite with a cap on open connections.

    aiohttp has none of its own: each socket costs a handler and a file
    descriptor for as long as the idle timeout allows, so a flood of connections
    could exhaust the process. Past the cap a new connection gets 503 at once;
    the ones in flight, and /healthz once the flood's sockets time out, carry on.
    """

    def __init__(self, runner: web.BaseRunner, *args: Any, max_connections: int, **kw: Any):
        super().__init__(runner, *args, **kw)  # type: ignore[arg-type]
        self._max_connections = max_connections

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner
        server = self._runner.server
        assert server is not None
        limit = self._max_connections

        def protocol() -> asyncio.Protocol:
            if len(server.connections) >= limit:
                return _Refused()
            return server()

        self._server = await asyncio.get_running_loop().create_server(
            protocol,
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port


async def serve_http(
    web_app: web.Application,
    deps: Deps,
    *,
    port: int,
    host: str = "0.0.0.0",
    on_started: Callable[[int], None] | None = None,
    on_stopping: Callable[[], Awaitable[None]] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run until SIGTERM/SIGINT (or ``stop``), then finish work in flight and exit."""
    settings = deps.settings
    runner = web.AppRunner(
        web_app,
        access_log=None,
        shutdown_timeout=SHUTDOWN_GRACE_SECONDS / 2,
        # aiohttp arms this timer when a connection opens and after each response,
        # and closes the connection if no whole request header has arrived by then
        # (aiohttp/web_protocol.py, _process_keepalive): idle and trickling sockets
        # go, and cannot pile up against the connection cap.
        keepalive_timeout=settings.http_idle_seconds,
    )
    # Heard from the start: setting up waits for Slack's auth.test (up to
    # AUTH_TEST_AT_START_SECONDS while Slack is away), and a SIGTERM then used to kill
    # the process outright, its scheduler with it.
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread (tests)
            pass
    await runner.setup()
    if stop.is_set():  # told to stop while setting up: nothing was served
        logger.info("shutting down before serving")
        if on_stopping:
            await on_stopping()
        await runner.cleanup()
        return
    site = CappedTCPSite(
        runner,
        host,
        port,
        max_connections=settings.http_max_connections,
        backlog=1024,
        reuse_address=True,
    )
    try:
        await site.start()
    except OSError:  # the port is taken: stop what already runs, then say so (one line)
        if on_stopping:
            await on_stopping()
        await runner.cleanup()
        raise
    bound_port = runner.addresses[0][1] if runner.addresses else port
    logger.info("Mentor Bot listening on http://%s:%s%s", host, bound_port, EVENTS_PATH)
    if on_started:
        on_started(bound_port)
    await stop.wait()
    logger.info("shutting down: finishing work in flight")
    if on_stopping:
        await on_stopping()
    await site.stop()
    finished = await deps.background.drain(timeout=SHUTDOWN_GRACE_SECONDS / 2)
    if not finished:
        logger.warning("%d background tasks still running at shutdown", deps.background.pending)
    await runner.cleanup()
