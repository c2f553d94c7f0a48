"""The database schema's version: Alembic's upgrade as a deploy step, under a lock, and the check at start-up.

Migrating is explicit (`flask --app bot db upgrade`, or `python -m bot run` before it starts the gateway), not a
side effect of every `create_app`: several gateways starting at once on an empty database would each run the
migrations and all but one crash. The upgrade holds a lock while it runs, so any number of processes may run it
at once: the first migrates, the others wait, then find the head and do nothing.
"""

from __future__ import annotations

import fcntl
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from common.private_files import private_file

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
UPGRADE_COMMAND = "flask --app bot db upgrade"
# pg_advisory_lock's key: any fixed number; advisory locks are per database, so other databases do not wait
LOCK_KEY = zlib.crc32(b"auskunft-migrations")


class SchemaOutdated(click.ClickException):
    """The database's revision is not the code's head. A ClickException, so that `flask --app bot …` prints the
    message alone and exits 1; anywhere else it stops the start like any exception, with the same message."""

    def __init__(self, current: str | None, head: str) -> None:
        self.current, self.head = current, head
        shown = current or "keine"
        if current is not None and current not in known_revisions():
            message = (
                f"Datenbankschema ist neuer als der Code (Revision {current}, Code erwartet {head}): "
                f"neueren Code installieren / database schema is newer than the code (revision {current}, "
                f"code expects {head}): deploy the newer code"
            )
        else:
            message = (
                f"Datenbankschema ist veraltet (Revision {shown}, Code erwartet {head}): {UPGRADE_COMMAND} "
                f"ausführen / database schema is behind (revision {current or 'none'}, code expects {head}): "
                f"run {UPGRADE_COMMAND}"
            )
        super().__init__(message)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "migrations/ has no revisions"
    return head


@cache
def known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions())


def current_revision(engine: Engine) -> str | None:
    """The database's revision; None for an empty database (no `alembic_version`)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def require_head(engine: Engine) -> None:
    """Raise SchemaOutdated unless the database is at the code's head (an empty one is behind too)."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutdated(current, head)


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """`alembic upgrade head` under the migration lock; the revisions before and after."""
    with _migration_lock(engine) as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        connection.commit()  # the check's implicit transaction; the migrations run in their own
        config = alembic_config()
        config.attributes["connection"] = connection
        with connection.begin():
            command.upgrade(config, "head")
        return before, head_revision()


def report(before: str | None, after: str) -> str:
    """What an upgrade did, for the operator."""
    if before == after:
        return f"Datenbankschema ist aktuell (Revision {after})."
    return f"Datenbankschema aktualisiert: Revision {before or 'keine'} → {after}."


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection held under the lock. PostgreSQL: a session-level advisory lock on this very connection,
    released before it goes back to the pool. SQLite: an exclusive file lock next to the database (SQLite runs
    DDL outside transactions, so its own write lock would not cover a whole upgrade)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
            connection.commit()
            try:
                yield connection
            finally:
                connection.rollback()  # whatever failed: the unlock must not run in an aborted transaction
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                connection.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    # nothing another process could share (of the servers, only PostgreSQL is supported)
    if not database or database == ":memory:":
        with engine.connect() as connection:
            yield connection
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate-lock")
    private_file(lock_path)
    with lock_path.open("r+") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # released when the file closes, also if the process dies
        with engine.connect() as connection:
            yield connection
