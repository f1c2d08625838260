"""Running the app: ``serve`` (HTTP or Socket Mode), ``worker`` and ``tick``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from bot.config import Settings
from bot.content import Content
from bot.metrics import Metrics, start_metrics_server
from bot.scheduling.engine import Engine, PassReport
from bot.scheduling.loop import SenderLoop
from bot.scheduling.pacing import Pacer
from bot.scheduling.sender import DeliveryError, SlackSender
from bot.store import installations
from bot.store.db import Database

logger = logging.getLogger(__name__)

PASS_INTERVAL_SECONDS = 60
PASS_JOB_ID = "scheduler-pass"
# A stopping process gives the Slack calls in flight this long, inside the 10 s that
# SIGTERM allows; a call still hanging then is abandoned (its row is released at once
# by the next pass, as this process is gone).
SENDER_STOP_SECONDS = 5.0
# serve's share is smaller: its web server and post-ack work stop after the sender.
SERVE_SENDER_STOP_SECONDS = 3.0
# `tick --budget`'s default: a pass that must wait out Slack's limits may take this long.
TICK_BUDGET_SECONDS = 600.0


# Refresh a rotating token this long before it expires (Bolt's default too).
REFRESH_BEFORE = installations.REFRESH_AHEAD


def make_sender(settings: Settings, db: Database, metrics: Metrics | None = None) -> SlackSender:
    if settings.encryption_keys:
        db.cipher = settings.cipher  # stored bot tokens are sealed with it
    if settings.oauth_enabled:

        def token_for_team(team_id: str) -> str | None:
            with db.session() as session:
                row = installations.find(session, team_id=team_id)
            if row is None:
                return None
            if row.refresh_token and row.expires_at is not None:
                if row.expires_at <= datetime.now(UTC) + REFRESH_BEFORE:
                    return _refreshed_token(settings, db, team_id)
            return row.bot_token

    else:

        def token_for_team(_team_id: str) -> str | None:
            return settings.bot_token

    return SlackSender(api_url=settings.api_url, token_for_team=token_for_team, metrics=metrics)


def _refreshed_token(settings: Settings, db: Database, team_id: str) -> str | None:
    """Token rotation for the scheduler, which has no Bolt request to do it: refresh
    under a row lock, so workers (and a second look after the lock) refresh once."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackTokenRotationError
    from slack_sdk.oauth.installation_store import Bot
    from slack_sdk.oauth.token_rotation import TokenRotator

    rotator = TokenRotator(
        client_id=settings.client_id or "",
        client_secret=settings.client_secret or "",
        client=WebClient(base_url=settings.api_url),
    )
    with db.session() as session:
        row = installations.find(session, team_id=team_id, lock=True)
        if row is None:
            return None
        if row.expires_at is None or row.expires_at > datetime.now(UTC) + REFRESH_BEFORE:
            return row.bot_token  # another worker refreshed it meanwhile
        bot = Bot(
            team_id=row.team_id,
            bot_token=row.bot_token,
            bot_id=row.bot_id,
            bot_user_id=row.bot_user_id,
            bot_refresh_token=row.refresh_token,
            bot_token_expires_at=int(row.expires_at.timestamp()),
            installed_at=row.installed_at.timestamp(),
        )
        try:
            refreshed = rotator.perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=int(REFRESH_BEFORE.total_seconds() // 60)
            )
        except SlackTokenRotationError as error:
            if row.expires_at <= datetime.now(UTC):
                # Expired and cannot be refreshed: the workspace must reinstall.
                raise DeliveryError(
                    "workspace", "token_refresh_failed", token=row.bot_token
                ) from error
            logger.warning("workspace %s: token refresh failed, retrying later", team_id)
            return row.bot_token
        if refreshed is None or refreshed.bot_token_expires_at is None:
            return row.bot_token
        installations.update_token(
            session,
            team_id=team_id,
            bot_token=refreshed.bot_token or row.bot_token,
            refresh_token=refreshed.bot_refresh_token,
            expires_at=datetime.fromtimestamp(refreshed.bot_token_expires_at, UTC),
        )
        return refreshed.bot_token


def make_engine(
    settings: Settings, content: Content, db: Database, metrics: Metrics | None = None
) -> Engine:
    """The scheduler pass; with ``metrics``, its outcomes and Slack's 429s are counted."""
    return Engine(
        db,
        make_sender(settings, db, metrics),
        content,
        retention=timedelta(days=settings.uninstall_retention_days),
        on_outcomes=metrics.count_outcomes if metrics is not None else None,
        pacer=make_pacer(settings),
        coordinators=settings.admins,
    )


def make_pacer(settings: Settings) -> Pacer | None:
    """Slack's limits, kept by the scheduler's sender (MENTOR_SLACK_POSTS_PER_MINUTE)."""
    if not settings.slack_posts_per_minute:
        return None
    return Pacer(posts_per_minute=settings.slack_posts_per_minute)


def tick(
    settings: Settings,
    content: Content,
    db: Database,
    *,
    now: datetime,
    budget: float | None = None,
    signals: bool = False,
) -> PassReport:
    """One pass as of ``now``. It returns when nothing due at ``now`` is left unsent, or
    early, handing back what it had not started, when ``budget`` seconds have passed or
    (``signals``) SIGTERM/SIGINT arrives; the report says how many were left."""
    engine = make_engine(settings, content, db)
    timer = None
    if budget is not None:
        timer = threading.Timer(budget, engine.stop, args=[f"budget of {budget:g} s ran out"])
        timer.daemon = True
        timer.start()
    previous = {}
    if signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda *_: engine.stop("stopped by a signal"))
    try:
        return engine.run_pass(now)
    finally:
        if timer is not None:
            timer.cancel()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        engine.close()


def _scheduled_pass(engine: Engine, loop: SenderLoop, idle: threading.Event) -> None:
    """The periodic pass of serve and worker: plans, then leaves delivery to the loop.
    ``idle`` is clear while it runs, so a stopping process can wait for it, for a
    while, without waiting on a Slack call that hangs (apscheduler's shutdown(wait)
    would wait as long as the call's timeout, past the 10 s SIGTERM allows)."""
    idle.clear()
    try:
        report = engine.run_pass(datetime.now(UTC), deliver=False)
        if report.planned or report.outcomes:
            logger.info(report.summary())
    except Exception:  # noqa: BLE001 - the next pass tries again; never kill the scheduler
        logger.exception("scheduler pass failed")
    finally:
        idle.set()
    loop.wake()


def _add_pass_job(
    scheduler: BackgroundScheduler | BlockingScheduler, engine: Engine, loop: SenderLoop
) -> threading.Event:
    """The periodic pass; the event is set whenever no pass is running."""
    idle = threading.Event()
    idle.set()
    scheduler.add_job(
        _scheduled_pass,
        "interval",
        seconds=PASS_INTERVAL_SECONDS,
        args=[engine, loop, idle],
        id=PASS_JOB_ID,
        next_run_time=datetime.now(UTC),
        # One pass at a time; a pass that overruns makes the next one wait, not pile up.
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    return idle


def run_worker(settings: Settings, content: Content, db: Database) -> None:
    scheduler = BlockingScheduler(timezone=UTC)
    metrics = None
    if settings.metrics_port is not None:
        # The worker serves no HTTP of its own: /metrics only on MENTOR_METRICS_PORT.
        metrics = Metrics()
        metrics.watch_outbox(db, lambda: datetime.now(UTC))
        start_metrics_server(metrics, settings.metrics_port)
    engine = make_engine(settings, content, db, metrics)
    loop = SenderLoop(engine).start()
    idle = _add_pass_job(scheduler, engine, loop)
    stopped_at: list[float] = []

    def stop(_signum: int, _frame: object) -> None:
        if stopped_at:
            return
        stopped_at.append(time.monotonic())
        logger.info("worker stopping: handing back what was not started")
        engine.stop()
        loop.wake()
        # Not wait=True: a pass stuck in a Slack call would hold it for the call's timeout.
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": False}, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info(
        "Mentor Bot worker: sends due messages at once, plans every %d s", PASS_INTERVAL_SECONDS
    )
    scheduler.start()
    started = stopped_at[0] if stopped_at else time.monotonic()
    idle.wait(max(0.5, SENDER_STOP_SECONDS - (time.monotonic() - started)))
    _finish(engine, loop, max(0.5, SENDER_STOP_SECONDS - (time.monotonic() - started)))
    if not idle.is_set():
        # Its claims are released by the next pass that looks (this process is gone).
        logger.warning("the planning pass was still in a Slack call: exiting without it")
        _exit_at_once()


def _finish(engine: Engine, loop: SenderLoop, timeout: float, *, exit_now: bool = True) -> bool:
    """Wait for the Slack calls in flight; past ``timeout``, give up on them, and
    (``exit_now``) exit at once. Returns whether they finished."""
    finished = loop.stop(timeout)
    engine.close()
    if not finished:
        logger.warning("Slack calls still in flight after %.0f s: exiting without them", timeout)
        if exit_now:
            _exit_at_once()
    return finished


def _exit_at_once() -> None:
    logging.shutdown()
    os._exit(0)  # the delivery threads, stuck in a call, would hold the interpreter's exit


def serve(settings: Settings, content: Content, db: Database) -> None:
    if asyncio.run(_serve(settings, content, db)) is False:
        _exit_at_once()


async def _serve(settings: Settings, content: Content, db: Database) -> bool:
    """Runs until SIGTERM; False if Slack calls were still in flight at the end."""
    from bot.app import create_app
    from bot.web import create_web_app, serve_http

    bolt, deps = create_app(settings, content=content, db=db)
    if settings.socket_mode and settings.metrics_port is not None:
        # No HTTP port of its own in Socket Mode. Bound before anything starts, so that
        # a port that is taken stops start-up with nothing left running.
        start_metrics_server(deps.metrics, settings.metrics_port)
    scheduler: BackgroundScheduler | None = None
    engine = make_engine(settings, content, db, deps.metrics)
    # What this process's requests queue is sent at once (deps.wake_scheduler), with
    # or without the periodic planning pass (MENTOR_SCHEDULER). Without it, the loop
    # answers only those wakes: other rows are the workers' (or cron's).
    loop = SenderLoop(engine, listen=settings.scheduler_enabled).start()
    deps.wake_scheduler = loop.wake
    finished: list[bool] = []
    idle = threading.Event()
    idle.set()
    if settings.scheduler_enabled:
        scheduler = BackgroundScheduler(timezone=UTC)
        idle = _add_pass_job(scheduler, engine, loop)
        scheduler.start()

    async def stop_scheduler() -> None:
        # Stop claiming at once, hand back what was not started, finish the Slack
        # calls in flight (at most the loop's threads, one call each, and the planning
        # pass's); a call that hangs past the budget is abandoned (serve then exits
        # at once, and the next pass that looks releases this process's claims).
        started = time.monotonic()
        engine.stop()
        loop.wake()
        if scheduler is not None:
            await asyncio.to_thread(scheduler.shutdown, wait=False)
        pass_done = await asyncio.to_thread(idle.wait, SERVE_SENDER_STOP_SECONDS)
        spent = time.monotonic() - started
        timeout = max(0.5, SERVE_SENDER_STOP_SECONDS - spent)
        sent = await asyncio.to_thread(_finish, engine, loop, timeout, exit_now=False)
        finished.append(sent and pass_done)

    if settings.socket_mode:
        await _serve_socket_mode(settings, bolt, deps, stop_scheduler)
        return all(finished)
    web_app = create_web_app(bolt, deps)
    await serve_http(web_app, deps, port=settings.port, on_stopping=stop_scheduler)
    return all(finished)


async def _serve_socket_mode(settings, bolt, deps, on_stopping) -> None:  # type: ignore[no-untyped-def]
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(bolt, settings.app_token)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    from bot.web import check_token_early

    async def connect() -> None:
        await check_token_early(bolt)  # not on the first request, before its ack
        await handler.connect_async()  # retries for as long as Slack cannot be reached

    # A SIGTERM while Slack cannot be reached stops the process too, within its 10 s.
    connecting = asyncio.ensure_future(connect())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if connecting.done():
        if connecting.exception() is not None:
            stopping.cancel()
        connecting.result()  # its error, if it failed, as it always was
        logger.info("Mentor Bot connected to Slack in Socket Mode")
        await stopping
    else:
        connecting.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await connecting
        logger.info("stopping before Slack answered: never connected")
    # Within SIGTERM's 10 s: the sender's 3.5 s at most, then these.
    await on_stopping()
    with contextlib.suppress(Exception):
        async with asyncio.timeout(1):
            await handler.disconnect_async()
    await deps.background.drain(timeout=3)
    with contextlib.suppress(Exception):
        async with asyncio.timeout(1):
            await handler.close_async()
