"""A customer with something in every store, Rasa's tracker table as Rasa 3.6 creates it, and a gateway (fixture
`app`) writing to both stores."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bot.db import get_session
from bot.integrations.rasa_client import RasaClient
from bot.models import Conversation, Rating
from common.feedback_log import FeedbackLog
from tests.support.app import make_app
from tests.support.bot_replies import handed_off
from tests.support.gateway import Customer, ScriptedRasa

# rasa/core/tracker_store.py, SQLTrackerStore.SQLEvent (checked against a real Rasa in test_privacy_live_rasa.py)
EVENTS_TABLE = """CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"""


def add_tracker_events(db: Path, sender_id: str, texts: list[str], timestamp: float = 1_790_000_000.0) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute(EVENTS_TABLE)
        for text in texts:
            event = {"event": "user", "timestamp": timestamp, "text": text}
            connection.execute(
                "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, ?)",
                (sender_id, timestamp, json.dumps(event)),
            )
    connection.close()


def tracker_senders(db: Path) -> set[str]:
    with sqlite3.connect(db) as connection:
        senders = {row[0] for row in connection.execute("SELECT sender_id FROM events")}
    connection.close()
    return senders


def customer_with_everything(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa, tracker_db: Path, feedback_db: Path, email: str, phone: str
) -> Conversation:
    """A widget customer who left `email` and `phone`, asked what the bot could not answer, rated, and has a tracker."""
    customer = Customer(client)
    question = f"Ich bin {email} – kann ich in Raten zahlen?"
    rasa.replies.append(handed_off(question, [("zahlung-arten", 0.7)]))
    customer.say(question)
    assert client.post(f"{customer.base}/contact", json={"email": email, "phone": phone}).status_code < 300
    with app.app_context():
        session = get_session()
        conversation = session.query(Conversation).filter_by(token=customer.token).one()
        session.add(Rating(conversation_id=conversation.id, score=4, channel="web"))
        session.commit()
        session.expunge(conversation)
    add_tracker_events(tracker_db, conversation.rasa_sender_id, [question])
    FeedbackLog(feedback_db).record(conversation.rasa_sender_id, "zahlung-arten", False, "button", question)
    return conversation


def privacy_app(tmp_path: Path, rasa: RasaClient, tracker_db: Path, feedback_db: Path) -> Flask:
    """A gateway whose Rasa tracker store and action-server feedback file are these two SQLite files."""
    return make_app(tmp_path, rasa, RASA_TRACKER_STORE_URL=f"sqlite:///{tracker_db}", FEEDBACK_DB=feedback_db)


@pytest.fixture
def stores(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "trackers.db", tmp_path / "feedback.db"


@pytest.fixture
def app(tmp_path: Path, rasa: ScriptedRasa, stores: tuple[Path, Path]) -> Flask:
    return privacy_app(tmp_path, rasa, *stores)
