"""The one test gateway: `make_app` is how every test (and benchmark) builds it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from bot import create_app
from bot.integrations.faq_search import KnowledgeBaseSearch
from bot.integrations.kb_reload import record_metrics
from bot.integrations.rasa_client import RasaClient
from knowledge_base.embedding import TextEmbedder
from knowledge_base.engine import KnowledgeBase
from knowledge_base.settings import Settings
from tests.support import databases

UNREACHABLE_RASA = "http://127.0.0.1:9"
"""The discard port: refused at once, so a test that meant to script Rasa fails fast instead of waiting."""


def make_app(tmp_path: Path, rasa: RasaClient | None = None, **overrides: Any) -> Flask:
    """A gateway in testing mode with its own database, migrated here (`create_app` only checks it): a SQLite file
    in `tmp_path`, or a PostgreSQL database with `AUSKUNFT_TEST_DATABASE=postgresql` (tests/support/databases.py);
    the action server's feedback file in `tmp_path` either way.

    It reaches nothing the test did not start: `rasa` (else a Rasa that refuses at once), no action server
    to reload, no watcher on the FAQ folder. Quick SSE keep-alives so streams end soon. No background answering
    of owed messages (`PENDING_WORKER`): a test that needs it switches it on and stops it, or calls
    `app.extensions["pending"].run_once()`. No throttling (`RATELIMIT_ENABLED`): tests send many requests from
    one address; tests/security/test_limits.py switches it on. `overrides` replace or add config keys
    (`RASA_CLIENT`, `FAQ_SEARCH`, channel secrets, `CLOCK`, …).
    """
    if "DATABASE_URL" in overrides:
        databases.migrate(overrides["DATABASE_URL"])
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": overrides.get("DATABASE_URL") or databases.migrated_url(tmp_path),
            "RASA_CLIENT": rasa or RasaClient(UNREACHABLE_RASA, timeout=1),
            "FEEDBACK_DB": tmp_path / "feedback.db",
            "LEARNED_PAIRS_FILE": tmp_path / "learned_pairs.jsonl",  # never the project's var/
            "ACTIONS_URL": "",
            "KB_WATCH": False,
            "SSE_KEEPALIVE_SECONDS": 0.2,
            "PENDING_WORKER": False,
            "RATELIMIT_ENABLED": False,
            **overrides,
        }
    )
    databases.track(app.extensions["db_engine"])
    return app


def faq_search(
    source: Settings | KnowledgeBase, embedder: TextEmbedder | None = None, watch: bool = False
) -> KnowledgeBaseSearch:
    """The gateway's knowledge base for `FAQ_SEARCH`, reload metrics recorded as in production.

    `Settings`: built from its FAQ folder, and again on each reload, so an edit of the files shows (the editors'
    live reload); `embedder` None = the configured model; `watch`: a file watcher once loaded. A `KnowledgeBase`:
    served as it is.
    """
    if isinstance(source, KnowledgeBase):
        return KnowledgeBaseSearch(factory=lambda: source, on_reload=record_metrics)
    return KnowledgeBaseSearch(
        factory=lambda: KnowledgeBase(source, embedder=embedder), watch=watch, on_reload=record_metrics
    )
