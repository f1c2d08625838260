"""MENTOR_LOG_FORMAT=json: one JSON object a line, tokens still masked, chatty libraries
still quiet; a bad value is one line and exit 2."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings, log_format

TOKEN = "xoxb-1234-5678-SeCrEtToKeN"

SCRIPT = textwrap.dedent(
    f"""
    import logging
    from bot.logs import configure_logging

    configure_logging(logging.DEBUG, log_format="json")
    log = logging.getLogger("bot.example")
    log.info("posted with %s", "{TOKEN}")
    log.warning("multi\\nline message")
    try:
        raise RuntimeError("Slack refused {TOKEN}")
    except RuntimeError:
        log.exception("delivery failed")
    logging.getLogger("slack_sdk.web.base_client").debug("request body: my secret words")
    logging.getLogger("sqlalchemy.engine.Engine").info("INSERT parameters: my secret words")
    """
)


def test_json_lines_keep_masking_and_quiet_libraries(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert [r["message"] for r in records] == [
        "posted with [token]",
        "multi\nline message",
        "delivery failed",
    ]
    for record in records:
        assert set(record) >= {"time", "level", "logger", "message"}
        assert record["logger"] == "bot.example"
        assert record["time"].endswith("+00:00")
    assert [r["level"] for r in records] == ["INFO", "WARNING", "ERROR"]
    assert "RuntimeError: Slack refused [token]" in records[2]["exception"]
    assert "Traceback" in records[2]["exception"]
    assert "exception" not in records[0]
    assert TOKEN not in result.stderr and "secret words" not in result.stderr


def test_log_format_setting() -> None:
    assert log_format({}) == "plain"
    assert log_format({"MENTOR_LOG_FORMAT": " JSON "}) == "json"
    with pytest.raises(ConfigError, match="MENTOR_LOG_FORMAT must be 'plain' or 'json', got 'xml'"):
        log_format({"MENTOR_LOG_FORMAT": "xml"})
    base = {"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s"}
    settings = load_settings({**base, "MENTOR_LOG_FORMAT": "json", "MENTOR_METRICS_PORT": "9102"})
    assert settings.log_format == "json" and settings.metrics_port == 9102
    assert load_settings(base).metrics_port is None
    for bad in ("0", "70000", "nine", "９１０２"):
        with pytest.raises(ConfigError, match="MENTOR_METRICS_PORT must be a TCP port"):
            load_settings({**base, "MENTOR_METRICS_PORT": bad})


def test_bad_log_format_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "content", "check"],
        cwd=tmp_path,
        env={
            **os.environ,
            "PYTHONPATH": str(Path(__file__).parents[2]),
            "MENTOR_LOG_FORMAT": "yaml",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "mentor-bot: MENTOR_LOG_FORMAT must be 'plain' or 'json', got 'yaml'"
    ]


def test_bolt_does_not_warn_of_the_token_it_was_handed_with_the_client(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """Bolt reads SLACK_BOT_TOKEN from the environment even when given the app's client
    (built with that very token) and warns that it will be unused: noise at every
    start. That one message is dropped; Bolt's other warnings still come through."""
    from bot.app import create_app
    from bot.store.db import Database

    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": "secret",
            "DATABASE_URL": f"sqlite:///{tmp_path}/app.db",
            "MENTOR_SCHEDULER": "off",
        }
    )
    db = Database(settings.database_url)
    try:
        with caplog.at_level(logging.WARNING):
            create_app(settings, db=db)
            logging.getLogger("slack_bolt.AsyncApp").warning("another warning")
    finally:
        db.dispose()
    messages = [record.getMessage() for record in caplog.records]
    assert "another warning" in messages
    assert not [m for m in messages if "will be unused" in m], messages


def test_bolt_writes_no_answer_bodies_when_the_app_runs_at_debug(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Bolt takes each of its loggers' level from the root's when it makes them: an app
    built at DEBUG logged every answer's body ("Responding with status: 200 body: …",
    someone's pairs and typed text), which outlives their forget-me."""
    from bot.app import create_app
    from bot.logs import configure_logging
    from bot.store.db import Database

    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": "secret",
            "DATABASE_URL": f"sqlite:///{tmp_path}/app.db",
            "MENTOR_SCHEDULER": "off",
        }
    )
    root = logging.getLogger()
    saved_root, saved_handlers = root.level, list(root.handlers)
    db = Database(settings.database_url)
    try:
        configure_logging(logging.DEBUG)
        root.setLevel(logging.DEBUG)  # basicConfig leaves a root with handlers (pytest's)
        app, _deps = create_app(settings, db=db)
        listener_logger = app._async_listener_runner.logger  # the one that logs answers
        for logger in (app.logger, listener_logger):
            assert not logger.isEnabledFor(logging.DEBUG), logger.name
        assert root.isEnabledFor(logging.DEBUG)  # the app runs at DEBUG all the same
    finally:
        db.dispose()
        root.setLevel(saved_root)
        for handler in root.handlers:
            if handler not in saved_handlers:
                root.removeHandler(handler)


def test_a_token_slack_refuses_at_start_is_named_with_what_to_do(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A well-formed but wrong SLACK_BOT_TOKEN: start-up logged slack_sdk's raw,
    multi-line error, and then each request "Failed to authorize", with nothing saying
    which setting to look at."""
    import asyncio

    from bot.app import create_app
    from bot.store.db import Database
    from bot.web import check_token_early
    from slackemu import SlackEmulator

    with SlackEmulator(tokens={}, rate_limits=None) as slack:  # it knows no token
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxb-not-this-workspace",
                "SLACK_SIGNING_SECRET": "secret",
                "SLACK_API_URL": slack.base_url,
                "DATABASE_URL": f"sqlite:///{tmp_path}/app.db",
                "MENTOR_SCHEDULER": "off",
            }
        )
        db = Database(settings.database_url)
        try:
            app, _deps = create_app(settings, db=db)
            with caplog.at_level(logging.WARNING):
                asyncio.run(check_token_early(app))
        finally:
            db.dispose()
    [line] = [r.getMessage() for r in caplog.records if "auth.test" in r.getMessage()]
    assert line.startswith("auth.test at start-up failed: Slack refuses SLACK_BOT_TOKEN")
    assert "(invalid_auth)" in line and "reinstall the app" in line and "\n" not in line
