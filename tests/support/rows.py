"""Every row of the gateway's database, to show that a refused request changed nothing."""

from __future__ import annotations

from typing import Any

from flask import Flask

from bot.db import session_factory
from bot.models import Base


def all_rows(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """{table: its rows}, each table's rows in a stable order."""
    with app.app_context(), session_factory()() as session:
        return {
            table.name: sorted(map(tuple, session.execute(table.select()).all()), key=repr)
            for table in Base.metadata.sorted_tables
        }
