"""Issue 15: an agent hands a conversation to a colleague, and agents keep internal notes that never reach the
customer — not through the widget's API or its event stream, not through the Messenger/SMS outbox, not in a
transcript or the mailed copy. The GDPR export does carry them (Art. 15: data about the customer)."""

from __future__ import annotations

import json
import logging
from itertools import islice, takewhile
from pathlib import Path

import pytest
from flask import Flask

from bot.db import session_factory
from bot.models import Agent, Conversation, ConversationNote, Role
from common.logging_setup import AUDIT_LOGGER
from tests.support.bot_replies import HANDOFF
from tests.support.channels import SmsCustomer, channel_app, handed_to_anna, served, settled
from tests.support.gateway import Customer, ScriptedRasa, conversation_id
from tests.support.login import AgentSession, add_account, logged_in
from tests.support.mock_providers import GraphApi, TwilioApi

SECRET = "Kunde wirkt verärgert, Gutschrift 10 € intern freigegeben"


@pytest.fixture
def waiting(customer: Customer, rasa: ScriptedRasa) -> Customer:
    rasa.replies.append(HANDOFF)
    customer.say("Ich will einen Menschen")
    return customer


def taken(app: Flask, waiting: Customer, make_agent) -> tuple[int, AgentSession, AgentSession]:  # type: ignore[no-untyped-def]
    cid = conversation_id(app, waiting.token)
    anna, bernd = make_agent(), make_agent("bernd@example.com", "Bernd")
    assert anna.post(f"/agent/conversations/{cid}/take").status_code == 200
    return cid, anna, bernd


def _mine(page: str) -> str:
    """The inbox list's "Meine" tab as the page renders it first (inbox_list.js keeps it live)."""
    return page.split('id="list-mine"')[1].split('id="list-open"')[0]


def test_transfer_moves_the_conversation_and_the_customer_sees_only_the_new_agents_reply(
    app: Flask, waiting: Customer, make_agent, caplog: pytest.LogCaptureFixture  # type: ignore[no-untyped-def]
) -> None:
    cid, anna, bernd = taken(app, waiting, make_agent)
    page = anna.get(f"/agent/conversations/{cid}").get_data(as_text=True)
    assert '<option value="' in page and ">Bernd</option>" in page  # the colleague is offered
    before = len(waiting.transcript()["messages"])
    hub = app.extensions["hub"]
    version = hub.version(cid)  # what the staff's live views (and the outbox) wait on
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        moved = anna.post(f"/agent/conversations/{cid}/transfer", {"agent_id": _id(app, "bernd@example.com")})
    assert moved.status_code == 200, moved.json
    assert moved.json["assignee_name"] == "Bernd" and moved.json["note"]["text"] == "An Bernd übergeben"
    assert moved.json["note"]["kind_label"] == "Weitergabe" and hub.version(cid) > version
    audit = [r.getMessage() for r in caplog.records if r.name == AUDIT_LOGGER]
    assert audit == [f"conversation transfer: conversation {cid} from agent {_id(app, 'anna@example.com')} "
                     f"to agent {_id(app, 'bernd@example.com')}"]

    # Anna no longer holds it; Bernd's list shows it and he answers
    assert anna.post(f"/agent/conversations/{cid}/reply", {"text": "Noch da?"}).status_code == 409
    assert anna.post(f"/agent/conversations/{cid}/transfer", {"agent_id": _id(app, "bernd@example.com")}
                     ).status_code == 409
    assert f"Gespräch {cid}<" in _mine(bernd.get("/agent/").get_data(as_text=True))
    assert f"Gespräch {cid}<" not in _mine(anna.get("/agent/").get_data(as_text=True))
    assert bernd.post(f"/agent/conversations/{cid}/reply", {"text": "Hier ist Bernd."}).status_code == 201

    shown = waiting.transcript()["messages"]
    assert [(m["text"], m.get("agent_name")) for m in shown[before:]] == [("Hier ist Bernd.", "Bernd")]
    assert "übergeben" not in str(shown)
    staff = bernd.get(f"/agent/conversations/{cid}/notes").json["notes"]
    assert [(n["kind"], n["author_name"], n["text"]) for n in staff] == [("transfer", "Anna", "An Bernd übergeben")]


def test_transfer_refusals(app: Flask, waiting: Customer, make_agent) -> None:  # type: ignore[no-untyped-def]
    cid, anna, bernd = taken(app, waiting, make_agent)
    add_account(app, "offline@example.com", Role.AGENT, "Olaf")  # never logged in: not online
    add_account(app, "editorin@example.com", Role.EDITOR, "Edda")
    logged_in(app, "redaktion@example.com", Role.EDITOR, "Rita")  # online, but answers no customers
    url = f"/agent/conversations/{cid}/transfer"
    for who in ("offline@example.com", "editorin@example.com", "redaktion@example.com", "anna@example.com"):
        assert anna.post(url, {"agent_id": _id(app, who)}).status_code == 409, who
    assert anna.post(url, {"agent_id": 99999}).status_code == 409
    for bad in ({}, {"agent_id": "2"}, {"agent_id": True}):
        assert anna.post(url, bad).status_code == 400, bad
    # Bernd cannot hand away Anna's conversation (not even to himself)
    assert bernd.post(url, {"agent_id": _id(app, "anna@example.com")}).status_code == 409
    page = anna.get(f"/agent/conversations/{cid}").get_data(as_text=True)
    assert ">Olaf</option>" not in page and ">Rita</option>" not in page and ">Bernd</option>" in page


def test_a_note_stays_with_the_staff(app: Flask, waiting: Customer, make_agent) -> None:  # type: ignore[no-untyped-def]
    cid, anna, bernd = taken(app, waiting, make_agent)
    added = bernd.post(f"/agent/conversations/{cid}/notes", {"text": SECRET})  # a colleague's conversation: fine
    assert added.status_code == 201 and added.json["author_name"] == "Bernd"
    assert added.json["kind_label"] == "Interne Notiz" and ":" in added.json["time_label"]
    assert anna.post(f"/agent/conversations/{cid}/notes", {"text": ""}).status_code == 400
    assert anna.post(f"/agent/conversations/{cid}/notes", {"text": "x" * 4001}).status_code == 413
    assert anna.post(f"/agent/conversations/{cid}/reply", {"text": "Wir kümmern uns."}).status_code == 201

    page = anna.get(f"/agent/conversations/{cid}").get_data(as_text=True)
    assert SECRET in page and 'class="note note"' in page  # the agent sees it, styled as a note
    after = added.json["id"]
    assert anna.get(f"/agent/conversations/{cid}/notes?after={after}").json["notes"] == []

    # the customer: the widget's transcript, its polling, its event stream
    client = waiting.client
    assert SECRET not in str(waiting.transcript())
    assert SECRET not in client.get(f"{waiting.base}/messages?after=0").get_data(as_text=True)
    stream = client.get(f"{waiting.base}/events?after=0", buffered=False)
    chunks = b"".join(islice(takewhile(lambda c: c != b": keep-alive\n\n", stream.response), 200)).decode()
    stream.close()
    events = [json.loads(line[6:]) for line in chunks.splitlines() if line.startswith("data: {")]
    assert "Wir kümmern uns." in [e.get("text") for e in events] and SECRET not in str(events)
    # the transcripts agents download for a customer
    for fmt in ("txt", "json"):
        assert SECRET not in anna.get(f"/agent/conversations/{cid}/transcript.{fmt}").get_data(as_text=True)


def test_the_gdpr_export_carries_notes_and_erasure_deletes_them(
    app: Flask, waiting: Customer, make_agent  # type: ignore[no-untyped-def]
) -> None:
    cid, anna, _ = taken(app, waiting, make_agent)
    assert anna.post(f"/agent/conversations/{cid}/notes", {"text": SECRET}).status_code == 201
    admin = logged_in(app, "chefin@example.com", Role.ADMIN, "Chefin")
    contact_id = _contact(app, cid)
    exported = admin.get(f"/admin/privacy/contacts/{contact_id}/export.json")
    assert exported.status_code == 200 and SECRET in exported.get_data(as_text=True)
    page = admin.get(f"/admin/privacy/contacts/{contact_id}").get_data(as_text=True)
    assert "interne Notizen und Weitergaben: 1" in page
    assert admin.client.post(
        f"/admin/privacy/contacts/{contact_id}/delete", data={"csrf_token": admin.csrf, "confirm": "ja"}
    ).status_code in (302, 303)
    with app.app_context(), session_factory()() as session:
        assert session.query(ConversationNote).count() == 0


def test_an_sms_customer_gets_the_replies_but_never_a_note_or_the_transfer(
    tmp_path: Path, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi
) -> None:
    app = channel_app(tmp_path, rasa, graph, twilio, SMS_REPLY_MODE="api")
    with served(app) as gateway:
        phone = SmsCustomer(gateway)
        conversation, anna = handed_to_anna(app, rasa, phone)
        bernd = logged_in(app, "bernd@example.com", name="Bernd")
        cid = conversation.id
        assert anna.post(f"/agent/conversations/{cid}/take").status_code == 200
        assert anna.post(f"/agent/conversations/{cid}/notes", {"text": SECRET}).status_code == 201
        assert anna.post(f"/agent/conversations/{cid}/transfer", {"agent_id": _id(app, "bernd@example.com")}
                         ).status_code == 200
        assert bernd.post(f"/agent/conversations/{cid}/notes", {"text": "Rückruf morgen"}).status_code == 201
        assert bernd.post(f"/agent/conversations/{cid}/reply", {"text": "Hier ist Bernd."}).status_code == 201
        twilio.wait_for(lambda r: "Hier ist Bernd." in twilio.bodies())
        settled(app)
    sent = twilio.bodies()
    assert sent[-2:] == ["Anna vom Kundenservice ist jetzt im Chat.", "Hier ist Bernd."]
    assert not any(SECRET in s or "Rückruf" in s or "übergeben" in s for s in sent)


def _id(app: Flask, email: str) -> int:
    with app.app_context(), session_factory()() as session:
        return session.query(Agent).filter_by(email=email).one().id


def _contact(app: Flask, cid: int) -> int:
    with app.app_context(), session_factory()() as session:
        return session.get(Conversation, cid).contact_id
