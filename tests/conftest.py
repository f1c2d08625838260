"""Shared fixtures: a database on SQLite and on PostgreSQL, the emulated Slack, the real app."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bot.config import load_settings
from bot.content import load_content
from bot.local import LocalApp
from bot.store.db import Database
from bot.store.migrate import upgrade
from slackemu import SlackEmulator

POSTGRES_URL = os.environ.get(
    "MENTOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("MENTOR_TEST_REQUIRE_POSTGRES") == "1"
SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"

MENTOR, MENTEE = "UALICE0001", "UBOBBY0002"
COORDINATOR = "UCAROL0003"
STRANGER = "UDAVE00004"
DEACTIVATED = "UGONE00005"
OTHER_BOT = "UROBOT0006"


def _postgres_available() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:  # noqa: BLE001
        return str(error).splitlines()[0]


@pytest.fixture(scope="session")
def postgres_problem() -> str | None:
    return _postgres_available()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Any, postgres_problem: str | None
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/mentor-bot.db"
        return
    if postgres_problem:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required here but unreachable: {postgres_problem}")
        pytest.skip(f"PostgreSQL unreachable: {postgres_problem}")
    # A schema per test keeps tests independent without a database per test.
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    upgrade(database.engine)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def content():
    return load_content()


class Clock:
    """The app's clock, moved by tests; never slept on."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


# A Monday, so that working-day rules are easy to read in tests.
START = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


@dataclass
class Harness:
    slack: SlackEmulator
    app: LocalApp
    driver: Any
    clock: Clock
    db: Database
    settings: Any

    def slash(self, user: str, text: str, **kwargs: Any) -> Any:
        mark = self.slack.mark()
        response = self.driver.slash(user, text, **kwargs)
        self.app.drain()
        response.mark = mark
        return response

    def click(self, user: str, message: dict, action_id: str, **kwargs: Any) -> Any:
        response = self.driver.click(user, message, action_id, **kwargs)
        self.app.drain()
        return response

    def submit(self, user: str, view: dict, values: dict, **kwargs: Any) -> Any:
        response = self.driver.submit_view(user, view, values, **kwargs)
        self.app.drain()
        return response

    def tick(self, now: datetime | None = None) -> Any:
        from bot.runtime import tick

        if now is not None:
            self.clock.set(now)
        return tick(self.settings, self.app.deps.content, self.db, now=self.clock.now)

    def last_dm(self, user: str) -> dict:
        messages = self.slack.messages_in(user)
        assert messages, f"no DM to {user}"
        return messages[-1]

    def ephemeral_texts(self, since: int = 0) -> list[str]:
        return [
            _all_text(c.args)
            for c in self.slack.calls[since:]
            if c.method in {"response_url", "chat.postEphemeral"}
        ]


def _all_text(payload: Any) -> str:
    """Every string in a payload, joined: what a reader would see, roughly."""
    if isinstance(payload, str):
        return payload
    if isinstance(payload, dict):
        return " ".join(
            _all_text(v) for k, v in payload.items() if k not in {"action_id", "block_id", "_url"}
        )
    if isinstance(payload, list):
        return " ".join(_all_text(v) for v in payload)
    return ""


all_text = _all_text


@pytest.fixture
def harness(database_url: str, content: Any) -> Iterator[Harness]:
    with SlackEmulator() as slack:
        slack.add_user(MENTOR, name="alice", real_name="Alice Mentor", tz="America/Los_Angeles")
        slack.add_user(MENTEE, name="bob", real_name="Bob Mentee", tz="Asia/Kolkata")
        slack.add_user(COORDINATOR, name="carol", real_name="Carol Coordinator", tz="Europe/London")
        slack.add_user(STRANGER, name="dave", real_name="Dave Stranger", tz="UTC")
        slack.add_user(DEACTIVATED, name="gone", real_name="Gone Person", deleted=True)
        slack.add_user(OTHER_BOT, name="robot", real_name="Some Bot", is_bot=True)
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": slack.base_url,
                "DATABASE_URL": database_url,
                "MENTOR_ADMINS": COORDINATOR,
                "MENTOR_SCHEDULER": "off",
            }
        )
        database = Database(database_url)
        upgrade(database.engine)
        clock = Clock(START)
        with LocalApp(settings, content=content, db=database, clock=clock) as app:
            # Strict: a request during which the app calls Slack fails the test (the
            # app must ack first); work after earlier acks is held meanwhile.
            driver = slack.driver(
                app.url, SIGNING_SECRET, strict=True, quiet=app.background_held
            )
            yield Harness(
                slack=slack, app=app, driver=driver, clock=clock, db=database, settings=settings
            )
        database.dispose()
        # What one person typed must reach anyone else escaped, never as a live ping or link.
        leaks = slack.mrkdwn_violations
        assert not leaks, "typed text forwarded as live mrkdwn:\n" + "\n".join(leaks)
