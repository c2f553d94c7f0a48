"""The action server → gateway protocol (common/protocol.py) and what the customer sees around it.

The goodbye is recognised by its payload, not its text, and asks for a rating; an ordinary answer does not;
no payload reaches a customer on any channel. Around a handoff exactly one message speaks about whether and
when someone is there — the gateway's, the first after the customer's; the action server's short reason, if
any, opens that same message and promises no person.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask

from actions import handoff
from bot.config import ROOT
from bot.conversation import csat
from bot.conversation.availability import BERLIN, DAYS
from common import protocol
from common.protocol import DecisionPayload, GoodbyePayload, HandoffPayload
from tests.support.app import make_app
from tests.support.channels import SmsCustomer, channel_app, served, settled, stored
from tests.support.gateway import Customer, ScriptedRasa
from tests.support.mock_providers import GraphApi, TwilioApi

GOODBYE_TEXT = "Tschüss! Melden Sie sich gern wieder."
GOODBYE = [{"text": GOODBYE_TEXT}, {"custom": GoodbyePayload().to_dict()}]  # as Rasa's REST channel sends it
DECISION = DecisionPayload("answer", "Was kostet der Versand?", "versand-kosten", 0.81, "clear match")
ANSWER = [{"custom": DECISION.to_dict()}, {"text": "Der Versand kostet **4,95 €**."}]
PROMISES_A_PERSON = re.compile(r"verbinde|Mitarbeiter meldet|übernimmt|Moment|gleich|sofort", re.I)
# a message that speaks about availability: hours, presence, how soon, the queue
AVAILABILITY = re.compile(
    r"\bUhr\b|Servicezeit|erreichbar|besetzt|meldet sich|melden uns|Warteschlange|Moment|\d{1,2}[:.]\d{2}", re.I
)


def handoff_replies(reason: str) -> list[dict[str, Any]]:
    """What Rasa sends when the action server hands off: its text for the customer (if any), then the payload."""
    payload = handoff.handoff_payload(reason, [], handoff.summarise(reason, ["Frage"], None), "Frage")
    text = handoff.CUSTOMER_TEXT[reason]
    return [*([{"text": text}] if text else []), {"custom": payload}]


def closed_today() -> str:
    """Business hours that leave today (Berlin) closed: only tomorrow."""
    tomorrow = (datetime.now(BERLIN) + timedelta(days=1)).weekday()
    return f"{DAYS[tomorrow]} 08:00-20:00"


def domain_responses() -> dict[str, list[dict[str, Any]]]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]


# --- the protocol ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [DECISION, HandoffPayload("low_confidence", [{"faq_id": "a", "question": "A?", "score": 0.5}], "Ü.", "x"),
     GoodbyePayload()],
)
def test_every_payload_reads_back_as_itself(payload: protocol.Payload) -> None:
    assert protocol.read(payload.to_dict()) == payload
    assert payload.to_dict()[protocol.TYPE] == payload.TYPE


@pytest.mark.parametrize("custom", [None, "goodbye", {}, {"type": "unknown"}, {"kind": "goodbye"}])
def test_anything_else_is_no_payload(custom: object) -> None:
    assert protocol.read(custom) is None


def test_the_action_server_builds_its_payloads_from_the_protocol() -> None:
    from actions import faq_reply

    built = handoff.handoff_payload("requested", None, "Übergabe: requested.", None)
    assert protocol.read(built) == HandoffPayload("requested", [], "Übergabe: requested.", None)
    chosen = faq_reply.decision_payload("chosen", "paket weg", faq_id="versand-paket")
    assert protocol.read(chosen) == DecisionPayload("chosen", "paket weg", "versand-paket")
    with pytest.raises(ValueError, match="unknown handoff reason"):
        handoff.handoff_payload("bored", None, "", None)


def test_every_goodbye_in_the_domain_carries_the_goodbye_payload() -> None:
    variants = domain_responses()["utter_goodbye"]
    assert len(variants) >= 2
    for variant in variants:
        assert variant["text"].strip() and protocol.read(variant.get("custom")) == GoodbyePayload(), variant


# --- the goodbye and the rating, scripted Rasa ----------------------------------------------------------------


def test_the_goodbye_payload_asks_for_a_rating_and_is_not_shown(customer: Customer, rasa: ScriptedRasa) -> None:
    rasa.replies.append(GOODBYE)
    reply = customer.say("Tschüss")["messages"]
    assert [m["text"] for m in reply] == ["Tschüss", GOODBYE_TEXT, csat.REQUEST_TEXT]
    assert [m["text"] for m in customer.transcript()["messages"]] == ["Tschüss", GOODBYE_TEXT, csat.REQUEST_TEXT]


def test_an_answer_or_a_goodbye_text_without_the_payload_asks_nothing(customer: Customer, rasa: ScriptedRasa) -> None:
    rasa.replies += [ANSWER, [{"text": GOODBYE_TEXT}]]
    assert csat.REQUEST_TEXT not in [m["text"] for m in customer.say("Was kostet der Versand?")["messages"]]
    assert [m["text"] for m in customer.say("Tschüss")["messages"]] == ["Tschüss", GOODBYE_TEXT]


def test_the_decision_is_kept_with_the_question(app: Flask, customer: Customer, rasa: ScriptedRasa) -> None:
    from bot.db import get_session
    from bot.models import Message

    rasa.replies.append(ANSWER)
    assert [m["text"] for m in customer.say("Was kostet der Versand?")["messages"]][1:] == [
        "Der Versand kostet **4,95 €**."
    ]
    with app.app_context():
        question = get_session().query(Message).order_by(Message.id).first()
        assert protocol.read(question.payload["decision"]) == DECISION


# --- SMS: the same, where every stored message is sent ---------------------------------------------------------


def test_on_sms_the_goodbye_asks_and_no_payload_is_sent(
    tmp_path: Path, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi
) -> None:
    app = channel_app(tmp_path, rasa, graph, twilio)
    rasa.replies += [ANSWER, GOODBYE]
    with served(app) as url:
        phone = SmsCustomer(url)
        answer = phone.say("Was kostet der Versand?")
        goodbye = phone.say("Tschüss")
        settled(app)
    assert answer == ["Der Versand kostet 4,95 €."]
    assert goodbye[0] == GOODBYE_TEXT and goodbye[1].startswith("Wie zufrieden waren Sie") and len(goodbye) == 2
    assert not any("goodbye" in m.text or "{" in m.text for m in stored(app))


# --- the handoff: one statement about availability -----------------------------------------------------------


def test_the_action_servers_handoff_texts_say_nothing_about_availability() -> None:
    for reason in handoff.REASONS:
        assert not AVAILABILITY.search(handoff.CUSTOMER_TEXT[reason]), reason
        assert not PROMISES_A_PERSON.search(handoff.CUSTOMER_TEXT[reason]), reason
    responses = domain_responses()
    for name in ("utter_offer_human", "utter_frustration", "utter_iamabot"):  # the offers that lead to a handoff
        for variant in responses[name]:
            assert not PROMISES_A_PERSON.search(variant["text"]) and not AVAILABILITY.search(variant["text"]), variant
    for variant in domain_responses()["utter_technical_problem"]:
        assert not AVAILABILITY.search(variant["text"]), variant  # the hours are the gateway's setting alone


@pytest.mark.parametrize("reason", handoff.REASONS)
@pytest.mark.parametrize("hours", ["mo-so 00:00-24:00", "closed"])
def test_in_the_widget_one_message_speaks_about_availability(
    tmp_path: Path, rasa: ScriptedRasa, reason: str, hours: str
) -> None:
    spec = closed_today() if hours == "closed" else hours
    app = make_app(tmp_path, rasa, BUSINESS_HOURS=spec)
    rasa.replies.append(handoff_replies(reason))
    reply = Customer(app.test_client()).say("Ich möchte einen Menschen")
    assert reply["state"] == "waiting_for_agent"
    texts = [m["text"] for m in reply["messages"]]
    assert len(texts) == 2 and texts[1].startswith(handoff.CUSTOMER_TEXT[reason]), texts  # one message, told first
    speaking = [t for t in texts if AVAILABILITY.search(t)]
    assert speaking == [texts[1]], texts
    assert ("nicht besetzt" in speaking[0]) == (hours == "closed")


def test_on_sms_one_message_speaks_about_availability(
    tmp_path: Path, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi
) -> None:
    app = channel_app(tmp_path, rasa, graph, twilio, BUSINESS_HOURS=closed_today())
    rasa.replies.append(handoff_replies("requested"))
    with served(app) as url:
        texts = SmsCustomer(url).say("Mitarbeiter")
        settled(app)
    assert len(texts) == 1 and texts[0].startswith("Unser Kundenservice ist leider gerade nicht besetzt"), texts
    assert "Servicezeiten" in texts[0] and "E-Mail" not in texts[0]


# --- the real Rasa ---------------------------------------------------------------------------------------------


@pytest.mark.rasa
def test_the_real_goodbye_asks_for_a_rating_an_answer_does_not(live_app: Flask) -> None:
    customer = Customer(live_app.test_client())
    answer = customer.say("Was kostet der Versand?")["messages"]
    assert "4,95" in " ".join(m["text"] for m in answer) and csat.REQUEST_TEXT not in [m["text"] for m in answer]
    goodbye = customer.say("Tschüss")["messages"]
    texts = {v["text"] for v in domain_responses()["utter_goodbye"]}
    assert [m["sender"] for m in goodbye] == ["contact", "bot", "bot"], goodbye
    assert goodbye[1]["text"] in texts and goodbye[2]["text"] == csat.REQUEST_TEXT
    shown = customer.transcript()["messages"]
    assert all(m["text"].strip() and "goodbye" not in m["text"] and "{" not in m["text"] for m in shown), shown


@pytest.mark.rasa
def test_the_real_handoff_speaks_once_about_availability(live_app: Flask) -> None:
    customer = Customer(live_app.test_client())
    reply = customer.say("Ich möchte mit einem Mitarbeiter sprechen")
    assert reply["state"] == "waiting_for_agent", reply
    texts = [m["text"] for m in reply["messages"]]
    # nobody online (or, on an evening run, outside the service hours): said first, in the handoff's own line
    openings = ("Gerade ist leider niemand", "Unser Kundenservice ist leider")
    assert len(texts) == 2 and texts[1].startswith(openings), texts
    assert len([t for t in texts if AVAILABILITY.search(t)]) == 1, texts
