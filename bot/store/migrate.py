"""Schema migrations with Alembic, bundled inside the package.

Alembic (about 10 MB resident with its templating) is imported only when there is
something to migrate: ``upgrade`` first reads ``alembic_version`` and compares it with
the newest revision named in ``migrations/versions`` (read as text), so a process
starting on an up-to-date database never loads it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Any constant works; it only has to be the same in every process of the app.
_PG_MIGRATION_LOCK = 7_020_231


_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(None|[\"']([^\"']+)[\"'])\s*$", re.MULTILINE)


def head_revision() -> str | None:
    """The newest revision of the bundled migrations, read from their text without
    importing Alembic; None if that text does not give exactly one head (a merge, a
    tuple of down revisions), and Alembic then decides."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        if down.group(2):
            downs.add(down.group(2))
    heads = revisions - downs
    return heads.pop() if len(heads) == 1 else None


def known_revisions() -> set[str]:
    """Every revision of the bundled migrations, read from their text."""
    return {
        found.group(1)
        for path in (MIGRATIONS_DIR / "versions").glob("*.py")
        if (found := _REVISION.search(path.read_text(encoding="utf-8")))
    }


def schema_problem(engine: Engine) -> str | None:
    """Why a command that only reads or fixes rows should not run on this database (it
    never creates nor migrates one: that is `db upgrade`'s, or `serve`'s): no Mentor Bot
    tables, an older schema, or one a newer release wrote. None when it is current."""
    if at_head(engine):
        return None
    try:
        revision = current_revision(engine)
    except SQLAlchemyError as error:
        return f"cannot read its schema ({str(error).splitlines()[0][:200]})"
    if revision is None:
        return "it holds no Mentor Bot tables (check DATABASE_URL, or run `mentor-bot db upgrade`)"
    if revision in known_revisions():
        return (
            f"its schema is older than this release (revision {revision}): run "
            "`mentor-bot db upgrade` first"
        )
    return (
        f"its schema is not one this release knows (revision {revision}); it was written by "
        "a newer release: run that one, or restore a backup"
    )


def at_head(engine: Engine) -> bool:
    """Whether the database is already at the newest revision (one small read)."""
    head = head_revision()
    if head is None:
        return False
    try:
        with engine.connect() as connection:
            # A plain BEGIN on SQLite. The flag lives on the pooled connection: it must
            # not outlive this read, or a later write there would not BEGIN IMMEDIATE.
            connection.info["write"] = False
            try:
                found = [
                    row[0]
                    for row in connection.execute(text("SELECT version_num FROM alembic_version"))
                ]
            finally:
                connection.rollback()
                connection.info.pop("write", None)
    except SQLAlchemyError:
        return False  # no alembic_version table yet: a new database
    return found == [head]


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision.

    On PostgreSQL several processes may start at once (web and worker), so the
    upgrade runs under an advisory lock and the later ones find nothing to do.
    """
    if at_head(engine):
        return
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
        finally:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                connection.commit()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
