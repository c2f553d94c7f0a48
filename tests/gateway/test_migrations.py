"""The Alembic history is one line and builds exactly the tables the models describe, up and down again."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from bot.db import make_engine
from bot.models import Base
from bot.schema import MIGRATIONS, upgrade
from tests.support import databases


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def test_history_has_one_head() -> None:
    assert len(ScriptDirectory.from_config(_config()).get_heads()) == 1


def database(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'gateway.db'}"
    databases.require_postgresql()
    return databases.new_postgres_database()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migrated_database_matches_the_models(kind: str, tmp_path: Path) -> None:
    engine = make_engine(database(kind, tmp_path))
    upgrade(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_downgrade_to_nothing_and_up_again(kind: str, tmp_path: Path) -> None:
    engine = make_engine(database(kind, tmp_path))
    upgrade(engine)
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()
