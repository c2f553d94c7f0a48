"""While a customer waits for an agent the bot keeps helping: confident answers, an honest acknowledgement
otherwise, the queue entry kept up to date, and a way back to the bot (scripted Rasa, fixed clock)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bot.conversation import availability, states, waiting
from bot.conversation.waiting import WITHDRAW_INTENT, is_withdrawal
from bot.db import get_session
from bot.models import Conversation
from tests.support.bot_replies import HANDOFF, answered, decision, handed_off
from tests.support.gateway import Customer, ScriptedRasa

BERLIN = availability.BERLIN
MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=BERLIN)
SUNDAY_NOON = datetime(2026, 11, 29, 12, 0, tzinfo=BERLIN)
PROMISES_SOMEONE = ("meldet sich", "Einen Moment", "Platz")


@pytest.fixture
def clock(app: Flask) -> list[datetime]:
    moment = [MONDAY_NOON]
    app.extensions["clock"] = lambda: moment[0]
    return moment


def queue_entry(app: Flask, token: str) -> Conversation:
    with app.app_context():
        return states.by_token(get_session(), token)


def waiting_customer(client: FlaskClient, rasa: ScriptedRasa) -> Customer:
    """A customer whose question the bot could not answer: in the queue with reason `low_confidence`."""
    customer = Customer(client)
    rasa.replies.append(handed_off("Kann ich in Raten zahlen?", [("zahlung-arten", 0.55)]))
    assert customer.say("Kann ich in Raten zahlen?")["state"] == "waiting_for_agent"
    return customer


def texts(reply: dict[str, Any]) -> list[str]:
    return [m["text"] for m in reply["messages"]]


def test_a_confident_answer_while_waiting_comes_with_a_note_that_the_request_stays_open(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa, clock: list[datetime], make_agent
) -> None:  # type: ignore[no-untyped-def]
    make_agent()
    customer = waiting_customer(client, rasa)
    rasa.replies.append(answered("Was kostet der Versand?", "versand-kosten", 0.82))
    reply = customer.say("Was kostet der Versand?")
    assert rasa.received[-1][1] == "Was kostet der Versand?"  # the knowledge base still decides
    assert texts(reply)[1:] == ["Antwort aus versand-kosten", "Hat Ihnen das geholfen?", waiting.TEXTS["still_open"]]
    assert reply["messages"][-1]["buttons"] == [waiting.WITHDRAW_BUTTON]
    assert reply["state"] == "waiting_for_agent"
    entry = queue_entry(app, customer.token)
    assert entry.handoff_reason == "low_confidence"
    assert "„Was kostet der Versand?“" in entry.handoff["summary"]
    assert entry.handoff["candidates"][0]["faq_id"] == "zahlung-arten"  # an answered question changes no candidate


def test_an_unclear_message_is_acknowledged_and_updates_the_summary_and_candidates(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa, clock: list[datetime], make_agent
) -> None:  # type: ignore[no-untyped-def]
    make_agent()
    customer = waiting_customer(client, rasa)
    rasa.replies.append(handed_off("Und mit Klarna?", [("zahlung-klarna", 0.51)]))  # the bot's 2nd handoff
    reply = customer.say("Und mit Klarna?")
    assert texts(reply)[1:] == [waiting.TEXTS["noted_staffed"]]  # not the bot's handoff text a second time
    entry = queue_entry(app, customer.token)
    assert entry.state == "waiting_for_agent" and entry.handoff_reason == "low_confidence"
    assert entry.handoff["summary"].startswith("Übergabe: Bot war unsicher.")
    assert entry.handoff["summary"].endswith("Während der Wartezeit: „Und mit Klarna?“.")
    assert entry.handoff["last_question"] == "Und mit Klarna?"
    assert entry.handoff["candidates"][0]["faq_id"] == "zahlung-klarna"
    with app.app_context():  # one handoff, one queue note: the second payload is no new handoff
        stored = states.messages_after(get_session(), entry.id, 0)
        assert len([m for m in stored if (m.payload or {}).get("handoff")]) == 1
    page = make_agent("ben@example.com", "Ben").client.get("/agent/").get_data(as_text=True)
    assert "Und mit Klarna?" in page  # the agent's queue shows the latest question


def test_frustration_while_waiting_makes_the_reason_requested(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa, clock: list[datetime]
) -> None:
    clock[0] = SUNDAY_NOON
    customer = waiting_customer(client, rasa)
    rasa.replies.append([{"text": "Es tut mir leid … Soll ich Sie mit einem Mitarbeiter verbinden?"}])
    reply = customer.say("Das ist jetzt schon das dritte Mal, echt unverschämt")
    assert texts(reply)[1] == waiting.TEXTS["sorry"] + waiting.TEXTS["noted_unstaffed"]
    entry = queue_entry(app, customer.token)
    assert entry.handoff_reason == "requested" and entry.handoff["reason"] == "requested"
    assert entry.handoff["summary"].startswith("Übergabe: Kunde möchte einen Menschen (zuvor: Bot war unsicher).")


def test_asking_for_a_person_again_says_the_request_is_there_already(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa, clock: list[datetime]
) -> None:
    customer = waiting_customer(client, rasa)
    rasa.replies.append(HANDOFF)  # "Ich verbinde Sie." + handoff payload, reason requested
    reply = customer.say("Ich will jetzt einen Menschen sprechen")
    assert texts(reply)[1:] == [waiting.TEXTS["already_unstaffed"]]  # Monday, but nobody logged in
    assert queue_entry(app, customer.token).handoff_reason == "requested"


def test_withdrawing_goes_back_to_the_bot(app: Flask, client: FlaskClient, rasa: ScriptedRasa, clock) -> None:  # type: ignore[no-untyped-def]
    customer = waiting_customer(client, rasa)
    asked = len(rasa.received)
    reply = customer.say("Hat sich erledigt, danke!")
    assert reply["state"] == "bot" and texts(reply)[1] == states.TEXTS["withdrawn"]
    assert len(rasa.received) == asked and rasa.resumed  # the withdrawal is the gateway's, not a question
    with app.app_context():
        assert states.queue(get_session()) == []
    assert texts(customer.say("Was kostet der Versand?"))[1] == "Echo: Was kostet der Versand?"  # the bot again


def test_the_notices_button_withdraws(app: Flask, client: FlaskClient, rasa: ScriptedRasa, clock) -> None:  # type: ignore[no-untyped-def]
    customer = Customer(client)
    rasa.replies.append(HANDOFF)
    notice = customer.say("Mensch bitte")["messages"][-1]
    assert notice["sender"] == "system" and waiting.WITHDRAW_BUTTON in notice["buttons"]
    reply = customer.say("Hat sich erledigt", WITHDRAW_INTENT)
    assert reply["state"] == "bot" and all(m[1] != WITHDRAW_INTENT for m in rasa.received)
    # pressed again later: nothing to withdraw, still a reply, Rasa never sees the payload
    assert texts(customer.say("Hat sich erledigt", WITHDRAW_INTENT))[1] == states.TEXTS["back_to_bot"]
    assert all(m[1] != WITHDRAW_INTENT for m in rasa.received)


@pytest.mark.parametrize(
    "text, withdraws",
    [
        ("hat sich erledigt", True),
        ("Danke, hat sich schon erledigt.", True),
        ("ach, doch nicht", True),
        ("Ich brauche keinen Mitarbeiter mehr", True),
        ("Das geht doch nicht!", False),
        ("Meine Bestellung hat sich erledigt, aber was kostet der Versand?", False),
        ("nicht", False),
    ],
)
def test_what_counts_as_a_withdrawal(text: str, withdraws: bool) -> None:
    assert is_withdrawal(text, None) is withdraws


def test_once_an_agent_has_taken_it_the_bot_is_silent(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa, clock: list[datetime], make_agent
) -> None:  # type: ignore[no-untyped-def]
    anna = make_agent()
    customer = waiting_customer(client, rasa)
    assert anna.post(f"/agent/conversations/{queue_entry(app, customer.token).id}/take").status_code == 200
    asked = len(rasa.received)
    reply = customer.say("Was kostet der Versand?")
    assert texts(reply) == ["Was kostet der Versand?"] and len(rasa.received) == asked
    assert customer.say("hat sich erledigt")["state"] == "with_agent"  # the agent decides now


def test_nobody_there_the_customer_is_told_first_and_honestly(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa, clock: list[datetime], make_agent
) -> None:  # type: ignore[no-untyped-def]
    make_agent()  # logged in, but it is Sunday
    clock[0] = SUNDAY_NOON
    customer = Customer(client)
    rasa.replies.append(HANDOFF)
    handoff = texts(customer.say("Ich möchte mit einem Mitarbeiter sprechen"))
    assert "nicht besetzt" in handoff[-1] and "Bis dahin beantworte ich Ihnen gern weitere Fragen." in handoff[-1]
    assert not any(p in t for t in handoff for p in PROMISES_SOMEONE)
    rasa.replies.append([decision("clarify", "Lieferung", [("versand-lieferzeit", 0.6), ("versand-kosten", 0.58)])])
    noted = texts(customer.say("Lieferung"))[1]
    assert noted == waiting.TEXTS["noted_unstaffed"] and not any(p in noted for p in PROMISES_SOMEONE)


def test_rasa_down_while_waiting_is_acknowledged_not_a_second_handoff(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa, clock: list[datetime]
) -> None:
    customer = waiting_customer(client, rasa)
    rasa.down = True
    reply = customer.say("Hallo?")
    assert texts(reply)[1:] == [waiting.TEXTS["noted_unstaffed"]]
    assert queue_entry(app, customer.token).handoff_reason == "low_confidence"
