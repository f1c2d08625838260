"""Nothing private in logs: typed words and tokens stay out of every log line, even when
the database and Slack fail while they are in flight."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from bot.config import load_settings
from bot.ids import Action, Block
from bot.logs import QUIET_LOGGERS, configure_logging, redact
from slackemu import Input
from tests.conftest import BOT_TOKEN, MENTEE, MENTOR, Harness, all_text
from tests.scenario.test_coaching import pair_up, schedule

SECRET_FOCUS = "my-secret-focus-about-my-divorce"
SECRET_QUESTIONS = "my-secret-question-about-my-salary"


@contextmanager
def _failing_inserts(h: Harness, table: str) -> Iterator[None]:
    """The database refuses every INSERT INTO ``table`` as a unique violation (a trigger,
    so the error comes from the database itself, as a real one would)."""
    with h.db.engine.begin() as conn:
        if h.db.dialect == "sqlite":
            conn.execute(
                text(
                    f"CREATE TRIGGER fail_insert BEFORE INSERT ON {table} BEGIN "
                    f"SELECT RAISE(ABORT, 'UNIQUE constraint failed: {table}.user_id'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION fail_insert() RETURNS trigger AS $$ BEGIN "
                    "RAISE unique_violation USING MESSAGE = 'duplicate key value violates "
                    "unique constraint'; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    f"CREATE TRIGGER fail_insert BEFORE INSERT ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION fail_insert()"
                )
            )
    try:
        yield
    finally:
        with h.db.engine.begin() as conn:
            if h.db.dialect == "sqlite":
                conn.execute(text("DROP TRIGGER fail_insert"))
            else:
                conn.execute(text(f"DROP TRIGGER fail_insert ON {table}"))
                conn.execute(text("DROP FUNCTION fail_insert()"))


@contextmanager
def _dropped(h: Harness, table: str) -> Iterator[None]:
    """``table`` is gone (renamed away) inside the block."""
    with h.db.engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {table} RENAME TO {table}_gone"))
    try:
        yield
    finally:
        with h.db.engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {table}_gone RENAME TO {table}"))


def _submit_prep(h: Harness, prep: dict) -> object:
    h.click(MENTEE, prep, Action.OPEN_PREP)
    return h.submit(
        MENTEE,
        h.driver.last_view_opened(MENTEE),
        {
            Block.FOCUS: {"value": Input.plain_text(SECRET_FOCUS)},
            Block.QUESTIONS: {"value": Input.plain_text(SECRET_QUESTIONS)},
        },
    )


def _every_line(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return [formatter.format(record) for record in caplog.records]


def test_no_typed_words_or_tokens_in_logs_through_faults(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    caplog.set_level(logging.DEBUG)  # every logger, every level the app lets through
    group = pair_up(h)
    meeting = datetime(2026, 3, 4, 16, 0, tzinfo=UTC)
    schedule(h, group, [meeting, meeting + timedelta(days=7), meeting + timedelta(days=14)])
    h.tick(meeting - timedelta(hours=24))
    prep = [m for m in h.slack.messages_in(MENTEE) if "Prepare for" in m.get("text", "")][-1]

    # The database fails while the prep note is being saved: a unique violation...
    with _failing_inserts(h, "prep_answers"):
        response = _submit_prep(h, prep)
    assert "something went wrong" in all_text(response.json).lower()
    # ...and a table that is not there: while the note is saved (the form was open
    # already), and when the form opens (it shows what was sent before).
    h.click(MENTEE, prep, Action.OPEN_PREP)
    form = h.driver.last_view_opened(MENTEE)
    with _dropped(h, "prep_answers"):
        response = h.submit(
            MENTEE,
            form,
            {
                Block.FOCUS: {"value": Input.plain_text(SECRET_FOCUS)},
                Block.QUESTIONS: {"value": Input.plain_text(SECRET_QUESTIONS)},
            },
        )
        assert "something went wrong" in all_text(response.json).lower()
        mark = h.slack.mark()
        h.click(MENTEE, prep, Action.OPEN_PREP)
    assert "something went wrong" in " ".join(h.ephemeral_texts(mark)).lower()
    # Slack fails while the note is on its way to the mentor: an error, then 5xx, then a
    # dropped connection (the retry handlers log each retry).
    h.slack.inject("chat.postMessage", error="invalid_blocks")
    _submit_prep(h, prep)
    h.slack.inject("chat.postMessage", status=503, times=4)
    _submit_prep(h, prep)
    h.slack.inject("chat.postMessage", drop_connection=True, times=4)
    _submit_prep(h, prep)
    _submit_prep(h, prep)
    assert SECRET_FOCUS in all_text(h.last_dm(MENTOR))  # it did get through in the end
    # The scheduler meets Slack failures too (the feedback polls), with the token in use.
    h.slack.inject("chat.postMessage", status=500, times=6)
    h.slack.inject("users.info", error="invalid_auth")
    h.tick(meeting + timedelta(minutes=45 + 60))

    lines = _every_line(caplog)
    assert any("unhandled error" in line for line in lines)  # the faults were logged
    assert any("IntegrityError" in line or "unique" in line.lower() for line in lines)
    assert any("attempt" in line for line in lines)  # failed deliveries were logged
    for line in lines:
        # Nor who: a row's key may name the person it is for, and a log line outlives
        # their forget-me.
        for secret in (SECRET_FOCUS, SECRET_QUESTIONS, BOT_TOKEN, "xoxb-", MENTEE, MENTOR):
            assert secret not in line, line


def test_logging_config_keeps_request_bodies_out() -> None:
    """The command line's logging: libraries that write request bodies at DEBUG stay
    above it, and a token that reaches a line anyway is masked."""
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    saved_root, saved_handlers = root.level, list(root.handlers)
    try:
        configure_logging(logging.DEBUG)
        for name in ("slack_sdk", "slack_sdk.web.base_client", "slack_bolt", "sqlalchemy.engine"):
            assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
        root.setLevel(saved_root)
        for handler in root.handlers:
            if handler not in saved_handlers:
                root.removeHandler(handler)
    assert redact(f"Bearer {BOT_TOKEN} and xapp-1-A0-1-abc") == "Bearer [token] and [token]"
    assert redact("xoxe.xoxb-1-abc xoxe-1-refresh") == "[token] [token]"
    # Settings logged by mistake carry no secret.
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": "signing-secret-value",
            "DATABASE_URL": "postgresql://bot:db-password@db/mentor",
            "MENTOR_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        },
        dotenv=False,
    )
    shown = repr(settings)
    for secret in (BOT_TOKEN, "signing-secret-value", "db-password", "encryption_keys"):
        assert secret not in shown
