"""Issue 15 on the real trained Rasa model and action server: "where is MY parcel" reaches the order look-up in the
same turn, general shipping questions stay FAQ answers, and the demo order LG-123456 (due 27.11.2026) is overdue.

The held-out paraphrases live in benchmarks/parcel_nlu_test.yml (none of them is in data/nlu; the benchmark's parcel
row reads the same file). The demo order's day lies before the day these tests run (December 2026 or later).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from actions import order_prompts
from benchmarks.bot_benchmark import PARCEL_SET, examples, parcel_routing
from rasa_runtime.processes import Services
from tests.support.rest_chat import Chat, buttons, custom, texts

pytestmark = pytest.mark.rasa

TRACKING_BUTTON = {
    "title": "Wie kann ich meine Sendung verfolgen?",
    "payload": '/choose_faq{"faq_id":"versand-sendungsverfolgung"}',
}


NAMED = {  # the wordings the issue names: each must go its way
    "Wo ist mein Paket?": "order_status",
    "Wo bleibt meine Lieferung?": "order_status",
    "Mein Paket ist noch nicht da": "order_status",
    "wann kommt meine Bestellung": "order_status",
    "Sendung nicht angekommen": "order_status",
    "ich warte seit einer Woche auf mein Paket": "order_status",
    "ich hab vor 5 tagen bestellt und bis jetzt kam nix": "order_status",
    "Wie lange dauert der Versand?": "ask_question",
    "Wie kann ich meine Sendung verfolgen?": "ask_question",
    "Versenden Sie nach Österreich?": "ask_question",
}


def test_held_out_paraphrases_route_both_ways(services: Services) -> None:
    """Own parcel → order look-up; how shipping works → the knowledge base: the issue's own wordings every one, of
    the other held-out paraphrases at most one astray in each direction.

    DIET on a small training set moves a borderline wording between trainings (measured: 18/18 and 13/14, then
    17/18 and 14/14 after more general examples; docs/bot-benchmarks.md). At worst a general question is asked for
    the order number with the tracking FAQ as a button beside it, or an own-parcel question gets an FAQ answer."""
    test = examples(PARCEL_SET)
    assert set(NAMED.items()) <= set(test)
    result = parcel_routing(services.settings.rasa_url, test)
    own, general = result["own_parcel"], result["general"]
    assert own["total"] >= 15 and general["total"] >= 12
    assert not [e for e in result["errors"] if e["text"] in NAMED], result["errors"]
    assert own["routed"] >= own["total"] - 1 and general["routed"] >= general["total"] - 1, result["errors"]


def test_the_held_out_set_is_not_in_the_training_data() -> None:
    from benchmarks.bot_benchmark import check_held_out

    check_held_out(examples(Path(PARCEL_SET)))  # raises SystemExit naming a leaked sentence


def test_the_flagship_question_asks_number_and_proof_in_the_same_turn(chat: Chat) -> None:
    replies = chat.say("Wo ist mein Paket?")
    assert texts(replies) == order_prompts.ASK_NUMBER_AND_FACTOR
    assert buttons(replies) == [TRACKING_BUTTON]
    assert "Meinten Sie" not in texts(replies)


def test_number_and_postcode_at_once_tell_the_overdue_status_and_offer_a_person(chat: Chat) -> None:
    chat.say("Wo ist mein Paket?")
    replies = chat.say("LG-123456, 10115")
    said = texts(replies)
    assert "Ihre Bestellung LG-123456 ist unterwegs mit DHL." in said
    assert "Die Zustellung war für Freitag, 27.11.2026 angekündigt; das ist leider schon vorbei." in said
    assert "Nachforschungsauftrag bei DHL" in said and "voraussichtlich" not in said
    assert [b["payload"] for b in buttons(replies)] == ["/affirm", "/deny"]
    handed = custom(chat.say("ja"))
    assert handed["reason"] == "delivery_overdue"
    assert handed["summary"].startswith("Übergabe: Zustellung überfällig.")
    assert "Zustellung war für 27.11.2026 angekündigt" in handed["summary"]


def test_a_long_wait_is_met_with_understanding_first(chat: Chat) -> None:
    replies = chat.say("ich hab vor 5 tagen bestellt und bis jetzt kam nix")
    assert texts(replies) == f"{order_prompts.SORRY_WAITING} {order_prompts.ASK_NUMBER_AND_FACTOR}"


def test_the_tracking_button_answers_the_general_faq_instead(chat: Chat) -> None:
    chat.say("Wann kommt mein Paket?")
    replies = chat.say(TRACKING_BUTTON["payload"])
    assert "Sendungsverfolgung" in texts(replies) and "Hat Ihnen das geholfen?" in texts(replies)
    assert custom(replies, "decision")["faq_id"] == "versand-sendungsverfolgung"
    assert not (chat.tracker()["active_loop"] or {}).get("name")


@pytest.mark.parametrize("question", ["Wie kann ich meine Sendung verfolgen?", "Versenden Sie nach Österreich?"])
def test_general_questions_stay_faq_answers(chat: Chat, question: str) -> None:
    replies = chat.say(question)
    assert custom(replies, "decision")["action"] in ("answer", "clarify")
    assert "Bestellnummer" not in texts(replies)
