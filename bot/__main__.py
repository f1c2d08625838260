"""The ``mentor-bot`` command line (SPEC §3)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.config import ConfigError, load_settings

EXIT_USAGE = 2


class CommandError(Exception):
    """A one-line problem for the operator; the command exits non-zero."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.run(args) or 0)
    except ConfigError as error:
        print(f"mentor-bot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except CommandError as error:
        print(f"mentor-bot: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mentor-bot",
        description="Mentor Bot: a Slack app that runs a mentoring program inside Slack.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the app (HTTP on $PORT, or Socket Mode with SLACK_APP_TOKEN)",
        description="Run the app: Slack's requests on POST /slack/events, GET /healthz; "
        "Socket Mode when SLACK_APP_TOKEN is set. Runs the scheduler in-process unless "
        "MENTOR_SCHEDULER=off. Creates or migrates the database on start.",
    )
    serve.set_defaults(run=_serve)

    worker = commands.add_parser(
        "worker",
        help="run the scheduler alone (the Procfile's worker process)",
        description="Run the scheduler alone: one pass every minute until SIGTERM.",
    )
    worker.set_defaults(run=_worker)

    tick = commands.add_parser(
        "tick",
        help="one scheduler pass as of --now, then exit",
        description="Plan and send everything due at or before --now, then exit 0. "
        "Running it twice for the same instant sends nothing twice.",
    )
    tick.add_argument(
        "--now",
        type=_parse_instant,
        default=None,
        help="ISO-8601 instant, e.g. 2026-03-02T09:00:00Z (default: the real time)",
    )
    tick.set_defaults(run=_tick)

    content = commands.add_parser("content", help="content YAML tools")
    content_commands = content.add_subparsers(
        dest="content_command", required=True, metavar="ACTION"
    )
    check = content_commands.add_parser(
        "check",
        help="validate content YAML",
        description="Validate the content YAML; prints file:line: problem for each error.",
    )
    check.add_argument(
        "dir",
        nargs="?",
        default=None,
        help="content folder (default: $MENTOR_CONTENT_DIR, else the bundled content)",
    )
    check.set_defaults(run=_content_check)

    db = commands.add_parser("db", help="database tools")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser(
        "upgrade", help="apply schema migrations", description="Apply schema migrations."
    )
    upgrade.set_defaults(run=_db_upgrade)
    return parser


def _parse_instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO-8601 instant (e.g. 2026-03-02T09:00:00Z)"
        ) from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no time zone; add Z or an offset like +05:30"
        )
    return value.astimezone(UTC)


def _load_content_or_fail(directory):  # type: ignore[no-untyped-def]
    from bot.content import ContentError, load_content

    try:
        return load_content(directory)
    except ContentError as error:
        raise CommandError("content is invalid:\n" + str(error)) from None


def _open_database(settings, *, migrate: bool = True):  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import SQLAlchemyError

    from bot.store.db import Database
    from bot.store.migrate import upgrade

    try:
        db = Database(settings.database_url)
        if migrate:
            upgrade(db.engine)
        return db
    except (SQLAlchemyError, ImportError) as error:
        reason = str(error).splitlines()[0][:200]
        raise CommandError(f"DATABASE_URL: cannot open the database ({reason})") from None


def _serve(_args: argparse.Namespace) -> int:
    from bot.runtime import serve

    settings = load_settings()
    content = _load_content_or_fail(settings.content_dir)
    db = _open_database(settings)
    serve(settings, content, db)
    return 0


def _worker(_args: argparse.Namespace) -> int:
    from bot.runtime import run_worker

    settings = load_settings()
    content = _load_content_or_fail(settings.content_dir)
    db = _open_database(settings)
    run_worker(settings, content, db)
    return 0


def _tick(args: argparse.Namespace) -> int:
    from bot.runtime import tick

    settings = load_settings()
    content = _load_content_or_fail(settings.content_dir)
    db = _open_database(settings)
    now = args.now or datetime.now(UTC)
    report = tick(settings, content, db, now=now)
    print(report.summary())
    return 0


def _content_check(args: argparse.Namespace) -> int:
    import os

    from bot.content import ContentError, load_content

    directory = args.dir or os.environ.get("MENTOR_CONTENT_DIR") or None
    try:
        content = load_content(directory)
    except ContentError as error:
        for problem in error.problems:
            print(problem)
        return 1
    print(
        f"{content.directory}: ok ({len(content.mentor_practices)} mentor practices, "
        f"{len(content.mentee_practices)} mentee practices, "
        f"{len(content.get_together)} get-together steps, {len(content.messages)} messages)"
    )
    return 0


def _db_upgrade(_args: argparse.Namespace) -> int:
    from bot.store.migrate import current_revision

    settings = load_settings(require_slack=False)
    db = _open_database(settings)
    print(f"database at revision {current_revision(db.engine)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
