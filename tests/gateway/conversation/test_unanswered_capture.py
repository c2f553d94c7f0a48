"""The gateway records what the bot could not answer: masked, with the bot's candidate, once per question."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from bot.db import get_session
from bot.models import UnansweredQuestion
from tests.support.bot_replies import answered, clarified, handed_off
from tests.support.gateway import Customer, ScriptedRasa


def stored(app: Flask) -> list[UnansweredQuestion]:
    with app.app_context():
        return list(get_session().scalars(select(UnansweredQuestion).order_by(UnansweredQuestion.id)))


def test_low_confidence_handoff_is_recorded_masked_with_the_candidate(
    app: Flask, customer: Customer, rasa: ScriptedRasa
) -> None:
    question = "Ich bin erika@example.com, Tel. 0151 1234567 – kann ich LG-123456 als Geschenk verpacken lassen?"
    rasa.replies.append(handed_off(question, [("bestellung-aendern", 0.71), ("versand-kosten", 0.69)]))
    assert customer.say(question)["state"] == "waiting_for_agent"
    [entry] = stored(app)
    assert entry.text == "Ich bin [E-MAIL], Tel. [TELEFON] – kann ich [BESTELLNUMMER] als Geschenk verpacken lassen?"
    assert (entry.kind, entry.faq_id, entry.score) == ("low_confidence", "bestellung-aendern", 0.71)
    assert entry.status == "open"
    assert entry.conversation_id is not None and entry.message_id is not None
    # the transcript keeps what the customer wrote: the agent may need the address
    assert customer.transcript()["messages"][0]["text"] == question


def test_no_after_an_answer_records_the_question_once(app: Flask, customer: Customer, rasa: ScriptedRasa) -> None:
    rasa.replies.append(answered("Kann ich per Rechnung an 0049 30 1234567 zahlen?", "zahlung-rechnung", 0.86))
    customer.say("Kann ich per Rechnung an 0049 30 1234567 zahlen?")
    assert stored(app) == []  # answered: nothing for the editors yet
    rasa.replies.append([{"text": "Schade. Möchten Sie mit einem Menschen sprechen?"}])
    customer.say("Nein", payload="/feedback_not_helpful")
    customer.say("Nein", payload="/feedback_not_helpful")  # pressed again: still one entry
    [entry] = stored(app)
    assert entry.text == "Kann ich per Rechnung an [TELEFON] zahlen?"
    assert (entry.kind, entry.faq_id, entry.score) == ("not_helpful", "zahlung-rechnung", 0.86)


def test_yes_records_nothing_and_no_refers_to_the_last_answer(
    app: Flask, customer: Customer, rasa: ScriptedRasa
) -> None:
    rasa.replies.append(answered("Was kostet der Versand?", "versand-kosten", 0.9))
    customer.say("Was kostet der Versand?")
    customer.say("Ja", payload="/feedback_helpful")
    customer.say("Nein", payload="/feedback_not_helpful")  # "Nein" without an answer before it in this conversation
    assert [e.kind for e in stored(app)] == ["not_helpful"]  # …refers to the answer two messages back
    rasa.replies.append([{"text": "Hallo!"}])
    other = Customer(customer.client)
    other.say("Hallo")
    other.say("Nein", payload="/feedback_not_helpful")  # nothing was answered: nothing to record
    assert len(stored(app)) == 1


def test_none_of_these_after_a_clarification_is_recorded(app: Flask, customer: Customer, rasa: ScriptedRasa) -> None:
    rasa.replies.append(clarified("paket weg", [("versand-paket-nicht-erhalten", 0.82), ("versand-lieferzeit", 0.81)]))
    customer.say("paket weg")
    rasa.replies.append([{"text": "Schade."}])
    customer.say("Nichts davon", payload="/none_of_these")
    [entry] = stored(app)
    assert (entry.text, entry.kind, entry.faq_id, entry.score) == (
        "paket weg", "not_helpful", "versand-paket-nicht-erhalten", 0.82
    )


def test_no_after_a_chosen_option_records_the_customers_words(
    app: Flask, customer: Customer, rasa: ScriptedRasa
) -> None:
    rasa.replies.append(clarified("paket weg", [("versand-paket-nicht-erhalten", 0.82), ("versand-lieferzeit", 0.81)]))
    customer.say("paket weg")
    chosen = {"custom": {"type": "decision", "action": "chosen", "question": "paket weg",
                         "faq_id": "versand-lieferzeit", "confidence": None, "reason": None, "candidates": []}}
    rasa.replies.append([chosen, {"text": "Antwort"}, {"text": "Hat Ihnen das geholfen?"}])
    customer.say("Frage versand-lieferzeit", payload='/choose_faq{"faq_id":"versand-lieferzeit"}')
    rasa.replies.append([{"text": "Schade."}])
    customer.say("Nein", payload="/feedback_not_helpful")
    [entry] = stored(app)
    assert (entry.text, entry.kind, entry.faq_id) == ("paket weg", "not_helpful", "versand-lieferzeit")
