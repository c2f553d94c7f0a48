"""The feedback log (common/feedback_log.py): what the action server writes is what the gateway reads and deletes."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from common import feedback_log
from common.feedback_log import FeedbackCounts, FeedbackLog


def test_the_path_is_the_setting_else_var(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for variable in (feedback_log.ENV, feedback_log.URL_ENV, feedback_log.GATEWAY_URL_ENV):
        monkeypatch.delenv(variable, raising=False)
    assert FeedbackLog().path == feedback_log.DEFAULT_PATH
    assert feedback_log.DEFAULT_PATH.parts[-2:] == ("var", "feedback.db")
    monkeypatch.setenv(feedback_log.ENV, str(tmp_path / "elsewhere.db"))
    assert FeedbackLog().path == tmp_path / "elsewhere.db"


def test_a_postgresql_gateway_database_is_the_shared_place_unless_a_url_is_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(feedback_log.ENV, str(tmp_path / "feedback.db"))
    monkeypatch.delenv(feedback_log.URL_ENV, raising=False)
    shared = "postgresql+psycopg://auskunft@db.example.com/auskunft"
    monkeypatch.setenv(feedback_log.GATEWAY_URL_ENV, shared)
    assert FeedbackLog().url == shared and FeedbackLog().path is None  # the action server's environment
    own_file = f"sqlite:///{tmp_path / 'feedback.db'}"
    assert feedback_log.configured_url(f"sqlite:///{tmp_path / 'gateway.db'}") == own_file
    monkeypatch.setenv(feedback_log.GATEWAY_URL_ENV, f"sqlite:///{tmp_path / 'gateway.db'}")
    assert FeedbackLog().path == tmp_path / "feedback.db"  # SQLite: the action server's own file, as before
    assert feedback_log.configured_url(shared) == shared  # the gateway passes its own (maybe from its config file)
    monkeypatch.setenv(feedback_log.URL_ENV, "postgresql+psycopg://elsewhere/feedback")
    assert feedback_log.configured_url(shared) == "postgresql+psycopg://elsewhere/feedback"


def test_nothing_recorded_yet_reads_as_empty(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path / "missing.db")
    assert log.rows(["s-1"]) == [] and log.delete(["s-1"]) == 0
    assert log.purge(["s-1"], datetime.now(UTC)) == 0 and log.counts("x") == FeedbackCounts()
    assert not log.path.exists()  # reading creates nothing
    sqlite3.connect(log.path).close()  # a file without the table
    assert log.rows(["s-1"]) == [] and log.counts("x") == FeedbackCounts()


def test_a_record_is_read_counted_and_deleted_by_sender(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path / "sub" / "feedback.db")
    log.record("s-1", "versand-kosten", False, "button", "Paket LG-123456 an a@b.de?")
    log.record("s-1", "versand-kosten", True, "typed", None)
    log.record("s-2", "versand-kosten", True, "button", "kosten?")
    log.record("s-2", "retoure", True, "none_of_these", "kosten?")
    [first, second] = log.rows(["s-1"])
    assert (first["faq_id"], first["helpful"], first["kind"]) == ("versand-kosten", 0, "button")
    assert first["question"] == "Paket [BESTELLNUMMER] an [E-MAIL]?" and second["question"] is None
    assert log.counts("versand-kosten") == FeedbackCounts(helpful=2, not_helpful=1)
    assert log.delete(["s-1"]) == 2
    assert log.rows(["s-1"]) == [] and [r["sender_id"] for r in log.rows(["s-1", "s-2"])] == ["s-2", "s-2"]


def test_purge_takes_the_old_and_the_named(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path / "feedback.db")
    for sender in ("old", "named", "new"):
        log.record(sender, "x", True, "button", "frage")
    with sqlite3.connect(log.path) as connection:
        connection.execute("UPDATE feedback SET created_at = '2020-01-01T00:00:00+00:00' WHERE sender_id = 'old'")
    connection.close()
    cutoff = datetime.now(UTC) - timedelta(days=30)
    assert log.purge(["named"], cutoff, dry_run=True) == 2
    assert len(log.rows(["old", "named", "new"])) == 3  # a dry run deletes nothing
    assert log.purge(["named"], cutoff) == 2
    assert [r["sender_id"] for r in log.rows(["old", "named", "new"])] == ["new"]


def test_a_file_that_is_not_ours_counts_nothing(tmp_path: Path) -> None:
    path = tmp_path / "feedback.db"
    path.write_bytes(b"not a database at all" * 100)
    assert FeedbackLog(path).counts("x") == FeedbackCounts()


def test_the_action_server_writes_through_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The "Nichts davon" button records every candidate as not helpful, in the configured file."""
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions import actions

    monkeypatch.setenv(feedback_log.ENV, str(tmp_path / "feedback.db"))
    slots = {"last_question": "wie zahle ich", "kb_candidates": [{"faq_id": "a"}, {"faq_id": "b"}]}
    tracker = Tracker("s-9", slots, {"intent": {"name": "none_of_these"}, "text": "/none_of_these"}, [], False,
                      None, {}, "")
    actions.feedback_events(tracker, CollectingDispatcher(), False, "none_of_these")
    rows = FeedbackLog(tmp_path / "feedback.db").rows(["s-9"])
    assert [(r["faq_id"], r["helpful"], r["kind"]) for r in rows] == [
        ("a", 0, "none_of_these"), ("b", 0, "none_of_these"),
    ]
