"""The agent inbox with a scripted Rasa: login, CSRF, queue, take (once), reply, FAQ answer, give back, close."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from bot.conversation import reasoning, states
from bot.db import get_session
from bot.models import Agent, aware, now
from bot.web import inbox_list
from tests.support.bot_replies import HANDOFF, decision
from tests.support.gateway import Customer, ScriptedRasa, conversation_id
from tests.support.login import csrf_of


class FakeFaq:
    def search(self, text: str, limit: int = 5) -> list[dict[str, Any]]:
        return [{"faq_id": "versand-kosten", "question": "Was kostet der Versand?", "score": 0.9}]

    def answer(self, faq_id: str) -> str | None:
        return "Der Versand kostet **4,95 €**." if faq_id == "versand-kosten" else None


@pytest.fixture
def waiting(customer: Customer, rasa: ScriptedRasa) -> Customer:
    rasa.replies.append(HANDOFF)
    customer.say("Ich will einen Menschen")
    return customer


def test_login_and_csrf_required(app: Flask, client, waiting: Customer, make_agent) -> None:  # type: ignore[no-untyped-def]
    cid = conversation_id(app, waiting.token)
    assert client.get("/agent/").status_code == 302
    response = client.post(f"/agent/conversations/{cid}/take", json={})
    assert response.status_code in (400, 401) and "error" in response.json
    agent = make_agent()
    no_csrf = agent.client.post(f"/agent/conversations/{cid}/take", json={})
    assert no_csrf.status_code == 400 and "CSRF" in no_csrf.json["error"]
    wrong = app.test_client()
    token = csrf_of(wrong.get("/agent/login").get_data(as_text=True))
    bad = wrong.post(
        "/agent/login", data={"email": "anna@example.com", "password": "falsch-falsch", "csrf_token": token}
    )
    assert bad.status_code == 401
    assert waiting.transcript()["state"] == "waiting_for_agent"  # nothing changed


def test_queue_transcript_take_reply_give_back(app: Flask, waiting: Customer, rasa: ScriptedRasa, make_agent) -> None:  # type: ignore[no-untyped-def]
    cid = conversation_id(app, waiting.token)
    anna, ben = make_agent(), make_agent("ben@example.com", "Ben")
    queue = anna.client.get("/agent/").get_data(as_text=True)
    assert "Kunde möchte einen Menschen" in queue and f"/agent/conversations/{cid}" in queue
    page = anna.client.get(f"/agent/conversations/{cid}").get_data(as_text=True)
    assert "Ich will einen Menschen" in page and "versand-kosten" in page and "0,42" in page  # German decimals

    assert anna.post(f"/agent/conversations/{cid}/take").status_code == 200
    assert ben.post(f"/agent/conversations/{cid}/take").status_code == 409
    assert ben.post(f"/agent/conversations/{cid}/reply", {"text": "Ich bin Ben"}).status_code == 409
    assert waiting.transcript()["messages"][-1]["text"] == "Anna vom Kundenservice ist jetzt im Chat."

    sent = len(rasa.received)
    waiting.say("Mein Paket ist nicht da")
    assert len(rasa.received) == sent  # the agent has it, not the bot
    transcript = anna.client.get(f"/agent/conversations/{cid}/messages?after=0").json
    assert transcript["messages"][-1]["text"] == "Mein Paket ist nicht da"

    assert anna.post(f"/agent/conversations/{cid}/reply", {"text": "Ich schaue nach."}).status_code == 201
    last = waiting.transcript()["messages"][-1]
    assert (last["sender"], last["text"], last["agent_name"]) == ("agent", "Ich schaue nach.", "Anna")

    app.config["FAQ_SEARCH"] = FakeFaq()
    assert anna.client.get("/agent/faq?q=Versand").json["results"][0]["faq_id"] == "versand-kosten"
    assert anna.post(f"/agent/conversations/{cid}/faq", {"faq_id": "versand-kosten"}).status_code == 201
    assert anna.post(f"/agent/conversations/{cid}/faq", {"faq_id": "gibt-es-nicht"}).status_code == 404
    assert "4,95" in waiting.transcript()["messages"][-1]["text"]

    assert anna.post(f"/agent/conversations/{cid}/give-back").json["state"] == "bot"
    assert rasa.resumed and waiting.transcript()["messages"][-1]["text"].startswith("Anna hat das Gespräch")
    assert waiting.say("Danke")["messages"][-1]["text"] == "Echo: Danke"  # the bot answers again


def test_give_back_with_rasa_down_keeps_the_agent(
    app: Flask, waiting: Customer, rasa: ScriptedRasa, make_agent
) -> None:  # type: ignore[no-untyped-def]
    cid = conversation_id(app, waiting.token)
    anna = make_agent()
    anna.post(f"/agent/conversations/{cid}/take")
    rasa.down = True
    response = anna.post(f"/agent/conversations/{cid}/give-back")
    assert response.status_code == 502 and "nicht erreichbar" in response.json["error"]
    assert waiting.transcript()["state"] == "with_agent"


def test_close_ends_the_conversation(app: Flask, waiting: Customer, make_agent) -> None:  # type: ignore[no-untyped-def]
    cid = conversation_id(app, waiting.token)
    anna = make_agent()
    assert anna.post(f"/agent/conversations/{cid}/close").json["state"] == "closed"
    assert anna.post(f"/agent/conversations/{cid}/close").status_code == 409
    assert waiting.client.post(f"{waiting.base}/messages", json={"text": "Hallo?"}).status_code == 409


def test_bad_agent_input(app: Flask, waiting: Customer, make_agent) -> None:  # type: ignore[no-untyped-def]
    cid = conversation_id(app, waiting.token)
    anna = make_agent()
    anna.post(f"/agent/conversations/{cid}/take")
    assert anna.post("/agent/conversations/9999/take").status_code == 404
    assert anna.post(f"/agent/conversations/{cid}/reply", {"text": ""}).status_code == 400
    assert anna.post(f"/agent/conversations/{cid}/reply", {"text": "x" * 100_000}).status_code == 413
    assert anna.client.get("/agent/faq").status_code == 400


def test_cli_creates_agent(app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AUSKUNFT_AGENT_PASSWORD", "sehr-geheim-42")
    result = app.test_cli_runner().invoke(args=["create-agent", "Cara@Example.com", "--name", "Cara"])
    assert result.exit_code == 0, result.output
    again = app.test_cli_runner().invoke(args=["create-agent", "cara@example.com", "--name", "Cara"])
    assert again.exit_code != 0 and "schon" in again.output


def test_the_list_shows_how_long_ago_in_berlin_time(app: Flask) -> None:
    """The stream's entries carry labels, never codes: what the page's script renders."""
    rasa: ScriptedRasa = app.config["RASA_CLIENT"]
    customer = Customer(app.test_client())
    rasa.replies.append(HANDOFF)
    customer.say("Ich will einen Menschen")
    with app.app_context():
        data = inbox_list.lists(get_session(), agent_id=0, now=now() + timedelta(minutes=1))
    [entry] = data["waiting"]
    assert entry["id"] == conversation_id(app, customer.token) and entry["state_label"] == "wartet auf Kundenservice"
    assert entry["reason_label"] == "Kunde möchte einen Menschen"
    # "14:03"; a run just before midnight in Berlin looks a minute later from the next day: "04.12. 23:59"
    assert re.fullmatch(r"(\d\d\.\d\d\. )?\d\d:\d\d", entry["since_label"]), entry["since_label"]
    assert data["counts"] == {"waiting": 1, "mine": 0, "open": 1}


def test_the_open_list_keeps_the_agent_present(app: Flask, make_agent) -> None:  # type: ignore[no-untyped-def]
    """The queue page no longer reloads itself: its open stream is what shows the agent is still there."""
    moment = [now()]
    app.extensions["clock"] = lambda: moment[0]
    anna = make_agent()
    response = anna.client.get("/agent/events")
    chunks = (c.decode() if isinstance(c, bytes) else c for c in response.response)
    assert next(c for c in chunks if c.startswith("event: lists"))
    moment[0] += timedelta(minutes=3)  # long enough for a new presence mark
    assert next(c for c in chunks if c.startswith(": keep-alive"))
    next(chunks)  # the stream goes on after its keep-alive went through: the mark is written then
    response.close()
    with app.app_context():
        agent = get_session().scalars(select(Agent).where(Agent.email == "anna@example.com")).one()
        assert aware(agent.last_seen_at) == moment[0]


def test_the_reasoning_is_the_latest_questions(app: Flask, customer: Customer, rasa: ScriptedRasa) -> None:
    """A pick from "Meinten Sie …?" carries no candidates of its own: the panel shows its question's; a new
    question replaces them (never the first handoff's)."""
    rasa.replies.append([decision("clarify", "Wo ist mein Paket?", [("versand-status", 0.6), ("versand-dauer", 0.5)]),
                         {"text": "Meinten Sie …?"}])  # fmt: skip
    customer.say("Wo ist mein Paket?")
    rasa.replies.append([decision("chosen", "Wo ist mein Paket?", [], faq_id="versand-status"), {"text": "So."}])
    customer.say("Sendungsstatus", payload="/choose")
    with app.app_context():
        shown = reasoning.current(get_session(), states.by_token(get_session(), customer.token))
    assert shown is not None and (shown["action_label"], shown["question"]) == ("gewählt", "Wo ist mein Paket?")
    assert [c["faq_id"] for c in shown["candidates"]] == ["versand-status", "versand-dauer"]
    assert shown["candidates"][0]["score"] == "0,60"

    rasa.replies.append([decision("clarify", "Und die Rücksendung?", [("retoure-frist", 0.55)]), {"text": "?"}])
    customer.say("Und die Rücksendung?")
    with app.app_context():
        shown = reasoning.current(get_session(), states.by_token(get_session(), customer.token))
    assert shown is not None and [c["faq_id"] for c in shown["candidates"]] == ["retoure-frist"]
