"""Recording whether an answer helped, per FAQ entry, for analytics.

One SQLite file (`var/feedback.db`, or `AUSKUNFT_FEEDBACK_DB`) that the gateway and reports can
read; a connection per write keeps it safe across the action server's threads.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from common.pii import mask
from knowledge_base.settings import PROJECT_ROOT

log = logging.getLogger("auskunft.feedback")

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


def feedback_db() -> Path:
    return Path(os.environ.get("AUSKUNFT_FEEDBACK_DB", PROJECT_ROOT / "var" / "feedback.db"))


def record_feedback(
    sender_id: str, faq_id: str | None, helpful: bool, kind: str, question: str | None, db: Path | None = None
) -> None:
    """Store one verdict; `kind` says where it came from (`button`, `none_of_these`, `choice`)."""
    path = db or feedback_db()
    path.parent.mkdir(parents=True, exist_ok=True)
    row = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sender_id": sender_id,
        "faq_id": faq_id,
        "helpful": int(helpful),
        "kind": kind,
        "question": mask(question) if question else question,  # for analytics: no addresses, numbers, IBANs
    }
    with sqlite3.connect(path) as connection:
        connection.execute(SCHEMA)
        connection.execute(
            "INSERT INTO feedback (created_at, sender_id, faq_id, helpful, kind, question)"
            " VALUES (:created_at, :sender_id, :faq_id, :helpful, :kind, :question)",
            row,
        )
    connection.close()
    log.info(json.dumps({"event": "feedback", **row}, ensure_ascii=False))
