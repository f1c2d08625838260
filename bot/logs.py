"""The app's logging: what it emits, and what it never does.

Libraries log request bodies at DEBUG: slack_sdk every Web API call's arguments
(message text, a person's prep notes), slack_bolt the incoming payloads,
SQLAlchemy's engine the statements and their parameters. ``configure_logging``
keeps those loggers at INFO or above whatever level the app runs at, so their
DEBUG lines are never even created. Our own log calls name IDs and Slack error
codes, never typed text or tokens; database errors carry no parameters
(``hide_parameters`` on every engine). As a last guard, anything that looks like
a Slack token is masked in what the app's handler writes.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

# Loggers that write request or statement bodies at DEBUG, and the lowest level
# they may log at here.
QUIET_LOGGERS = {
    "slack_sdk": logging.INFO,
    "slack_bolt": logging.INFO,
    "sqlalchemy.engine": logging.WARNING,
    "sqlalchemy.pool": logging.WARNING,
    "aiohttp.client": logging.INFO,
    "urllib3": logging.INFO,
    # Alembic narrates every plugin and step at INFO; operators need its warnings only.
    "alembic": logging.WARNING,
    "apscheduler": logging.INFO,
}

_TOKEN = re.compile(r"\bx(?:ox[abeprs]|app)-[A-Za-z0-9.\-]+|\bxoxe\.xox[bp]-[A-Za-z0-9.\-]+")


def redact(text: str) -> str:
    """``text`` with anything shaped like a Slack token masked."""
    return _TOKEN.sub("[token]", text)


class RedactTokens(logging.Filter):
    """Masks Slack tokens in a record's message (and traceback) before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class _ClientTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment even when it is handed a client,
    and then warns at every start that the token will be unused: the app's client was
    built with that very token, so the warning only tells operators something is wrong
    when nothing is (slack_bolt/app/async_app.py, ``__init__``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


class _NoRequestBody(logging.Filter):
    """Bolt logs a request whose signature fails at INFO with its whole body (slack_bolt/
    middleware/request_verification: "Invalid request signature detected (signature:
    ..., timestamp: ..., body: ...)"): what a person typed, whenever a secret is rotated
    or a clock drifts. The body is left out; the rest of the line stays."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cut = message.find(", body: ")
        if cut != -1:
            record.msg, record.args = message[:cut] + ", body left out)", None
        return True


def bolt_logger() -> logging.Logger:
    """The logger handed to Bolt's app. Bolt sets the level of every logger it makes
    from the root's when it makes it (``slack_bolt.logger._configure_from_root``), so
    an app built while the root is at DEBUG wrote each answer's body ("Responding with
    status: 200 body: …": someone's pairs, their typed text) whatever ``slack_bolt``'s
    level; given a logger, Bolt copies its level to the rest instead."""
    logger = logging.getLogger("slack_bolt.AsyncApp")
    floor = QUIET_LOGGERS["slack_bolt"]
    if logger.level == logging.NOTSET or logger.level < floor:
        logger.setLevel(floor)
    return logger


def quiet_libraries() -> None:
    """Raise the chatty libraries' loggers to their floor (never lower them)."""
    for name, floor in QUIET_LOGGERS.items():
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < floor:
            logger.setLevel(floor)
    bolt = logging.getLogger("slack_bolt.AsyncApp")
    if not any(isinstance(f, _ClientTokenNotice) for f in bolt.filters):
        bolt.addFilter(_ClientTokenNotice())
    # AsyncRequestVerification logs through its base class's logger.
    verification = logging.getLogger("slack_bolt.RequestVerification")
    if not any(isinstance(f, _NoRequestBody) for f in verification.filters):
        verification.addFilter(_NoRequestBody())


class JsonFormatter(logging.Formatter):
    """One JSON object a record (MENTOR_LOG_FORMAT=json): ``time`` (UTC, ISO 8601),
    ``level``, ``logger``, ``message`` and, if there is one, ``exception`` (the
    traceback's text). Tokens are masked here too, whichever filter ran before."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        # ensure_ascii: a line stays one line and plain ASCII whatever was logged.
        return json.dumps(entry, ensure_ascii=True)


PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: int = logging.INFO, *, log_format: str = "plain") -> None:
    """The command line's logging: one line a record on stderr, at ``level``; plain
    text, or one JSON object a line with ``log_format="json"``."""
    logging.basicConfig(level=level, format=PLAIN_FORMAT)
    quiet_libraries()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactTokens) for f in handler.filters):
            handler.addFilter(RedactTokens())
        if log_format == "json":
            handler.setFormatter(JsonFormatter())
