"""Alembic environment: the gateway passes its connection in `config.attributes["connection"]`.

Stand-alone use: `AUSKUNFT_DATABASE_URL=… alembic -c migrations/alembic.ini upgrade head`.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from bot.models import Base

config = context.config
connection = config.attributes.get("connection")


def run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    from bot.config import from_env

    engine = create_engine(os.environ.get("AUSKUNFT_DATABASE_URL") or from_env()["DATABASE_URL"])
    with engine.begin() as own_connection:
        run(own_connection)
