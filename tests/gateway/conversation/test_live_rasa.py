"""The gateway in front of the real Rasa server and action server (real SQLite too)."""

from __future__ import annotations

import pytest
from flask import Flask

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
    # paused: the bot stays silent until an agent gives the conversation back
    assert [m["sender"] for m in customer.say("Hallo?")["messages"]] == ["contact"]
    anna = AgentSession(live_app, "anna@example.com")
    assert anna.post(f"/agent/conversations/{cid}/take").status_code == 200
    assert anna.post(f"/agent/conversations/{cid}/reply", {"text": "Wie kann ich helfen?"}).status_code == 201
    assert customer.transcript()["messages"][-1]["text"] == "Wie kann ich helfen?"
    assert anna.post(f"/agent/conversations/{cid}/give-back").json["state"] == "bot"
    again = customer.say("Wie lange dauert die Lieferung?")
    assert again["state"] == "bot" and len(again["messages"]) > 1, again
