"""The feedback log: whether an answer helped, per FAQ entry — the one owner of the `feedback` table.

The action server writes it (the customer's Ja/Nein and "Nichts davon"); the gateway reads it for a customer's
GDPR export, deletes from it for erasure and retention, and counts it per entry for the editors' FAQ pages.
Both sides go through this module, so where the records live and their schema exist once.

Where (`configured_url`, read at each call: tests set the environment):
1. `AUSKUNFT_FEEDBACK_DATABASE_URL`, any SQLAlchemy URL;
2. else `AUSKUNFT_DATABASE_URL` when it is a server database (PostgreSQL): the gateway's own database, which
   both processes reach, so several machines share the records — the table comes from the gateway's
   migration 0012 (`flask --app bot db upgrade`), never from this module;
3. else the SQLite file `AUSKUNFT_FEEDBACK_DB` (default `var/feedback.db`), created with its table on the first
   record, as the action server may run where the gateway's SQLite file is not.

SQLAlchemy Core, imported on first use (importing the action server loads no database library). A missing file
or table reads as "nothing recorded", so the gateway works before the first verdict.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.pii import mask
from common.private_files import private_dir, private_file

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine, MetaData, Table

ENV = "AUSKUNFT_FEEDBACK_DB"
URL_ENV = "AUSKUNFT_FEEDBACK_DATABASE_URL"
GATEWAY_URL_ENV = "AUSKUNFT_DATABASE_URL"
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "var" / "feedback.db"
TABLE = "feedback"

log = logging.getLogger("auskunft.feedback")


def configured_path() -> Path:
    """`AUSKUNFT_FEEDBACK_DB`, else `var/feedback.db` in the project: the file when no server database is set."""
    return Path(os.environ.get(ENV) or DEFAULT_PATH)


def configured_url(database_url: str | None = None) -> str:
    """The rule in the module docstring; `database_url` is the gateway's (its config file may set it), else the
    environment's `AUSKUNFT_DATABASE_URL`."""
    if explicit := os.environ.get(URL_ENV):
        return explicit
    gateway = database_url or os.environ.get(GATEWAY_URL_ENV) or ""
    if gateway and not gateway.startswith("sqlite"):
        return gateway
    return f"sqlite:///{configured_path()}"


@cache
def metadata() -> MetaData:
    """The table, once: bot.models adds it to the gateway's metadata, so its migration is checked against it."""
    from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text

    schema = MetaData()
    Table(
        TABLE,
        schema,
        Column("id", Integer, primary_key=True),
        Column("created_at", String(32), nullable=False),  # ISO 8601 UTC: text order is time order
        Column("sender_id", Text, nullable=False),  # the Rasa conversation
        Column("faq_id", Text),
        Column("helpful", Integer, nullable=False),  # 1/0, as the files written before PostgreSQL have it
        Column("kind", String(32), nullable=False),
        Column("question", Text),  # masked
        Index("ix_feedback_sender_id", "sender_id"),
        Index("ix_feedback_faq_id", "faq_id"),
    )
    return schema


def table() -> Table:
    return metadata().tables[TABLE]


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _engine(url: str) -> Engine:
    """One engine per URL and process (the action server builds a FeedbackLog per verdict). SQLite: a connection
    per call, as the file may be deleted or replaced meanwhile; a server: a small pool."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    with _engines_lock:
        if url not in _engines:
            if url.startswith("sqlite"):
                _engines[url] = create_engine(url, poolclass=NullPool)
            else:
                _engines[url] = create_engine(url, pool_size=2, max_overflow=4, pool_pre_ping=True)
        return _engines[url]


@dataclass(frozen=True)
class FeedbackCounts:
    helpful: int = 0
    not_helpful: int = 0


class FeedbackLog:
    """One feedback store: `location` is a SQLAlchemy URL, a SQLite file's path, or None for `configured_url()`."""

    def __init__(self, location: Path | str | None = None) -> None:
        if location is None:
            location = configured_url()
        if isinstance(location, str) and "://" in location:
            self.url = location
        else:
            self.url = f"sqlite:///{location}"
        # the SQLite file (None on a server): created private on the first record, never by reading
        self.path = Path(self.url.removeprefix("sqlite:///")) if self.url.startswith("sqlite:///") else None

    def record(self, sender_id: str, faq_id: str | None, helpful: bool, kind: str, question: str | None) -> None:
        """Store one verdict and log it as one JSON line; `kind` says where it came from (`button`, `typed`,
        `none_of_these`), the question is masked (no addresses, numbers, IBANs: it is kept for analytics)."""
        engine = _engine(self.url)
        if self.path is not None:
            private_dir(self.path.parent)
            private_file(self.path)  # customers' questions (masked) and sender ids
            metadata().create_all(engine, checkfirst=True)
        row = {
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "sender_id": sender_id,
            "faq_id": faq_id,
            "helpful": int(helpful),
            "kind": kind,
            "question": mask(question) if question else question,
        }
        with engine.begin() as connection:
            connection.execute(table().insert().values(**row))
        log.info(json.dumps({"event": "feedback", **row}, ensure_ascii=False))

    def _connect(self) -> Connection | None:
        """A connection in a transaction when the store and its table exist, else None (reading creates nothing)."""
        from sqlalchemy import inspect

        if self.path is not None and not self.path.exists():
            return None
        connection = _engine(self.url).connect()
        exists = inspect(connection).has_table(TABLE)
        connection.rollback()  # the look-up's implicit transaction: the caller begins its own
        if not exists:
            connection.close()
            return None
        return connection

    def rows(self, sender_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Every record of these conversations (Rasa sender ids), oldest first: a customer's export."""
        senders = list(sender_ids)
        feedback = table()
        connection = self._connect() if senders else None
        if connection is None:
            return []
        with connection:
            query = feedback.select().where(feedback.c.sender_id.in_(senders)).order_by(feedback.c.id)
            found = connection.execute(query)
            return [dict(row._mapping) for row in found]

    def delete(self, sender_ids: Iterable[str]) -> int:
        """Erase these conversations' records; how many were deleted."""
        senders = list(sender_ids)
        feedback = table()
        connection = self._connect() if senders else None
        if connection is None:
            return 0
        with connection, connection.begin():
            return connection.execute(feedback.delete().where(feedback.c.sender_id.in_(senders))).rowcount

    def purge(self, sender_ids: Iterable[str], cutoff: datetime, dry_run: bool = False) -> int:
        """Records of these conversations, and any written before `cutoff` (`created_at` is ISO 8601 UTC, so
        text order is time order); with `dry_run` only counted."""
        from sqlalchemy import func, or_, select

        feedback = table()
        where = or_(
            feedback.c.created_at < cutoff.astimezone(UTC).isoformat(timespec="seconds"),
            feedback.c.sender_id.in_(list(sender_ids)),
        )
        connection = self._connect()
        if connection is None:
            return 0
        with connection, connection.begin():
            if dry_run:
                return int(connection.scalar(select(func.count()).select_from(feedback).where(where)) or 0)
            return int(connection.execute(feedback.delete().where(where)).rowcount)

    def counts(self, faq_id: str) -> FeedbackCounts:
        """Helpful / not helpful for one FAQ entry (the editors' entry page); a store that is not ours counts 0."""
        from sqlalchemy import func, select
        from sqlalchemy.exc import SQLAlchemyError

        feedback = table()
        try:
            connection = self._connect()
            if connection is None:
                return FeedbackCounts()
            with connection:
                query = select(feedback.c.helpful, func.count()).where(feedback.c.faq_id == faq_id)
                rows = connection.execute(query.group_by(feedback.c.helpful)).all()
        except SQLAlchemyError:  # not a database, or an unexpected schema: no numbers rather than an error page
            return FeedbackCounts()
        counts = {row[0]: row[1] for row in rows}
        return FeedbackCounts(helpful=counts.get(1, 0), not_helpful=counts.get(0, 0))
