"""Migrating is a deploy step (`flask --app bot db upgrade`, bot/schema.py): safe when several processes run it at
once, and a gateway on a database not at the code's head refuses to start, naming the command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

from bot import create_app
from bot.db import make_engine
from bot.schema import SchemaOutdated, alembic_config, head_revision
from tests.support import databases

ROOT = Path(__file__).resolve().parents[2]


def flask_cli(url: str, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """`flask --app bot ARGS` as an operator runs it, on the database at `url`."""
    env = {**os.environ, "AUSKUNFT_DATABASE_URL": url, "AUSKUNFT_LOG_DIR": str(tmp_path / "log"),
           "SECRET_KEY": "x", "AUSKUNFT_KB_WATCH": "false", "AUSKUNFT_CONFIG_FILE": ""}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "bot", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finished(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    """Exit code, what it printed (stdout) and its errors and log lines (stderr)."""
    out, err = process.communicate(timeout=240)
    return process.returncode, out, err


def empty_database(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'gateway.db'}"
    databases.require_postgresql()
    return databases.new_postgres_database()


def one_behind(url: str) -> str:
    """Migrate `url` to the revision before the head; that revision."""
    config = alembic_config()
    engine = make_engine(url, pool_size=1)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        command.downgrade(config, "-1")
    with engine.connect() as connection:
        previous = connection.scalar(text("SELECT version_num FROM alembic_version"))
    engine.dispose()
    return str(previous)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_two_upgrades_at_once_on_an_empty_database_migrate_it_once(kind: str, tmp_path: Path) -> None:
    url = empty_database(kind, tmp_path)
    processes = [flask_cli(url, tmp_path, "db", "upgrade") for _ in range(2)]
    results = [finished(process) for process in processes]
    assert [code for code, _, _ in results] == [0, 0], results
    outputs = [output for _, output, _ in results]
    head = head_revision()
    # one migrated, the other waited for the lock and found the head
    assert sum(f"Revision keine → {head}" in output for output in outputs) == 1, outputs
    assert sum(f"Datenbankschema ist aktuell (Revision {head})" in output for output in outputs) == 1, outputs
    engine = make_engine(url, pool_size=1)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [(head,)]
    assert {"conversations", "messages", "feedback"} <= set(inspect(engine).get_table_names())
    engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_gateway_on_a_database_one_revision_behind_refuses_to_start(kind: str, tmp_path: Path) -> None:
    url = empty_database(kind, tmp_path)
    previous, head = one_behind(url), head_revision()
    with pytest.raises(SchemaOutdated) as refused:  # what gunicorn's worker and every `flask --app bot` build
        create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url})
    assert str(refused.value) == (
        f"Datenbankschema ist veraltet (Revision {previous}, Code erwartet {head}): flask --app bot db upgrade "
        f"ausführen / database schema is behind (revision {previous}, code expects {head}): run flask --app bot db "
        "upgrade"
    )
    engine = make_engine(url, pool_size=1)
    with engine.connect() as connection:  # nothing migrated behind the operator's back
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == previous
    engine.dispose()


def test_the_operators_commands_are_refused_until_db_upgrade(tmp_path: Path) -> None:
    """Every command but `db` stops with the message (no traceback); `db upgrade` brings the database to the head."""
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    previous, head = one_behind(url), head_revision()
    code, _, errors = finished(flask_cli(url, tmp_path, "create-agent", "eva@example.com", "--name", "Eva"))
    assert code == 1 and "Traceback" not in errors
    assert f"Error: Datenbankschema ist veraltet (Revision {previous}, Code erwartet {head})" in errors
    code, output, _ = finished(flask_cli(url, tmp_path, "db", "upgrade"))
    assert code == 0 and output == f"Datenbankschema aktualisiert: Revision {previous} → {head}.\n"
    assert finished(flask_cli(url, tmp_path, "db", "current"))[:2] == (0, f"Datenbank: {head}, Code: {head}\n")
    create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url}).extensions["db_engine"].dispose()


def test_an_empty_database_is_behind_too(tmp_path: Path) -> None:
    with pytest.raises(SchemaOutdated, match=r"Revision keine, Code erwartet \d+\): flask --app bot db upgrade"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"})
