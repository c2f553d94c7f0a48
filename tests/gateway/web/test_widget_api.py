"""The widget API with a scripted Rasa: routing, handoff, resends, bad input, SSE and polling."""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from tests.support.gateway import Customer, ScriptedRasa

HANDOFF = {
    "custom": {
        "type": "handoff",
        "reason": "requested",
        "candidates": [{"faq_id": "versand-lieferzeit", "question": "Wie lange dauert die Lieferung?", "score": 0.7}],
        "summary": "Übergabe: Kunde möchte einen Menschen.",
        "last_question": "Mensch bitte",
    }
}


def test_message_goes_to_rasa_and_replies_are_stored(customer: Customer, rasa: ScriptedRasa) -> None:
    rasa.replies.append(
        [
            {"text": "Antwort"},
            {"text": "Hat Ihnen das geholfen?", "buttons": [{"title": "Ja", "payload": "/feedback_helpful"}]},
        ]
    )
    result = customer.say("Was kostet der Versand?")
    assert [m["sender"] for m in result["messages"]] == ["contact", "bot", "bot"]
    assert result["messages"][2]["buttons"] == [{"title": "Ja", "payload": "/feedback_helpful"}]
    customer.say("Ja", payload="/feedback_helpful")
    assert rasa.received[-1][1] == "/feedback_helpful"  # the button's intent, not its title
    assert [m["text"] for m in customer.transcript()["messages"]][-2:-1] == ["Ja"]


def test_handoff_queues_and_the_gateway_chooses_the_replies_while_waiting(
    customer: Customer, rasa: ScriptedRasa
) -> None:
    rasa.replies.append([{"text": "Ich verbinde Sie."}, HANDOFF])
    result = customer.say("Ich will einen Menschen")
    assert result["state"] == "waiting_for_agent"
    assert result["messages"][-1]["sender"] == "system"
    assert "candidates" not in json.dumps(result)  # scores are for the agent, not the customer
    waiting = customer.say("Hallo?")  # the bot is asked, but no confident answer: the gateway acknowledges
    assert waiting["state"] == "waiting_for_agent" and rasa.received[-1][1] == "Hallo?"
    assert [m["sender"] for m in waiting["messages"]] == ["contact", "bot"]
    assert "Echo" not in json.dumps(waiting)


def test_rasa_down_tells_customer_and_queues(customer: Customer, rasa: ScriptedRasa) -> None:
    rasa.down = True
    result = customer.say("Wo ist mein Paket?")
    assert result["state"] == "waiting_for_agent"
    assert "nicht erreichbar" in result["messages"][1]["text"]
    assert customer.transcript()["messages"][0]["text"] == "Wo ist mein Paket?"


def test_resend_with_same_client_id_is_stored_once_and_gets_the_stored_replies(
    customer: Customer, rasa: ScriptedRasa
) -> None:
    first = customer.say("Hallo", client_id="m-1")
    again = customer.say("Hallo", client_id="m-1")
    assert again["messages"] == first["messages"]  # the message and its reply, as the first answer had them
    assert [text for _sender, text in rasa.received] == ["Hallo"]
    assert len(customer.transcript()["messages"]) == 2


def test_bad_input_gets_clear_json_errors(client: FlaskClient, customer: Customer, rasa: ScriptedRasa) -> None:
    url = f"{customer.base}/messages"
    cases = [
        (client.post(url, data="{", content_type="application/json"), 400),
        (client.post(url, data="text=hi", content_type="application/x-www-form-urlencoded"), 415),
        (client.post(url, json=["a list"]), 400),
        (client.post(url, json={"text": 42}), 400),
        (client.post(url, json={"text": "   "}), 400),
        (client.post(url, json={"text": "x" * 100_000}), 413),
        (client.post(url, json={"text": "x", "payload": "<script>"}), 400),
        (client.post(url, json={"text": "x", "client_id": "../../etc"}), 400),
        (client.post(url, data="x" * 400_000, content_type="application/json"), 413),
        (client.post("/api/widget/conversations/" + "A" * 43 + "/messages", json={"text": "hi"}), 404),
        (client.post("/api/widget/conversations/not-a-token/messages", json={"text": "hi"}), 404),
        (client.get(f"{customer.base}/messages?after=abc"), 400),
    ]
    for response, status in cases:
        assert response.status_code == status, (response.request.path, response.json)
        assert isinstance(response.json["error"], str)
    assert customer.transcript()["messages"] == []  # nothing stored half-way
    assert rasa.received == []


def test_closed_conversation_refuses_messages(app, customer: Customer) -> None:  # type: ignore[no-untyped-def]
    from bot.conversation import states
    from bot.db import get_session

    with app.app_context():
        session = get_session()
        states.close(session, states.by_token(session, customer.token))
        session.commit()
    response = customer.client.post(f"{customer.base}/messages", json={"text": "Hallo?"})
    assert response.status_code == 409
    assert "beendet" in response.json["error"]


def test_polling_returns_only_newer_messages(customer: Customer) -> None:
    first = customer.say("eins")["messages"]
    customer.say("zwei")
    newer = customer.client.get(f"{customer.base}/messages?after={first[-1]['id']}").json["messages"]
    assert [m["text"] for m in newer] == ["zwei", "Echo: zwei"]


def test_sse_streams_stored_and_new_messages(client: FlaskClient, customer: Customer) -> None:
    customer.say("eins")
    response = client.get(f"{customer.base}/events", buffered=False)
    assert response.mimetype == "text/event-stream"
    chunks = iter(response.response)

    def read_until(marker: str) -> str:
        seen = ""
        while marker not in seen:
            seen += next(chunks).decode()
        return seen

    first = read_until("event: state")
    assert "Echo: eins" in first and '"state": "bot"' in first
    customer.say("zwei")
    assert '"text": "Echo: zwei"' in read_until("Echo: zwei")
    response.close()
