"""Running the app: ``serve`` (HTTP or Socket Mode), ``worker`` and ``tick``."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from bot.config import Settings
from bot.content import Content
from bot.scheduling.engine import Engine, PassReport
from bot.scheduling.sender import DeliveryError, SlackSender
from bot.store import installations
from bot.store.db import Database

logger = logging.getLogger(__name__)

PASS_INTERVAL_SECONDS = 60
PASS_JOB_ID = "scheduler-pass"


# Refresh a rotating token this long before it expires (Bolt's default too).
REFRESH_BEFORE = timedelta(minutes=120)


def make_sender(settings: Settings, db: Database) -> SlackSender:
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

    return SlackSender(api_url=settings.api_url, token_for_team=token_for_team)


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


def make_engine(settings: Settings, content: Content, db: Database) -> Engine:
    return Engine(
        db,
        make_sender(settings, db),
        content,
        retention=timedelta(days=settings.uninstall_retention_days),
    )


def tick(settings: Settings, content: Content, db: Database, *, now: datetime) -> PassReport:
    return make_engine(settings, content, db).run_pass(now)


def _scheduled_pass(engine: Engine) -> None:
    try:
        report = engine.run_pass(datetime.now(UTC))
        if report.planned or report.outcomes:
            logger.info(report.summary())
    except Exception:  # noqa: BLE001 - the next pass tries again; never kill the scheduler
        logger.exception("scheduler pass failed")


def _add_pass_job(scheduler: BackgroundScheduler | BlockingScheduler, engine: Engine) -> None:
    scheduler.add_job(
        _scheduled_pass,
        "interval",
        seconds=PASS_INTERVAL_SECONDS,
        args=[engine],
        id=PASS_JOB_ID,
        next_run_time=datetime.now(UTC),
        # One pass at a time; a pass that overruns makes the next one wait, not pile up.
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )


def run_worker(settings: Settings, content: Content, db: Database) -> None:
    scheduler = BlockingScheduler(timezone=UTC)
    engine = make_engine(settings, content, db)
    _add_pass_job(scheduler, engine)

    def stop(_signum: int, _frame: object) -> None:
        logger.info("worker stopping: finishing the messages in hand")
        engine.stopping.set()
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("Mentor Bot worker: a scheduler pass every %d s", PASS_INTERVAL_SECONDS)
    scheduler.start()


def serve(settings: Settings, content: Content, db: Database) -> None:
    asyncio.run(_serve(settings, content, db))


async def _serve(settings: Settings, content: Content, db: Database) -> None:
    from bot.app import create_app
    from bot.web import create_web_app, serve_http

    bolt, deps = create_app(settings, content=content, db=db)
    scheduler: BackgroundScheduler | None = None
    engine = make_engine(settings, content, db)
    if settings.scheduler_enabled:
        scheduler = BackgroundScheduler(timezone=UTC)
        _add_pass_job(scheduler, engine)
        scheduler.start()
        deps.wake_scheduler = lambda: scheduler.modify_job(  # type: ignore[union-attr]
            PASS_JOB_ID, next_run_time=datetime.now(UTC)
        )

    async def stop_scheduler() -> None:
        if scheduler is not None:
            # The pass stops claiming and finishes the batch it holds (at most
            # CLAIM_BATCH messages), so shutdown stays within Slack-sized seconds.
            engine.stopping.set()
            await asyncio.to_thread(scheduler.shutdown, wait=True)

    if settings.socket_mode:
        await _serve_socket_mode(settings, bolt, deps, stop_scheduler)
        return
    web_app = create_web_app(bolt, deps)
    await serve_http(web_app, deps, port=settings.port, on_stopping=stop_scheduler)


async def _serve_socket_mode(settings, bolt, deps, on_stopping) -> None:  # type: ignore[no-untyped-def]
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(bolt, settings.app_token)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    from bot.web import check_token_early

    await check_token_early(bolt)  # not on the first request, before its ack
    await handler.connect_async()
    logger.info("Mentor Bot connected to Slack in Socket Mode")
    await stop.wait()
    await on_stopping()
    await handler.disconnect_async()
    await deps.background.drain(timeout=4)
    await handler.close_async()
