"""Erasure reaches the real Rasa: its SQLite tracker store (schema checked here) and the action server's feedback.

After the deletion Rasa itself no longer knows the conversation (it keeps no copy in memory), and the other
customer's tracker is untouched.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.request
from pathlib import Path

import pytest
from flask import Flask

from bot.db import get_session
from bot.integrations.rasa_client import RasaClient
from bot.models import Conversation, Role
from rasa_runtime.processes import Services
from tests.support.gateway import Customer
from tests.support.login import csrf_of, logged_in
from tests.support.privacy import privacy_app

pytestmark = [pytest.mark.rasa, pytest.mark.slow]


@pytest.fixture
def app(tmp_path: Path, rasa_services: Services, rasa_dir: Path) -> Flask:
    rasa = RasaClient(rasa_services.settings.rasa_url, timeout=120)
    return privacy_app(tmp_path, rasa, rasa_services.settings.tracker_db, rasa_dir / "feedback.db")


def rasa_user_texts(services: Services, sender_id: str) -> list[str]:
    with urllib.request.urlopen(services.settings.rasa_api(f"/conversations/{sender_id}/tracker"), timeout=30) as r:
        tracker = json.load(r)
    return [event.get("text") for event in tracker["events"] if event["event"] == "user"]


def sender_of(app: Flask, customer: Customer) -> tuple[int, str]:
    with app.app_context():
        conversation = get_session().query(Conversation).filter_by(token=customer.token).one()
        return conversation.contact_id, conversation.rasa_sender_id


def test_export_and_erasure_include_the_real_rasa_tracker(app: Flask, rasa_services: Services) -> None:
    client = app.test_client()
    customer, other = Customer(client), Customer(client)
    customer.say("Was kostet der Versand?")
    customer.say("Nein", payload="/feedback_not_helpful")
    assert client.post(f"{customer.base}/contact", json={"email": "kunde.live@example.com"}).status_code < 300
    other.say("Was kostet der Versand?")
    contact_id, sender = sender_of(app, customer)
    _other_contact, other_sender = sender_of(app, other)

    # Rasa's own table, as the deletion expects it
    with sqlite3.connect(rasa_services.settings.tracker_db) as connection:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(events)")}
        stored = connection.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0]
    connection.close()
    assert columns == {"id", "sender_id", "type_name", "timestamp", "intent_name", "action_name", "data"}
    assert stored > 0
    assert rasa_user_texts(rasa_services, sender) == ["Was kostet der Versand?", "/feedback_not_helpful"]

    admin = logged_in(app, "admin@example.com", Role.ADMIN)
    data = admin.client.get(f"/admin/privacy/contacts/{contact_id}/export.json").json
    events = data["rasa_trackers"][sender]
    assert len(events) == stored
    said = [e.get("text") for e in events if e["event"] == "user"]
    assert said == ["Was kostet der Versand?", "/feedback_not_helpful"]
    assert [(f["faq_id"], f["helpful"]) for f in data["action_server_feedback"]] == [("versand-kosten", 0)]
    assert [u["kind"] for u in data["unanswered_questions"]] == ["not_helpful"]

    url = f"/admin/privacy/contacts/{contact_id}/delete"
    page = admin.client.get(url).get_data(as_text=True)
    assert admin.client.post(url, data={"csrf_token": csrf_of(page), "confirm": "ja"}).status_code == 302
    with sqlite3.connect(rasa_services.settings.tracker_db) as connection:
        left = connection.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0]
    connection.close()
    assert left == 0
    assert rasa_user_texts(rasa_services, sender) == []  # Rasa answers from the store, not from memory
    assert rasa_user_texts(rasa_services, other_sender) == ["Was kostet der Versand?"]
