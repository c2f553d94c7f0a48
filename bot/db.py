"""One engine per app, one session per request (closed on teardown); migrations run at start-up."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from bot import config
from common.private_files import private_dir, private_file

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
MIGRATION_LOCK_KEY = 72051114
"""PostgreSQL advisory lock held while migrating (any number; the same in every gateway process)."""


def private_sqlite(path: Path) -> None:
    """The database file 0600 in a folder created 0700 (the project's `var/` made 0700 if it is not): customers'
    messages and addresses are for the gateway's user only, not for every local account."""
    if str(path) in ("", ":memory:"):
        return
    private_dir(path.parent, fix_existing=path.parent.resolve() == config.VAR.resolve())
    private_file(path)


def make_engine(url: str, pool_size: int = 20) -> Engine:
    """`pool_size` connections stay open and as many again may open under load: every server thread (and the
    background threads) can hold one at once, so none waits for a connection another thread needs to go on."""
    pool = {"pool_size": pool_size, "max_overflow": pool_size}
    if url.startswith("sqlite:///"):
        private_sqlite(Path(url.removeprefix("sqlite:///")))
        # threads share the file (SSE streams and requests); WAL lets readers run beside the writer
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


def upgrade(engine: Engine) -> None:
    """`alembic upgrade head` on this engine's connection, one process at a time: gunicorn's workers (and other
    machines) start together, and two migrating at once fail ("table … already exists")."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with sqlite_file_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # held until this transaction ends
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """A SQLite database (one machine): a lock file beside it, held until the migration is committed."""
    database = engine.url.database or ""
    if engine.dialect.name != "sqlite" or database in ("", ":memory:"):
        yield
        return
    lock_path = Path(f"{database}.migrating")
    private_file(lock_path)  # beside the customers' data, as private as it (it holds nothing)
    with lock_path.open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        yield


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"], app.config.get("DB_POOL_SIZE", 20))
    upgrade(engine)
    app.extensions["db_sessions"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(close_session)


def session_factory() -> sessionmaker[Session]:
    return current_app.extensions["db_sessions"]


def get_session() -> Session:
    if "db" not in g:
        g.db = session_factory()()
    return g.db


def close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()
