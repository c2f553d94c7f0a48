"""The action server's feedback records (`var/feedback.db`, actions/feedback_store.py), read and deleted by sender.

They hold the customer's question as typed, so a customer's export lists them, erasure deletes them and
retention drops the old ones. The file is the action server's; a missing file or table means nothing stored.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.config import VAR


def configured_path() -> Path:
    return Path(os.environ.get("AUSKUNFT_FEEDBACK_DB", VAR / "feedback.db"))


class ActionFeedback:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection | None:
        if not self.path.exists():
            return None
        connection = sqlite3.connect(self.path)
        connection.row_factory = sqlite3.Row
        if not connection.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='feedback'").fetchone():
            connection.close()
            return None
        return connection

    def rows(self, sender_ids: Iterable[str]) -> list[dict[str, Any]]:
        senders = list(sender_ids)
        if not senders or (connection := self._connect()) is None:
            return []
        with connection:
            marks = ",".join("?" * len(senders))
            found = connection.execute(f"SELECT * FROM feedback WHERE sender_id IN ({marks}) ORDER BY id", senders)
            result = [dict(row) for row in found]
        connection.close()
        return result

    def delete(self, sender_ids: Iterable[str]) -> int:
        senders = list(sender_ids)
        if not senders or (connection := self._connect()) is None:
            return 0
        with connection:
            marks = ",".join("?" * len(senders))
            deleted = connection.execute(f"DELETE FROM feedback WHERE sender_id IN ({marks})", senders).rowcount
        connection.close()
        return deleted

    def purge(self, sender_ids: Iterable[str], cutoff: datetime, dry_run: bool = False) -> int:
        """Records of these conversations, and any written before `cutoff` (`created_at` is ISO 8601 UTC, so
        text order is time order); with `dry_run` only counted."""
        if (connection := self._connect()) is None:
            return 0
        senders = list(sender_ids)
        where = f"created_at < ? OR sender_id IN ({','.join('?' * len(senders))})"
        params = [cutoff.isoformat(timespec="seconds"), *senders]
        with connection:
            if dry_run:
                count = connection.execute(f"SELECT COUNT(*) FROM feedback WHERE {where}", params).fetchone()[0]
            else:
                count = connection.execute(f"DELETE FROM feedback WHERE {where}", params).rowcount
        connection.close()
        return int(count)
