"""The gateway in front of the real Rasa server and action server (real SQLite too)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask

from bot.conversation import states, waiting
from bot.conversation.availability import BERLIN
from bot.db import get_session
from bot.integrations.rasa_client import RasaClient
from rasa_runtime.processes import Services
from tests.support.app import make_app
from tests.support.gateway import Customer
from tests.support.login import AgentSession, add_account

pytestmark = pytest.mark.rasa


def test_answer_feedback_handoff_agent_and_back_to_bot(live_app: Flask) -> None:
    customer = Customer(live_app.test_client())
    answer = customer.say("Was kostet der Versand?")["messages"]
    assert "4,95" in " ".join(m["text"] for m in answer)
    assert {"title": "Nein", "payload": "/feedback_not_helpful"} in answer[-1]["buttons"]
    customer.say("Nein", payload="/feedback_not_helpful")
    handed = customer.say("Ich möchte mit einem Mitarbeiter sprechen")
    assert handed["state"] == "waiting_for_agent", handed
    with live_app.app_context():
        from bot.conversation import states
        from bot.db import get_session

        conversation = states.by_token(get_session(), customer.token)
        assert conversation.handoff_reason == "requested"
        assert conversation.handoff["summary"].startswith("Übergabe")
        cid = conversation.id
    add_account(live_app, "anna@example.com")
    # waiting: the bot still replies (here an acknowledgement); once Anna has taken it, it stays silent
    assert [m["sender"] for m in customer.say("Hallo?")["messages"]] == ["contact", "bot"]
    anna = AgentSession(live_app, "anna@example.com")
    assert anna.post(f"/agent/conversations/{cid}/take").status_code == 200
    assert [m["sender"] for m in customer.say("Was kostet der Versand?")["messages"]] == ["contact"]
    assert anna.post(f"/agent/conversations/{cid}/reply", {"text": "Wie kann ich helfen?"}).status_code == 201
    assert customer.transcript()["messages"][-1]["text"] == "Wie kann ich helfen?"
    assert anna.post(f"/agent/conversations/{cid}/give-back").json["state"] == "bot"
    again = customer.say("Wie lange dauert die Lieferung?")
    assert again["state"] == "bot" and len(again["messages"]) > 1, again


def test_on_a_sunday_the_bot_answers_while_the_request_waits_and_the_customer_withdraws(
    tmp_path: Path, rasa_services: Services
) -> None:
    sunday = datetime(2026, 11, 29, 12, 0, tzinfo=BERLIN)  # default hours: closed all day
    app = make_app(tmp_path, RasaClient(rasa_services.settings.rasa_url, timeout=120), CLOCK=lambda: sunday)
    customer = Customer(app.test_client())
    handed = customer.say("Ich möchte bitte mit einem Mitarbeiter sprechen")
    assert handed["state"] == "waiting_for_agent", handed
    said = [m["text"] for m in handed["messages"]]
    # told first, in one message: nobody there, the hours, what happens next, that the bot still helps
    assert len(said) == 2 and said[1].startswith("Unser Kundenservice ist leider gerade nicht besetzt (Servicezeiten:")
    assert said[1].endswith("Bis dahin beantworte ich Ihnen gern weitere Fragen."), said
    assert not any("meldet sich" in t or "Moment" in t for t in said), said
    assert handed["messages"][1]["buttons"] == [waiting.WITHDRAW_BUTTON] and handed["messages"][1]["contact_form"]
    answered = customer.say("Was kostet der Versand?")
    said = [m["text"] for m in answered["messages"]]
    assert answered["state"] == "waiting_for_agent" and "4,95" in " ".join(said), said
    assert said[-1] == waiting.TEXTS["still_open"]
    with app.app_context():
        entry = states.by_token(get_session(), customer.token)
        assert entry.handoff_reason == "requested" and "„Was kostet der Versand?“" in entry.handoff["summary"]
    withdrawn = customer.say("hat sich erledigt")
    assert withdrawn["state"] == "bot" and withdrawn["messages"][-1]["text"] == states.TEXTS["withdrawn"]
    again = customer.say("Wie lange dauert die Lieferung?")
    assert again["state"] == "bot" and "Hat Ihnen das geholfen?" in [m["text"] for m in again["messages"]], again
