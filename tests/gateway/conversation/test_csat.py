"""CSAT over the widget API with a scripted Rasa: the request after a close or the bot's goodbye, the rating
into the closed conversation, bad scores → 400, one rating per conversation, nothing of it sent to Rasa."""

from __future__ import annotations

import pytest
from flask import Flask

from bot.conversation import csat
from bot.db import get_session
from bot.models import Conversation, Rating
from common.protocol import GoodbyePayload
from tests.support.gateway import Customer, ScriptedRasa

HANDOFF = [{"custom": {"type": "handoff", "reason": "requested", "candidates": [], "summary": "Übergabe"}}]
GOODBYE_TEXT = "Auf Wiedersehen und einen schönen Tag!"
GOODBYE = [{"text": GOODBYE_TEXT}, {"custom": GoodbyePayload().to_dict()}]  # as Rasa sends utter_goodbye


def ratings(app: Flask) -> list[tuple[int, int, str]]:
    with app.app_context():
        return [(r.conversation_id, r.score, r.channel) for r in get_session().query(Rating).order_by(Rating.id)]


def closed_by_agent(app: Flask, customer: Customer, rasa: ScriptedRasa, make_agent) -> int:  # type: ignore[no-untyped-def]
    rasa.replies.append(HANDOFF)
    customer.say("Ich will einen Menschen")
    with app.app_context():
        cid = get_session().query(Conversation.id).filter_by(token=customer.token).scalar()
    anna = make_agent()
    assert anna.post(f"/agent/conversations/{cid}/take").status_code == 200
    assert anna.post(f"/agent/conversations/{cid}/close").status_code == 200
    return cid


def test_rating_after_the_agent_closes(app: Flask, customer: Customer, rasa: ScriptedRasa, make_agent) -> None:  # type: ignore[no-untyped-def]
    cid = closed_by_agent(app, customer, rasa, make_agent)
    request = customer.transcript()["messages"][-1]
    assert request["text"] == csat.REQUEST_TEXT and request["sender"] == "bot"
    assert [b["title"] for b in request["buttons"]] == ["1", "2", "3", "4", "5"]
    assert request["buttons"][3]["payload"] == '/csat{"score":4}'

    sent_to_rasa = len(rasa.received)
    reply = customer.say("4", request["buttons"][3]["payload"], client_id="rate-1")
    assert [m["text"] for m in reply["messages"]] == ["4", csat.THANKS_TEXT]
    assert reply["state"] == "closed"
    assert len(rasa.received) == sent_to_rasa  # never Rasa's business
    assert ratings(app) == [(cid, 4, "web")]
    page = make_agent("ben@example.com", "Ben").client.get(f"/agent/conversations/{cid}").get_data(as_text=True)
    assert "Feedback: Bewertung 4 von 5" in page  # the agents see it

    # the same click resent: nothing new, the stored answer again; a second rating: refused politely
    assert customer.say("4", '/csat{"score":4}', client_id="rate-1")["messages"] == reply["messages"]
    again = customer.say("1", '/csat{"score":1}')
    assert again["messages"][-1]["text"] == csat.ALREADY_TEXT
    assert ratings(app) == [(cid, 4, "web")]
    # anything else into the closed conversation is still refused
    assert customer.client.post(f"{customer.base}/messages", json={"text": "Hallo?"}).status_code == 409
    assert customer.client.post(f"{customer.base}/messages", json={"text": "3"}).status_code == 409


@pytest.mark.parametrize(
    "payload",
    [
        '/csat{"score":0}',
        '/csat{"score":6}',
        '/csat{"score":"4"}',
        '/csat{"score":4.5}',
        '/csat{"score":true}',
        "/csat{kaputt}",
        "/csat[4]",
        '/csat{"note":4}',
    ],
)
def test_bad_scores_are_400(app: Flask, customer: Customer, rasa: ScriptedRasa, make_agent, payload: str) -> None:  # type: ignore[no-untyped-def]
    closed_by_agent(app, customer, rasa, make_agent)
    response = customer.client.post(f"{customer.base}/messages", json={"text": "x", "payload": payload})
    assert response.status_code == 400 and "error" in response.json
    assert ratings(app) == []


def test_goodbye_asks_and_a_typed_digit_rates(app: Flask, customer: Customer, rasa: ScriptedRasa) -> None:
    rasa.replies.append(GOODBYE)
    reply = customer.say("Tschüss")
    assert [m["text"] for m in reply["messages"]] == ["Tschüss", GOODBYE_TEXT, csat.REQUEST_TEXT]
    sent_to_rasa = len(rasa.received)
    assert customer.say(" 5 ")["messages"][-1]["text"] == csat.THANKS_TEXT
    assert len(rasa.received) == sent_to_rasa
    with app.app_context():
        cid = get_session().query(Conversation.id).scalar()
    assert ratings(app) == [(cid, 5, "web")]
    # rated: the next goodbye does not ask again, and a digit is an ordinary message for the bot
    rasa.replies.append(GOODBYE)
    assert [m["text"] for m in customer.say("Ciao")["messages"]] == ["Ciao", GOODBYE_TEXT]
    assert customer.say("3")["messages"][-1]["text"] == "Echo: 3"


def test_a_digit_without_a_request_goes_to_the_bot(app: Flask, customer: Customer, rasa: ScriptedRasa) -> None:
    assert customer.say("2")["messages"][-1]["text"] == "Echo: 2"
    assert ratings(app) == []


@pytest.mark.rasa
def test_the_real_bots_goodbye_asks_for_a_rating(live_app: Flask) -> None:
    """Against the real Rasa: its utter_goodbye is recognised, the rating never reaches Rasa."""
    customer = Customer(live_app.test_client())
    reply = customer.say("Tschüss")["messages"]
    assert reply[-2]["sender"] == "bot" and reply[-1]["text"] == csat.REQUEST_TEXT
    assert customer.say("5", '/csat{"score":5}')["messages"][-1]["text"] == csat.THANKS_TEXT
    assert [score for _, score, _ in ratings(live_app)] == [5]
