"""Transcript download from the inbox: login required; JSON and text carry messages, handoff, feedback, channel."""

from __future__ import annotations

from flask import Flask

from tests.support.bot_replies import HANDOFF
from tests.support.gateway import Customer, ScriptedRasa, conversation_id


def test_export_requires_login(app: Flask, client, customer: Customer) -> None:  # type: ignore[no-untyped-def]
    cid = conversation_id(app, customer.token)
    page = client.get(f"/agent/conversations/{cid}/transcript.txt")
    assert page.status_code == 302 and "/agent/login" in page.headers["Location"]
    api = client.get(f"/agent/conversations/{cid}/transcript.json", headers={"Accept": "application/json"})
    assert api.status_code == 401


def test_export_json_and_text(app: Flask, customer: Customer, rasa: ScriptedRasa, make_agent) -> None:  # type: ignore[no-untyped-def]
    rasa.replies.append(
        [{"text": "Der Versand kostet 4,95 €.", "buttons": [{"title": "Ja", "payload": "/feedback_helpful"}]}]
    )
    customer.say("Was kostet der Versand?")
    rasa.replies.append([{"text": "Schade."}])
    customer.say("Nein", payload="/feedback_not_helpful")
    rasa.replies.append(HANDOFF)
    customer.say("Ich will einen Menschen")
    cid = conversation_id(app, customer.token)
    agent = make_agent()
    assert agent.post(f"/agent/conversations/{cid}/take").status_code == 200
    assert agent.post(f"/agent/conversations/{cid}/reply", {"text": "Hallo, hier Anna."}).status_code == 201

    response = agent.client.get(f"/agent/conversations/{cid}/transcript.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="gespraech-{cid}.json"'
    data = response.json
    assert data["channel"] == "web" and data["state"] == "with_agent"
    assert data["handoff"]["reason"] == "requested"
    assert data["handoff"]["candidates"][0] == {
        "faq_id": "versand-kosten",
        "question": "Was kostet der Versand?",
        "score": 0.42,
    }
    assert [f["feedback"] for f in data["feedback"]] == ["nicht hilfreich"]
    texts = [(m["sender"], m["text"]) for m in data["messages"]]
    assert texts[0] == ("contact", "Was kostet der Versand?")
    assert ("bot", "Der Versand kostet 4,95 €.") in texts
    assert texts[-1] == ("agent", "Hallo, hier Anna.")
    assert data["messages"][-1]["agent_name"] == "Anna"
    assert all(m["created_at"].endswith("+00:00") for m in data["messages"])

    text = agent.client.get(f"/agent/conversations/{cid}/transcript.txt")
    assert text.status_code == 200 and text.mimetype == "text/plain"
    assert text.headers["Content-Disposition"] == f'attachment; filename="gespraech-{cid}.txt"'
    body = text.get_data(as_text=True)
    assert f"Gespräch {cid} · Kanal: Web-Chat" in body
    assert "Übergabegrund: Kunde möchte einen Menschen – Übergabe: Kunde möchte einen Menschen." in body
    assert "Kandidat: Was kostet der Versand? [versand-kosten] – 0.42" in body
    assert "Kunde: Nein [Feedback: nicht hilfreich]" in body
    assert "Kundenservice (Anna): Hallo, hier Anna." in body
    assert body.index("Kunde: Was kostet der Versand?") < body.index("Kundenservice (Anna)")


def test_export_unknown_conversation(make_agent) -> None:  # type: ignore[no-untyped-def]
    agent = make_agent()
    assert agent.client.get("/agent/conversations/999/transcript.json").status_code == 404
    assert agent.client.get("/agent/conversations/1/transcript.pdf").status_code == 404
