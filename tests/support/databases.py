"""The tests' throwaway gateway databases: a SQLite file in the test's folder, or with
`AUSKUNFT_TEST_DATABASE=postgresql` a fresh PostgreSQL database per test folder, dropped after the test.

PostgreSQL: the server and the name prefix come from `AUSKUNFT_TEST_POSTGRES_URL` (default
`postgresql+psycopg://postgres@127.0.0.1:5432/auskunft_test`; the databases are `<name>_<random>`). Each process
migrates one template database once (`flask --app bot db upgrade`'s code) and copies it per test
(`CREATE DATABASE … TEMPLATE`, much faster than migrating each); tests/conftest.py drops them after each test.
"""

from __future__ import annotations

import atexit
import os
import secrets
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from bot.db import make_engine
from bot.schema import upgrade

KIND_ENV = "AUSKUNFT_TEST_DATABASE"
POSTGRES_ENV = "AUSKUNFT_TEST_POSTGRES_URL"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/auskunft_test"

_lock = threading.Lock()
_by_folder: dict[Path, str] = {}  # a test that builds a second app on its folder gets the same database
_created: list[str] = []  # to drop after the test
_engines: list[Engine] = []  # the apps' engines on them, closed first
_template: str | None = None


def on_postgresql() -> bool:
    return os.environ.get(KIND_ENV, "sqlite").lower() in ("postgresql", "postgres")


def require_postgresql() -> None:
    """Skip a test that needs the PostgreSQL server when none answers, unless the run is meant for PostgreSQL."""
    try:
        _execute("SELECT 1")
    except OperationalError as error:
        if on_postgresql():
            raise
        pytest.skip(f"no PostgreSQL server at {make_url(postgres_url()).render_as_string()}: {error.orig}")


def server_answers() -> bool:
    try:
        _execute("SELECT 1")
    except OperationalError:
        return False
    return True


def postgres_url(database: str | None = None) -> str:
    url = make_url(os.environ.get(POSTGRES_ENV) or DEFAULT_POSTGRES)
    return url.set(database=database or url.database).render_as_string(hide_password=False)


def migrated_url(folder: Path) -> str:
    """The gateway database of the test using `folder`, migrated to head: the same URL for the same folder."""
    if not on_postgresql():
        url = f"sqlite:///{folder / 'gateway.db'}"
        migrate(url)
        return url
    with _lock:
        if folder not in _by_folder:
            _by_folder[folder] = _create(f'TEMPLATE "{_migrated_template()}"')
        return postgres_url(_by_folder[folder])


def new_postgres_database() -> str:
    """An empty PostgreSQL database (no schema), dropped after the test like the others."""
    with _lock:
        return postgres_url(_create(""))


def migrate(url: str) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def track(engine: Engine) -> None:
    """An app's engine on a test database: disposed before the database is dropped."""
    if on_postgresql():
        with _lock:
            _engines.append(engine)


def drop_created() -> None:
    """Drop this process's test databases (connections still open to them are ended: WITH (FORCE))."""
    with _lock:
        names, engines = list(_created), list(_engines)
        _created.clear()
        _engines.clear()
        _by_folder.clear()
    for engine in engines:
        engine.dispose()
    for name in names:
        _execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


atexit.register(drop_created)


def _create(options: str) -> str:
    name = f"{_prefix()}_{secrets.token_hex(6)}"
    _execute(f'CREATE DATABASE "{name}" {options}')
    _created.append(name)
    return name


def _prefix() -> str:
    return make_url(postgres_url()).database or "auskunft_test"


def _migrated_template() -> str:
    global _template
    if _template is None:
        name = f"{_prefix()}_template_{secrets.token_hex(4)}"
        _execute(f'CREATE DATABASE "{name}"')
        atexit.register(_execute, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        migrate(postgres_url(name))
        _template = name
    return _template


def _server() -> Engine:
    return create_engine(postgres_url("postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _execute(statement: str) -> None:
    engine = _server()
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


if __name__ == "__main__":  # `make test`: exit 0 when the PostgreSQL server for the tests answers
    raise SystemExit(0 if server_answers() else 1)
