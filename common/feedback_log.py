"""The feedback log: whether an answer helped, per FAQ entry — the one owner of `var/feedback.db`.

The action server writes it (the customer's Ja/Nein and "Nichts davon"); the gateway reads it for a customer's
GDPR export, deletes from it for erasure and retention, and counts it per entry for the editors' FAQ pages.
Both sides go through this module, so the file's place (`AUSKUNFT_FEEDBACK_DB`) and its schema exist once.
Plain sqlite3 and a connection per call: the action server writes from several threads, and neither side
needs more. A missing file or table reads as "nothing recorded", so the gateway works before the first verdict.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common.pii import mask
from common.private_files import private_dir, private_file

ENV = "AUSKUNFT_FEEDBACK_DB"
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "var" / "feedback.db"

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    faq_id TEXT,
    helpful INTEGER NOT NULL,
    kind TEXT NOT NULL,
    question TEXT
)
"""

log = logging.getLogger("auskunft.feedback")


def configured_path() -> Path:
    """`AUSKUNFT_FEEDBACK_DB`, else `var/feedback.db` in the project (read at each call: tests set it)."""
    return Path(os.environ.get(ENV) or DEFAULT_PATH)


@dataclass(frozen=True)
class FeedbackCounts:
    helpful: int = 0
    not_helpful: int = 0


class FeedbackLog:
    """One feedback file; `path` defaults to the configured one."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else configured_path()

    def record(self, sender_id: str, faq_id: str | None, helpful: bool, kind: str, question: str | None) -> None:
        """Store one verdict and log it as one JSON line; `kind` says where it came from (`button`, `typed`,
        `none_of_these`), the question is masked (no addresses, numbers, IBANs: it is kept for analytics)."""
        private_dir(self.path.parent)
        private_file(self.path)  # customers' questions (masked) and sender ids
        row = {
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "sender_id": sender_id,
            "faq_id": faq_id,
            "helpful": int(helpful),
            "kind": kind,
            "question": mask(question) if question else question,
        }
        with closing(sqlite3.connect(self.path)) as connection, connection:
            connection.execute(SCHEMA)
            connection.execute(
                "INSERT INTO feedback (created_at, sender_id, faq_id, helpful, kind, question)"
                " VALUES (:created_at, :sender_id, :faq_id, :helpful, :kind, :question)",
                row,
            )
        log.info(json.dumps({"event": "feedback", **row}, ensure_ascii=False))

    @contextmanager
    def _existing(self, read_only: bool = False) -> Iterator[sqlite3.Connection | None]:
        """A connection (one transaction) when the file and its table exist, else None."""
        if not self.path.exists():
            yield None
            return
        uri = self.path.resolve().as_uri() + ("?mode=ro" if read_only else "")
        with closing(sqlite3.connect(uri, uri=True)) as connection:
            connection.row_factory = sqlite3.Row
            found = connection.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='feedback'")
            if found.fetchone() is None:
                yield None
                return
            with connection:
                yield connection

    def rows(self, sender_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Every record of these conversations (Rasa sender ids), oldest first: a customer's export."""
        senders = list(sender_ids)
        with self._existing(read_only=True) as connection:
            if connection is None or not senders:
                return []
            marks = ",".join("?" * len(senders))
            found = connection.execute(f"SELECT * FROM feedback WHERE sender_id IN ({marks}) ORDER BY id", senders)
            return [dict(row) for row in found]

    def delete(self, sender_ids: Iterable[str]) -> int:
        """Erase these conversations' records; how many were deleted."""
        senders = list(sender_ids)
        with self._existing() as connection:
            if connection is None or not senders:
                return 0
            marks = ",".join("?" * len(senders))
            return connection.execute(f"DELETE FROM feedback WHERE sender_id IN ({marks})", senders).rowcount

    def purge(self, sender_ids: Iterable[str], cutoff: datetime, dry_run: bool = False) -> int:
        """Records of these conversations, and any written before `cutoff` (`created_at` is ISO 8601 UTC, so
        text order is time order); with `dry_run` only counted."""
        senders = list(sender_ids)
        where = f"created_at < ? OR sender_id IN ({','.join('?' * len(senders))})"
        params = [cutoff.isoformat(timespec="seconds"), *senders]
        with self._existing(read_only=dry_run) as connection:
            if connection is None:
                return 0
            if dry_run:
                return int(connection.execute(f"SELECT COUNT(*) FROM feedback WHERE {where}", params).fetchone()[0])
            return int(connection.execute(f"DELETE FROM feedback WHERE {where}", params).rowcount)

    def counts(self, faq_id: str) -> FeedbackCounts:
        """Helpful / not helpful for one FAQ entry (the editors' entry page); a file that is not ours counts 0."""
        try:
            with self._existing(read_only=True) as connection:
                if connection is None:
                    return FeedbackCounts()
                rows = connection.execute(
                    "SELECT helpful, COUNT(*) FROM feedback WHERE faq_id = ? GROUP BY helpful", (faq_id,)
                ).fetchall()
        except sqlite3.Error:  # not an SQLite file, or an unexpected schema: no numbers rather than an error page
            return FeedbackCounts()
        counts = {row[0]: row[1] for row in rows}
        return FeedbackCounts(helpful=counts.get(1, 0), not_helpful=counts.get(0, 0))
