"""The ``mentor-bot`` command line (SPEC §3)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.config import ConfigError, load_settings
from bot.config import log_format as read_log_format
from bot.logs import configure_logging

EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a process the signal ended
# tick --now: years the scheduler's date arithmetic stays inside (it plans days ahead
# and looks weeks back), and how far ahead of the clock it warns.
NOW_YEARS = (2000, 9000)
FAR_AHEAD = timedelta(days=1)


class CommandError(Exception):
    """A one-line problem for the operator; the command exits non-zero."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        log_format = read_log_format()
    except ConfigError as error:
        print(f"mentor-bot: {error}", file=sys.stderr)
        return EXIT_USAGE
    # Library loggers that write request bodies at DEBUG stay above it (bot.logs).
    configure_logging(logging.INFO, log_format=log_format)
    try:
        code = int(args.run(args) or 0)
        sys.stdout.flush()  # here, where a reader that stopped reading is heard
        return code
    except ConfigError as error:
        print(f"mentor-bot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except CommandError as error:
        print(f"mentor-bot: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader stopped reading (`mentor-bot outbox list | head`): quietly, with the
        # status of a process SIGPIPE ended, as the command may not have finished (a
        # `match` whose listing broke approved nothing). Python would flush stdout again
        # at exit and fail the same way.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


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
        "Running it twice for the same instant sends nothing twice. Slack's rate limits "
        "are waited out inside the pass; it stops early, handing back what it has not "
        "sent, when --budget runs out or on SIGTERM, and its summary says how many "
        "are left.",
    )
    tick.add_argument(
        "--now",
        type=_parse_instant,
        default=None,
        help="ISO-8601 instant, e.g. 2026-03-02T09:00:00Z (default: the real time)",
    )
    tick.add_argument(
        "--budget",
        type=_budget_seconds,
        default=None,
        metavar="SECONDS",
        help="stop after this many seconds even if messages due are left (default 600)",
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

    demo = commands.add_parser(
        "demo",
        help="run a whole mentoring program locally, no Slack needed",
        description="Run the real app against an embedded Slack emulator with a small cast "
        "(a mentor, a mentee and a coordinator in far-apart time zones), drive a whole program "
        "through it, print a transcript and write demo.html that shows it as Slack would.",
    )
    demo.add_argument(
        "--content", default=None, help="content folder to preview (default: bundled)"
    )
    demo.add_argument("--out", default="demo-out", help="output folder (default: ./demo-out)")
    demo.add_argument(
        "--days", type=_positive_days, default=21, help="program length in days (1–90, default 21)"
    )
    demo.add_argument("--seed", type=int, default=7, help="seed for the cast's answers (default 7)")
    demo.set_defaults(run=_demo)

    match = commands.add_parser(
        "match",
        help="propose (and approve) pairs from a workspace's sign-up pool",
        description="Compute an optimal matching of the sign-up pool. Without --dry-run the "
        "proposal is approved: invitations and kind 'not this round' notes are queued for the "
        "next scheduler pass.",
    )
    match.add_argument("--team", required=True, help="Slack workspace ID, e.g. T0123ABCD")
    match.add_argument("--dry-run", action="store_true", help="show the proposal, change nothing")
    match.set_defaults(run=_match)

    report = commands.add_parser(
        "report",
        help="program insights for a workspace (aggregates only)",
        description="Program insights: pairs, pairs at risk, and per closed week (Monday to "
        "Sunday, UTC) how many people gave feedback, met, found meetings useful, sent their "
        "prep and liked the tips. Counted in people, not answers; a figure needs at least "
        "privacy_minimum_people people (content settings, at least 3), a split that many on "
        "each side. A week is frozen the first time it is shown (this command writes that "
        "snapshot), leaving out the answers of the coordinators in MENTOR_ADMINS.",
    )
    report.add_argument("--team", required=True, help="Slack workspace ID, e.g. T0123ABCD")
    report.add_argument("--format", choices=("table", "csv", "json"), default="table")
    report.add_argument(
        "--chart",
        default=None,
        help="also write a PNG chart of the people who gave feedback per closed week",
    )
    report.add_argument(
        "--outcomes",
        action="store_true",
        help="print the outcome figures instead: days from kickoff to first meeting, days "
        "between meetings, pairs still meeting at 30/90/180 days, goals set and marked done "
        "(per kickoff month, each from at least privacy_minimum_people pairs)",
    )
    report.set_defaults(run=_report)

    _outbox_parser(commands)

    db = commands.add_parser("db", help="database tools")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser(
        "upgrade", help="apply schema migrations", description="Apply schema migrations."
    )
    upgrade.set_defaults(run=_db_upgrade)
    reencrypt = db_commands.add_parser(
        "reencrypt",
        help="re-encrypt stored bot tokens with the first MENTOR_ENCRYPTION_KEY",
        description="Re-encrypt every stored bot token (and refresh token) with the first key "
        "of MENTOR_ENCRYPTION_KEY; plaintext tokens stored before a key was set are encrypted "
        "too. Run it after putting a new key first; then the old key can be removed.",
    )
    reencrypt.set_defaults(run=_db_reencrypt)
    return parser


# bot.store.outbox's OPEN_STATUSES and CANCELLABLE (a test keeps them equal),
# spelled out so that building the parser imports no SQLAlchemy.
OPEN_STATUSES = ("pending", "sending", "failed", "held", "paused")
CANCELLABLE = ("pending", "failed", "held", "paused")


def _outbox_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    outbox = commands.add_parser(
        "outbox",
        help="look at and fix the scheduled-message outbox",
        description="The durable outbox of scheduled messages (README, Delivery guarantees): "
        "list rows, put failed or held ones back, cancel ones that should not go. Shows "
        "only routing and status, never a message's contents.",
    )
    actions = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list",
        help="list outbox rows (oldest due first)",
        description="List outbox rows, oldest due first: id, team, kind, recipient, due "
        "(UTC), status, attempts and the last error. Without --status: every row still in "
        f"the outbox's hands ({', '.join(OPEN_STATUSES)}).",
    )
    listing.add_argument("--status", choices=OPEN_STATUSES, default=None, help="only this status")
    listing.add_argument("--team", default=None, help="only this workspace, e.g. T0123ABCD")
    listing.add_argument("--kind", default=None, help="only this kind, e.g. tip or feedback")
    listing.add_argument(
        "--limit", type=_row_limit, default=50, help="at most this many rows (1–10000, default 50)"
    )
    listing.set_defaults(run=_outbox_list)
    retry = actions.add_parser(
        "retry",
        help="put failed/held/paused rows (or a refused pending one) back, due now",
        description="Put failed, held or paused rows back to pending, due now, with a fresh "
        "set of attempts, or make a pending row that Slack refused before due now (a "
        "kickoff, once a missing scope is added); the next scheduler pass sends them (a held "
        "row waits while its workspace is paused). If any ID is unknown or in another state, "
        "nothing changes and the command exits 1.",
    )
    retry.add_argument("ids", nargs="+", type=_row_id, metavar="ID", help="outbox row IDs")
    retry.set_defaults(run=_outbox_retry)
    cancel = actions.add_parser(
        "cancel",
        help=f"cancel {'/'.join(CANCELLABLE)} rows",
        description=f"Cancel {', '.join(CANCELLABLE)} rows: they will never be sent. If any "
        "ID is unknown or in another state (sending, sent, cancelled), nothing changes and "
        "the command exits 1.",
    )
    cancel.add_argument("ids", nargs="+", type=_row_id, metavar="ID", help="outbox row IDs")
    cancel.set_defaults(run=_outbox_cancel)


def _row_id(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise argparse.ArgumentTypeError(f"{text!r} is not an outbox row ID (a whole number)")
    return int(text)


def _row_limit(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 10_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of rows from 1 to 10000")
    return int(text)


def _budget_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to 86400")
    return value


def _positive_days(text: str) -> int:
    # isdigit() alone accepts "²", which int() refuses.
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 90:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days from 1 to 90")
    return int(text)


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
    if not NOW_YEARS[0] <= value.year <= NOW_YEARS[1]:
        raise argparse.ArgumentTypeError(
            f"{text!r} is out of range: give an instant from {NOW_YEARS[0]} to {NOW_YEARS[1]}"
        )
    return value.astimezone(UTC)


def _load_content_or_fail(directory):  # type: ignore[no-untyped-def]
    import logging

    from bot.content import ContentError

    try:
        content, warnings = _load_checked_content(directory)
    except ContentError as error:
        raise CommandError("content is invalid:\n" + str(error)) from None
    for warning in warnings:
        logging.getLogger("bot.content").warning("%s", warning)
    return content


def _load_checked_content(directory):  # type: ignore[no-untyped-def]
    """The content folder, loaded, and its warnings: refused (``ContentError``) if a
    message it makes would be one Slack refuses (``bot.scheduling.render.content_fit``);
    copy Slack would show cut is a warning."""
    from bot.content import ContentError, load_content
    from bot.scheduling.render import content_fit

    content = load_content(directory)
    fit = content_fit(content)
    if fit.errors:
        raise ContentError([*fit.errors, *fit.warnings])
    return content, fit.warnings


def _refuse_a_missing_sqlite_file(url: str) -> None:
    """SQLite makes the file it is asked to open: a command that only reads or fixes
    rows, pointed at a mistyped path, would make an empty one and report nothing."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    path = parsed.database
    if parsed.get_backend_name() == "sqlite" and path and path != ":memory:":
        if not path.startswith("file:") and not Path(path).expanduser().exists():
            raise CommandError(
                f"DATABASE_URL: there is no database at {path} (check DATABASE_URL, or run "
                "`mentor-bot db upgrade` to make one)"
            )


def _open_database(settings, *, migrate: bool = True):  # type: ignore[no-untyped-def]
    """The database; with ``migrate`` (``serve``, ``worker``, ``tick``, ``db upgrade``)
    created or brought to this release's schema, else (commands that read or fix rows)
    refused unless it is a Mentor Bot database at this release's schema."""
    from alembic.util.exc import CommandError as MigrationError
    from sqlalchemy.exc import SQLAlchemyError

    from bot.store.db import Database
    from bot.store.migrate import schema_problem, upgrade

    try:
        if not migrate:
            _refuse_a_missing_sqlite_file(settings.database_url)
        db = Database(settings.database_url, cipher=settings.cipher)
        if migrate:
            upgrade(db.engine)
        elif problem := schema_problem(db.engine):
            db.dispose()
            raise CommandError(f"DATABASE_URL: {problem}")
        return db
    except MigrationError as error:
        # A schema revision this release does not know: a newer release wrote it.
        reason = str(error).splitlines()[0][:200]
        raise CommandError(
            f"DATABASE_URL: the database's schema is not one this release knows ({reason}); "
            "it was written by a newer release: run that one, or restore a backup"
        ) from None
    except (SQLAlchemyError, ImportError, ValueError) as error:
        # ValueError: a URL SQLAlchemy cannot read (a port that is not a number).
        reason = str(error).splitlines()[0][:200]
        if isinstance(error, ImportError):  # a driver this install does not have
            reason += "; the PostgreSQL driver installed is psycopg 3: postgresql+psycopg://…"
        raise CommandError(f"DATABASE_URL: cannot open the database ({reason})") from None


def _check_tokens(db):  # type: ignore[no-untyped-def]
    """Stored bot tokens that MENTOR_ENCRYPTION_KEY cannot open stop start-up in one line,
    rather than every request and every delivery failing later."""
    from bot.store import installations
    from bot.store.crypto import SealedTokenError

    try:
        db.call(installations.check_readable)
    except SealedTokenError as error:
        raise CommandError(str(error)) from None


def _serve(_args: argparse.Namespace) -> int:
    from bot.runtime import serve

    settings = load_settings()
    content = _load_content_or_fail(settings.content_dir)
    db = _open_database(settings)
    _check_tokens(db)
    try:
        serve(settings, content, db)
    except OSError as error:
        port = (
            f"MENTOR_METRICS_PORT {settings.metrics_port}"
            if settings.socket_mode
            else f"PORT {settings.port}"
        )
        raise _listen_error(error, port) from None
    return 0


def _listen_error(error: OSError, port: str) -> Exception:
    """A port that cannot be listened on (taken, or privileged), said in one line."""
    import errno

    if error.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
        return error
    return CommandError(f"{port}: cannot listen there ({error.strerror or error})")


def _worker(_args: argparse.Namespace) -> int:
    from bot.runtime import run_worker

    settings = load_settings(serves_slack=False)
    content = _load_content_or_fail(settings.content_dir)
    db = _open_database(settings)
    _check_tokens(db)
    try:
        run_worker(settings, content, db)
    except OSError as error:
        raise _listen_error(error, f"MENTOR_METRICS_PORT {settings.metrics_port}") from None
    return 0


def _tick(args: argparse.Namespace) -> int:
    from bot.runtime import TICK_BUDGET_SECONDS, tick

    settings = load_settings(serves_slack=False)
    content = _load_content_or_fail(settings.content_dir)
    db = _open_database(settings)
    _check_tokens(db)
    now = args.now or datetime.now(UTC)
    ahead = now - datetime.now(UTC)
    if ahead > FAR_AHEAD:
        # Run as asked (SPEC: one pass as of --now), but said: tips and prompts planned
        # as of then wait for then, so a mistyped year silences the real ones until it.
        print(
            f"mentor-bot: warning: tick --now is {_count(ahead.days, 'day')} ahead of this "
            "machine's clock; what it plans as of then holds back the real messages until then",
            file=sys.stderr,
        )
    budget = args.budget if args.budget is not None else TICK_BUDGET_SECONDS
    # A budget that runs out, or SIGTERM, still exits 0: the summary says what is left.
    report = tick(settings, content, db, now=now, budget=budget, signals=True)
    print(report.summary(), flush=True)
    return 0


def _content_check(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from bot.content import ContentError

    directory = args.dir or os.environ.get("MENTOR_CONTENT_DIR") or None
    if directory is not None and not Path(directory).expanduser().is_dir():
        # One line, as serve says it, not "file not found" for each file of the folder.
        raise ConfigError(
            f"content check: {directory} is not a folder; give the folder that holds "
            "practices.yml, messages.yml and settings.yml"
        )
    try:
        content, warnings = _load_checked_content(directory)
    except ContentError as error:
        for problem in error.problems:
            print(problem)
        return 1
    for warning in warnings:
        print(warning)
    print(
        f"{content.directory}: ok ({len(content.mentor_practices)} mentor practices, "
        f"{len(content.mentee_practices)} mentee practices, "
        f"{len(content.get_together)} get-together steps, {len(content.messages)} messages)"
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from bot.content import ContentError
    from bot.demo import run_demo

    if args.content is not None and not Path(args.content).expanduser().is_dir():
        raise ConfigError(  # one line, as content check says it
            f"--content {args.content} is not a folder; give the folder that holds "
            "practices.yml, messages.yml and settings.yml"
        )
    try:
        content, warnings = _load_checked_content(args.content)
    except ContentError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 1
    for warning in warnings:
        print(warning, file=sys.stderr)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {args.out} is a file; give a folder (made if missing)")
    try:
        run_demo(content, out, days=args.days, seed=args.seed)
    except BrokenPipeError:
        raise  # its reader stopped reading (`| head`): not --out's
    except OSError as error:
        raise CommandError(f"--out {args.out}: {error.strerror or error}") from None
    return 0


def _match(args: argparse.Namespace) -> int:
    settings = load_settings(require_slack=False)
    content = _load_content_or_fail(settings.content_dir)
    db = _open_database(settings, migrate=False)
    try:
        return _propose_and_approve(args, db, content)
    finally:
        db.dispose()


def _propose_and_approve(args: argparse.Namespace, db: Any, content: Any) -> int:
    from bot.services import matching

    now = datetime.now(UTC)
    labels = {t.id: t.label for t in content.topics}
    with db.session() as session:
        _require_known_team(session, args.team)
        proposal = matching.compute_proposal(
            session, team_id=args.team, by=matching.CLI, now=now, topic_labels=labels
        )
        print(
            f"{_count(len(proposal.pairs), 'pair')} from {_count(proposal.pool_size, 'person')} "
            f"(total fit {proposal.total_score:.3f}, {proposal.method} solver)"
        )
        for line in proposal.pairs:
            print(
                f"  {line.mentor_id} -> {line.mentee_id}  {line.score:.3f}  "
                + "; ".join(line.reasons)
            )
        if proposal.unmatched:
            print("unmatched: " + ", ".join(proposal.unmatched))
        if args.dry_run:
            session.rollback()
            print("dry run: nothing saved")
            return 0
        approval = matching.approve(
            session,
            team_id=args.team,
            proposal_id=proposal.id,
            by=matching.CLI,
            selected=None,
            now=now,
        )
    print(
        f"approved: {_count(len(approval.invited), 'invitation')} and "
        f"{_count(len(approval.unmatched), 'note')} of 'not this round' queued; they go out "
        "with the next scheduler pass (serve, worker, or mentor-bot tick)"
    )
    for reason in approval.skipped:
        print(f"skipped: {reason}")
    return 0


def _count(n: int, noun: str) -> str:
    plural = "people" if noun == "person" else f"{noun}s"
    return f"{n} {noun if n == 1 else plural}"


def _require_known_team(session: Any, team_id: str) -> None:
    from bot.store import repo

    if not repo.team_known(session, team_id=team_id):
        raise CommandError(
            f"--team {team_id}: nobody from that workspace has used the bot here; check the "
            "ID (Slack workspace IDs look like T0123ABCD)"
        )


def _report(args: argparse.Namespace) -> int:
    if args.outcomes and args.chart:
        print(
            "mentor-bot: --chart draws the weekly figures; leave it out with --outcomes",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.chart:
        from pathlib import Path

        folder = Path(args.chart).expanduser().resolve().parent
        if not folder.is_dir() or Path(args.chart).is_dir():
            # Said before the report runs: it freezes the weeks it shows.
            raise ConfigError(f"--chart {args.chart}: give a file name in a folder that exists")
    settings = load_settings(require_slack=False)
    content = _load_content_or_fail(settings.content_dir)
    db = _open_database(settings, migrate=False)
    try:
        return _print_report(args, db, content, settings.admins)
    finally:
        db.dispose()


def _print_report(args: argparse.Namespace, db: Any, content: Any, coordinators: Any) -> int:
    from pathlib import Path

    from bot.reporting import format_outcomes, format_report, weekly_chart_png
    from bot.services.insights import program_report
    from bot.services.outcomes import outcome_report

    with db.session() as session:
        _require_known_team(session, args.team)
    if args.outcomes:
        with db.session() as session:
            outcomes = outcome_report(
                session,
                team_id=args.team,
                now=datetime.now(UTC),
                minimum=content.settings.privacy_minimum_people,
            )
        print(format_outcomes(content, outcomes, args.format), end="")
        return 0
    if not coordinators:
        print(
            "mentor-bot: MENTOR_ADMINS is not set here, so a week this report freezes keeps "
            "the coordinators' answers (App Home hides those figures from them)",
            file=sys.stderr,
        )
    with db.session() as session:
        # No viewer: the operator who runs this already has the database.
        data = program_report(
            session,
            team_id=args.team,
            now=datetime.now(UTC),
            coordinators=coordinators,
            minimum=content.settings.privacy_minimum_people,
        )
    print(format_report(data, args.format))
    if args.chart:
        Path(args.chart).write_bytes(weekly_chart_png(data))
        print(f"chart written to {args.chart}", file=sys.stderr)
    return 0


def _outbox_list(args: argparse.Namespace) -> int:
    from bot.store import outbox

    settings = load_settings(require_slack=False)
    db = _open_database(settings, migrate=False)
    try:
        with db.session() as session:
            rows = outbox.list_rows(
                session,
                statuses=(args.status,) if args.status else OPEN_STATUSES,
                team_id=args.team,
                kind=args.kind,
                limit=args.limit + 1,
            )
            # A mistyped --kind ("tipp") is not an empty outbox: say which kinds exist.
            kinds = outbox.open_kinds(session) if args.kind and not rows else ()
    finally:
        db.dispose()
    more = len(rows) > args.limit
    rows = rows[: args.limit]
    header = ("id", "team", "kind", "recipient", "due (UTC)", "status", "attempts", "last error")
    table = [header] + [
        (
            str(row.id),
            row.team_id,
            row.kind,
            row.recipient,
            row.due_at.strftime("%Y-%m-%d %H:%M"),
            row.status,
            str(row.attempts),
            # Slack's error codes and our own reasons; one line whatever they hold.
            " ".join((row.last_error or "").split()),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header) - 1)]
    for line in table:
        padded = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        print("  ".join([*padded, line[-1]]).rstrip())
    if more:
        print(f"(more rows than --limit {args.limit}; narrow with --status/--team/--kind)")
    elif not rows:
        print("(no rows)")
        if args.kind and args.kind not in kinds:
            seen = ", ".join(kinds) or "none"
            print(f"(no open row is of kind {args.kind!r}; open rows are of kinds: {seen})")
    return 0


def _outbox_change(args: argparse.Namespace, verb: str) -> int:
    from bot.store import outbox

    settings = load_settings(require_slack=False)
    db = _open_database(settings, migrate=False)
    try:
        with db.session() as session:
            if verb == "retry":
                count = outbox.retry_rows(session, ids=args.ids, now=datetime.now(UTC))
            else:
                count = outbox.cancel_rows(session, ids=args.ids)
    except outbox.ChangeRefused as error:
        raise CommandError(f"outbox {verb}: {error}") from None
    finally:
        db.dispose()
    if verb == "retry":
        print(f"{count} row(s) pending again, due now; the next scheduler pass sends them")
    else:
        print(f"{count} row(s) cancelled")
    return 0


def _outbox_retry(args: argparse.Namespace) -> int:
    return _outbox_change(args, "retry")


def _outbox_cancel(args: argparse.Namespace) -> int:
    return _outbox_change(args, "cancel")


def _db_reencrypt(_args: argparse.Namespace) -> int:
    from bot.store import installations
    from bot.store.crypto import SealedTokenError

    settings = load_settings(require_slack=False)
    if not settings.encryption_keys:
        raise ConfigError(
            "MENTOR_ENCRYPTION_KEY is required for db reencrypt (Fernet keys, comma-separated; "
            "the first encrypts)"
        )
    db = _open_database(settings, migrate=False)
    try:
        count = db.call(installations.reencrypt)
    except SealedTokenError as error:
        raise CommandError(str(error)) from None
    print(f"re-encrypted the tokens of {count} installation(s) with the first key")
    return 0


def _db_upgrade(_args: argparse.Namespace) -> int:
    from bot.store.migrate import current_revision

    settings = load_settings(require_slack=False)
    db = _open_database(settings)
    print(f"database at revision {current_revision(db.engine)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
