"""Rasa's tracker store, read and deleted directly: Rasa 3.6 has no HTTP endpoint that deletes a conversation.

Rasa's SQL tracker store keeps every event of a conversation as one row of table `events` (columns `id`,
`sender_id`, `type_name`, `timestamp`, `intent_name`, `action_name`, `data` as JSON text), checked against
rasa/core/tracker_store.py (SQLTrackerStore.SQLEvent) and a real tracker DB in the tests. It keeps no copy in
memory: each message reads the tracker from the database again, so a deleted conversation starts afresh.

Where the store is: `AUSKUNFT_RASA_TRACKER_STORE_URL` (an SQLAlchemy URL), else the `tracker_store` of the
endpoints file Rasa runs with (`AUSKUNFT_RASA_ENDPOINTS`, default endpoints.yml; `${VAR}` filled from the
environment as Rasa does): SQLite (`db:`, var/trackers.db) or PostgreSQL (`url`/`port`/`db`/`username`/
`password`, endpoints.production.yml).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from bot.config import ROOT, VAR

_VARIABLE = re.compile(r"\$\{(\w+)\}")


class TrackerStoreUnsupported(RuntimeError):
    """The endpoints file names a tracker store that is not SQL (in memory: nothing outlives Rasa anyway)."""


def url_from_endpoints(path: Path, env: Mapping[str, str] | None = None) -> URL | None:
    """The tracker store's SQLAlchemy URL from an endpoints file; None for Rasa's default in-memory store."""
    env = os.environ if env is None else env
    filled = _VARIABLE.sub(lambda match: env.get(match.group(1), ""), path.read_text(encoding="utf-8"))
    store = (YAML(typ="safe").load(filled) or {}).get("tracker_store")
    if not store:
        return None
    if str(store.get("type", "")).lower() != "sql":
        raise TrackerStoreUnsupported(f"tracker_store type {store.get('type')!r} in {path} is not SQL")
    dialect = str(store.get("dialect") or "sqlite")
    database = str(store.get("db") or env.get("AUSKUNFT_TRACKER_DB") or VAR / "trackers.db")
    if dialect == "sqlite":
        return URL.create("sqlite", database=str(ROOT / database) if not Path(database).is_absolute() else database)
    host = str(store.get("url") or "")
    if "://" in host:
        return make_url(host)
    return URL.create(
        dialect,
        username=store.get("username") or None,
        password=store.get("password") or None,
        host=host or None,
        port=int(store["port"]) if store.get("port") else None,
        database=database,
    )


def configured_url(env: Mapping[str, str] | None = None) -> URL | None:
    env = os.environ if env is None else env
    if explicit := env.get("AUSKUNFT_RASA_TRACKER_STORE_URL"):
        return make_url(explicit)
    endpoints = Path(env.get("AUSKUNFT_RASA_ENDPOINTS", "endpoints.yml"))
    return url_from_endpoints(endpoints if endpoints.is_absolute() else ROOT / endpoints, env)


class RasaTrackers:
    """Events of Rasa conversations by sender id: read for an export, deleted for erasure and retention."""

    def __init__(self, url: URL | str | None) -> None:
        self.url = make_url(url) if isinstance(url, str) else url
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine | None:
        if self.url is None:
            return None
        if self._engine is None:
            self._engine = create_engine(self.url, pool_pre_ping=True)
        return self._engine

    def _run(self, statement: str, params: dict[str, Any]) -> Any:
        """None when the store has no `events` table yet (Rasa never ran against it)."""
        if self.url is None or (self.url.get_backend_name() == "sqlite" and not Path(self.url.database or "").exists()):
            return None  # connecting would create an empty SQLite file where Rasa's belongs
        assert self.engine is not None
        try:
            with self.engine.begin() as connection:
                return connection.execute(text(statement), params)
        except OperationalError as error:
            if "no such table" in str(error):
                return None
            raise

    def events(self, sender_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """Every stored event of each conversation, oldest first, as Rasa wrote it."""
        found: dict[str, list[dict[str, Any]]] = {}
        for sender_id in sender_ids:
            result = self._run("SELECT data FROM events WHERE sender_id = :sender ORDER BY id", {"sender": sender_id})
            found[sender_id] = [json.loads(row.data) for row in result] if result is not None else []
        return found

    def delete(self, sender_ids: Iterable[str]) -> int:
        """Delete these conversations' events; the number of events deleted."""
        deleted = 0
        for sender_id in sender_ids:
            result = self._run("DELETE FROM events WHERE sender_id = :sender", {"sender": sender_id})
            deleted += result.rowcount if result is not None else 0
        return deleted

    def stale_senders(self, before_timestamp: float) -> list[str]:
        """Conversations whose newest event is older than `before_timestamp` (Unix seconds)."""
        result = self._run(
            "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :before",
            {"before": before_timestamp},
        )
        return [row.sender_id for row in result] if result is not None else []
