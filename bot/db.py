"""One engine per app, one session per request (closed on teardown). Migrating is a deploy step: bot/schema.py."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from bot import config
from common.private_files import private_dir, private_file


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


def init_app(app: Flask) -> None:
    """The engine (`db_engine`) and the session factory; the schema is checked later (bot.schema_cli)."""
    engine = make_engine(app.config["DATABASE_URL"], app.config.get("DB_POOL_SIZE", 20))
    app.extensions["db_engine"] = engine
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
