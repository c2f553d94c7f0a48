"""`flask --app bot purge`: old conversations and everything hanging off them go, new ones stay; counts printed."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from bot.db import get_session
from bot.models import Contact, Conversation, Message, Rating, UnansweredQuestion, now
from common.feedback_log import FeedbackLog
from tests.support import privacy
from tests.support.gateway import ScriptedRasa
from tests.support.privacy import add_tracker_events, customer_with_everything, tracker_senders

stores, app = privacy.stores, privacy.app  # the two stores and the gateway writing to them


@pytest.fixture
def old_and_new(app: Flask, rasa: ScriptedRasa, stores: tuple[Path, Path]) -> tuple[Conversation, Conversation]:
    """One conversation last touched 100 days ago (tracker and feedback as old), one from today."""
    tracker_db, feedback_db = stores
    client = app.test_client()
    old = customer_with_everything(app, client, rasa, *stores, "alt@example.com", "0151 11111111")
    new = customer_with_everything(app, client, rasa, *stores, "neu@example.com", "0151 22222222")
    long_ago = now() - timedelta(days=100)
    with app.app_context():
        session = get_session()
        session.execute(update(Conversation).where(Conversation.id == old.id).values(updated_at=long_ago))
        session.execute(update(Contact).where(Contact.id == old.contact_id).values(created_at=long_ago))
        session.commit()
    # the tracker of the old conversation is as old; a tracker Rasa kept for a sender the gateway never saw, too
    sqlite_now = time.time()
    add_tracker_events(tracker_db, "rest-only-sender", ["hallo"], timestamp=sqlite_now - 100 * 86400)
    _age_tracker(tracker_db, old.rasa_sender_id, sqlite_now - 100 * 86400)
    _age_tracker(tracker_db, new.rasa_sender_id, sqlite_now)
    FeedbackLog(feedback_db).record("ancient", None, True, "button", "frage")
    _age_feedback(feedback_db, "ancient", (now() - timedelta(days=100)).isoformat(timespec="seconds"))
    return old, new


def _age_tracker(db: Path, sender: str, timestamp: float) -> None:
    import sqlite3

    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE events SET timestamp = ? WHERE sender_id = ?", (timestamp, sender))
    connection.close()


def _age_feedback(db: Path, sender: str, created_at: str) -> None:
    import sqlite3

    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE feedback SET created_at = ? WHERE sender_id = ?", (created_at, sender))
    connection.close()


def table_counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        session = get_session()
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Contact, Conversation, Message, Rating, UnansweredQuestion)
        }


def test_dry_run_counts_and_deletes_nothing(app: Flask, old_and_new: tuple[Conversation, Conversation]) -> None:
    before = table_counts(app)
    result = app.test_cli_runner().invoke(args=["purge", "--older-than-days", "30", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "würde löschen" in result.output and "conversations: 1" in result.output
    assert "Rasa-Gespräche: 2" in result.output and "Feedback des Aktionsservers: 2" in result.output
    assert table_counts(app) == before


def test_purge_deletes_the_old_keeps_the_new(
    app: Flask, old_and_new: tuple[Conversation, Conversation], stores: tuple[Path, Path]
) -> None:
    old, new = old_and_new
    tracker_db, feedback_db = stores
    before = table_counts(app)
    result = app.test_cli_runner().invoke(args=["purge", "--older-than-days", "30"])
    assert result.exit_code == 0, result.output
    assert "conversations: 1" in result.output and "contacts: 1" in result.output
    assert "unanswered_questions: 1 (behalten, Verknüpfung entfernt)" in result.output
    after = table_counts(app)
    assert after["conversations"] == before["conversations"] - 1
    assert after["contacts"] == before["contacts"] - 1  # the old customer had nothing else
    assert after["ratings"] == before["ratings"] - 1
    assert after["unanswered_questions"] == before["unanswered_questions"]  # masked, kept for the editors …
    with app.app_context():
        session = get_session()
        assert session.get(Conversation, old.id) is None and session.get(Conversation, new.id) is not None
        kept = [(q.conversation_id, q.message_id) for q in session.scalars(select(UnansweredQuestion))]
    assert sorted(kept, key=str) == sorted([(None, None), (new.id, kept[1][1] or kept[0][1])], key=str)  # no link
    assert tracker_senders(tracker_db) == {new.rasa_sender_id}
    assert FeedbackLog(feedback_db).rows(["ancient", old.rasa_sender_id]) == []  # 100 days old / its tracker's
    assert [r["sender_id"] for r in FeedbackLog(feedback_db).rows([new.rasa_sender_id])] == [new.rasa_sender_id]
    again = app.test_cli_runner().invoke(args=["purge", "--older-than-days", "30"])
    assert "conversations" not in again.output and table_counts(app) == after


def test_a_contact_with_a_recent_conversation_stays(app: Flask, old_and_new: tuple[Conversation, Conversation]) -> None:
    old, new = old_and_new
    with app.app_context():
        session = get_session()
        session.execute(update(Conversation).where(Conversation.id == new.id).values(contact_id=old.contact_id))
        session.commit()
    app.test_cli_runner().invoke(args=["purge", "--older-than-days", "30"])
    with app.app_context():
        assert get_session().get(Contact, old.contact_id) is not None


def test_days_from_the_environment_or_a_clear_error(
    app: Flask, old_and_new: tuple[Conversation, Conversation], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = app.test_cli_runner().invoke(args=["purge"])
    assert missing.exit_code == 2 and "AUSKUNFT_RETENTION_DAYS" in missing.output
    assert app.test_cli_runner().invoke(args=["purge", "--older-than-days", "0"]).exit_code == 2
    app.config["RETENTION_DAYS"] = 200  # AUSKUNFT_RETENTION_DAYS, read and checked with the other settings
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0 and "(200 Tage)" in result.output and "conversations" not in result.output
