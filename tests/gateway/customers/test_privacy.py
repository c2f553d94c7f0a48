"""GDPR export and erasure of one customer (admins only), across the gateway, Rasa's tracker store and feedback."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from bot.db import get_session
from bot.models import Contact, ContactIdentifier, Conversation, Message, Rating, Role, UnansweredQuestion
from common.feedback_log import FeedbackLog
from tests.support import privacy
from tests.support.gateway import ScriptedRasa
from tests.support.login import csrf_of, logged_in
from tests.support.privacy import customer_with_everything, tracker_senders

EMAIL = "erika.muster@example.com"
stores, app = privacy.stores, privacy.app  # the two stores and the gateway writing to them


@pytest.fixture
def two_customers(app: Flask, rasa: ScriptedRasa, stores: tuple[Path, Path]) -> tuple[Conversation, Conversation]:
    client = app.test_client()
    return (
        customer_with_everything(app, client, rasa, *stores, EMAIL, "0151 12345678"),
        customer_with_everything(app, client, rasa, *stores, "jemand.anderes@example.org", "030 9876543"),
    )


def counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        session = get_session()
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Contact, ContactIdentifier, Conversation, Message, Rating, UnansweredQuestion)
        }


def test_roles(app: Flask) -> None:
    assert app.test_client().get("/admin/privacy/").status_code == 302
    assert logged_in(app, "agent@example.com", Role.AGENT).client.get("/admin/privacy/").status_code == 403
    editor = logged_in(app, "editor@example.com", Role.EDITOR)
    assert editor.client.get("/admin/privacy/?q=x").status_code == 403
    assert editor.client.get("/admin/privacy/contacts/1/export.json").status_code == 403
    assert editor.client.post("/admin/privacy/contacts/1/delete", data={"confirm": "ja", "csrf_token": editor.csrf}
                              ).status_code == 403
    assert logged_in(app, "admin@example.com", Role.ADMIN).client.get("/admin/privacy/").status_code == 200


@pytest.mark.parametrize("query", [EMAIL, EMAIL.upper(), "+49 151 12345678", "0151-12345678", "#{id}", "{id}"])
def test_find_by_email_phone_or_conversation(
    app: Flask, two_customers: tuple[Conversation, Conversation], query: str
) -> None:
    mine, _other = two_customers
    admin = logged_in(app, "admin@example.com", Role.ADMIN)
    page = admin.client.get("/admin/privacy/", query_string={"q": query.format(id=mine.id)}).get_data(as_text=True)
    assert f"Nr. {mine.contact_id}" in page
    if "@" in query:
        assert "jemand.anderes" not in page
    nothing = admin.client.get("/admin/privacy/?q=niemand@example.com").get_data(as_text=True)
    assert "ist nichts gespeichert" in nothing


def test_export_holds_everything_about_the_customer_and_nothing_else(
    app: Flask, two_customers: tuple[Conversation, Conversation], caplog: pytest.LogCaptureFixture
) -> None:
    mine, other = two_customers
    admin = logged_in(app, "admin@example.com", Role.ADMIN)
    overview = admin.client.get(f"/admin/privacy/contacts/{mine.contact_id}").get_data(as_text=True)
    assert "Rasa-Ereignisse: 1" in overview and "Feedback des Aktionsservers: 1" in overview
    with caplog.at_level(logging.INFO, logger="auskunft.audit"):
        response = admin.client.get(f"/admin/privacy/contacts/{mine.contact_id}/export.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["contact"]["id"] == mine.contact_id and data["contact"]["email"] == EMAIL
    assert {(i["kind"], i["value"]) for i in data["identifiers"]} == {("email", EMAIL), ("phone", "+4915112345678")}
    [conversation] = data["conversations"]
    assert conversation["rasa_sender_id"] == mine.rasa_sender_id
    assert conversation["messages"][0]["text"] == f"Ich bin {EMAIL} – kann ich in Raten zahlen?"
    assert [r["score"] for r in data["ratings"]] == [4]
    assert [u["text"] for u in data["unanswered_questions"]] == ["Ich bin [E-MAIL] – kann ich in Raten zahlen?"]
    assert [e["text"] for e in data["rasa_trackers"][mine.rasa_sender_id]] == [conversation["messages"][0]["text"]]
    assert [f["sender_id"] for f in data["action_server_feedback"]] == [mine.rasa_sender_id]
    assert other.rasa_sender_id not in json.dumps(data) and "jemand.anderes" not in json.dumps(data)
    [line] = [r.getMessage() for r in caplog.records if "privacy export" in r.getMessage()]
    assert f"contact {mine.contact_id} by agent" in line and EMAIL not in line


def test_delete_needs_confirmation_then_removes_everything(
    app: Flask, two_customers: tuple[Conversation, Conversation], stores: tuple[Path, Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    mine, other = two_customers
    tracker_db, feedback_db = stores
    before = counts(app)
    admin = logged_in(app, "admin@example.com", Role.ADMIN)
    url = f"/admin/privacy/contacts/{mine.contact_id}/delete"
    page = admin.client.get(url).get_data(as_text=True)
    assert "endgültig" in page
    refused = admin.client.post(url, data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 400 and counts(app) == before
    with caplog.at_level(logging.INFO, logger="auskunft.audit"):
        done = admin.client.post(url, data={"csrf_token": csrf_of(page), "confirm": "ja"}, follow_redirects=True)
    assert f"Alle Daten von Kunde {mine.contact_id} wurden gelöscht" in done.get_data(as_text=True)
    after = counts(app)
    assert after["contacts"] == before["contacts"] - 1
    assert after["conversations"] == before["conversations"] - 1
    assert after["ratings"] == after["unanswered_questions"] == 1  # the other customer's
    assert after["contact_identifiers"] == before["contact_identifiers"] - 2
    with app.app_context():
        session = get_session()
        assert session.get(Contact, mine.contact_id) is None
        assert session.scalar(select(func.count()).select_from(Message).where(
            Message.conversation_id == mine.id)) == 0
        assert session.get(Conversation, other.id) is not None
    assert tracker_senders(tracker_db) == {other.rasa_sender_id}
    assert [r["sender_id"] for r in FeedbackLog(feedback_db).rows([mine.rasa_sender_id, other.rasa_sender_id])] \
        == [other.rasa_sender_id]
    assert any(f"privacy erasure: contact {mine.contact_id}" in r.getMessage() for r in caplog.records)
    assert admin.client.get(url).status_code == 404


def test_stores_that_were_never_written_are_empty_not_errors(app: Flask, stores: tuple[Path, Path]) -> None:
    tracker_db, feedback_db = stores
    assert not tracker_db.exists() and not feedback_db.exists()
    with app.app_context():
        contact = Contact(email="a@example.com")
        get_session().add(contact)
        get_session().commit()
        contact_id = contact.id
    admin = logged_in(app, "admin@example.com", Role.ADMIN)
    data = admin.client.get(f"/admin/privacy/contacts/{contact_id}/export.json").json
    assert data["conversations"] == [] and data["action_server_feedback"] == []
    page = admin.client.get(f"/admin/privacy/contacts/{contact_id}/delete").get_data(as_text=True)
    assert admin.client.post(f"/admin/privacy/contacts/{contact_id}/delete",
                             data={"csrf_token": csrf_of(page), "confirm": "ja"}).status_code == 302
    FeedbackLog(feedback_db).record("someone", None, True, "button", "x")  # the file now exists, the customer is gone
    assert FeedbackLog(feedback_db).rows(["someone"])[0]["helpful"] == 1
