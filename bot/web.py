"""The HTTP face of the app: Slack's requests, the health check, OAuth install."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientSession, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.deps import Deps

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# Slack gives up on a request after 3 s; bodies beyond Slack's own are not from Slack.
MAX_BODY = 1024 * 1024
SHUTDOWN_GRACE_SECONDS = 8.0


def create_web_app(bolt: AsyncApp, deps: Deps) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        deps.background.request_started()
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    async def healthz(_request: web.Request) -> web.Response:
        ok = await asyncio.to_thread(deps.db.healthy)
        return web.json_response(
            {"ok": ok, "database": "ok" if ok else "unreachable"}, status=200 if ok else 503
        )

    async def share_http_session(_app: web.Application) -> Any:
        # One keep-alive session for every Web API call instead of a new
        # connection per call (slack_sdk's default without a session).
        session = ClientSession()
        bolt.client.session = session
        yield
        bolt.client.session = None
        await session.close()

    app = web.Application(client_max_size=MAX_BODY)
    app.cleanup_ctx.append(share_http_session)
    app.router.add_post(EVENTS_PATH, slack_events)
    app.router.add_get("/healthz", healthz)
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
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE_SECONDS / 2)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024, reuse_address=True)
    await site.start()
    bound_port = runner.addresses[0][1] if runner.addresses else port
    logger.info("Mentor Bot listening on http://%s:%s%s", host, bound_port, EVENTS_PATH)
    if on_started:
        on_started(bound_port)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread (tests)
            pass
    await stop.wait()
    logger.info("shutting down: finishing work in flight")
    if on_stopping:
        await on_stopping()
    await site.stop()
    finished = await deps.background.drain(timeout=SHUTDOWN_GRACE_SECONDS / 2)
    if not finished:
        logger.warning("%d background tasks still running at shutdown", deps.background.pending)
    await runner.cleanup()
