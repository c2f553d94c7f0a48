"""Issue 15 without Rasa: the order form's questions (apology, number and proof at once, the tracking FAQ button),
the status read against today's date in Berlin (a fixed clock), and the overdue delivery's next step."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import actions, faq_reply, handoff, order_prompts, orders
from common import labels, protocol
from common.frustration import waits_long
from knowledge_base.schema import FaqEntry
from tests.dialogue.test_rasa_actions import LISTEN, StubKnowledgeBase, kb, order_tracker, run, tracker

__all__ = ["kb"]  # the fixture, shared with the action tests

TRACKING = "versand-sendungsverfolgung"
SHIPPED = orders.Order("LG-123456", "shipped", "DHL", "https://example.org/t/1", "2026-11-27", "10115")


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- the status against the date --------------------------------------------------------------------------------


def test_a_passed_delivery_day_is_said_plainly() -> None:
    text = orders.describe(SHIPPED, date(2026, 11, 29))
    assert text.startswith("Ihre Bestellung LG-123456 ist unterwegs mit DHL.")
    assert "Die Zustellung war für Freitag, 27.11.2026 angekündigt; das ist leider schon vorbei." in text
    assert "voraussichtlich" not in text
    assert orders.is_overdue(SHIPPED, date(2026, 11, 28))


def test_a_coming_day_and_today_read_as_such() -> None:
    coming = orders.describe(SHIPPED, date(2026, 11, 25))
    assert "voraussichtliche Zustellung am Freitag, 27.11.2026." in coming and "vorbei" not in coming
    assert "für heute angekündigt" in orders.describe(SHIPPED, date(2026, 11, 27))
    assert not orders.is_overdue(SHIPPED, date(2026, 11, 27))


def test_only_open_orders_can_be_overdue() -> None:
    delivered = orders.Order("LG-345678", "delivered", "DHL", None, "2026-11-20")
    assert not orders.is_overdue(delivered, date(2026, 12, 1))
    assert "vorbei" not in orders.describe(delivered, date(2026, 12, 1))
    free_text = orders.Order("LG-1", "shipped", expected_delivery="Ende nächster Woche")  # a shop's own wording
    assert not orders.is_overdue(free_text, date(2030, 1, 1))
    assert "voraussichtliche Zustellung: Ende nächster Woche" in orders.describe(free_text, date(2030, 1, 1))


def test_today_is_the_day_in_berlin_not_on_the_server() -> None:
    assert orders.today(lambda: at(2026, 11, 27, 23, 30)) == date(2026, 11, 28)  # 00:30 in Berlin
    assert orders.today(lambda: at(2026, 11, 27, 22, 59)) == date(2026, 11, 27)


def test_the_overdue_next_step_fits_the_state() -> None:
    assert "einen Nachforschungsauftrag bei DHL stellen" in orders.overdue_next_step(SHIPPED)
    packed = orders.Order("LG-234567", "packed", expected_delivery="2026-11-28")
    assert "warum sich der Versand verzögert" in orders.overdue_next_step(packed)
    for step in (orders.overdue_next_step(SHIPPED), orders.overdue_next_step(packed)):
        assert step.endswith("Soll ich Ihr Anliegen an unseren Kundenservice geben?")


def test_the_overdue_look_up_offers_a_person_with_its_own_reason(kb: StubKnowledgeBase) -> None:
    action = actions.ActionOrderStatus(clock=lambda: at(2026, 11, 29))
    messages, events = run(action, order_tracker("LG-123456", "10115"))  # the demo order, due 27.11.2026
    assert "27.11.2026 angekündigt; das ist leider schon vorbei" in messages[0]["text"]
    assert "Nachforschungsauftrag" in messages[1]["text"]
    assert [b["payload"] for b in messages[1]["buttons"]] == ["/affirm", "/deny"]
    assert SlotSet("pending", "human") in events and SlotSet("handoff_reason", "delivery_overdue") in events
    note = "Bestellung LG-123456 (ist unterwegs): Zustellung war für 27.11.2026 angekündigt."
    assert SlotSet("handoff_note", note) in events and events[-1] == LISTEN

    yes = tracker("ja", "affirm", pending="human", handoff_reason="delivery_overdue", handoff_note=note)
    messages, events = run(actions.ActionConfirm(), yes)
    payload = messages[-1]["custom"]
    assert payload["reason"] == "delivery_overdue"
    assert payload["summary"].startswith("Übergabe: Zustellung überfällig.") and note in payload["summary"]
    assert SlotSet("handoff_note", None) in events


def test_a_delivery_still_to_come_gets_no_offer(kb: StubKnowledgeBase) -> None:
    before = actions.ActionOrderStatus(clock=lambda: at(2026, 11, 20))
    messages, events = run(before, order_tracker("LG-123456", "10115"))
    assert len(messages) == 1 and "voraussichtliche Zustellung am Freitag, 27.11.2026" in messages[0]["text"]
    assert not any(e.get("name") == "pending" for e in events)


def test_the_reason_is_known_to_the_protocol_and_labelled_in_german() -> None:
    assert "delivery_overdue" in protocol.HANDOFF_REASONS and "delivery_overdue" in handoff.CUSTOMER_TEXT
    assert labels.handoff_reason("delivery_overdue") == "Zustellung überfällig"


# --- waiting and annoyance ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "waiting"),
    [
        ("ich hab vor 5 tagen bestellt und bis jetzt kam nix", True),
        ("ich warte seit einer Woche auf mein Paket", True),
        ("Mein Paket ist immer noch nicht da", True),
        ("seit 12 Tagen nichts", True),
        ("wann kommt es endlich", True),
        ("Wo ist mein Paket?", False),
        ("Wie lange dauert der Versand?", False),
        ("Wie lange habe ich Zeit für die Rückgabe?", False),
        ("Liefert ihr vor 10 Uhr?", False),
    ],
)
def test_waiting_long_is_read_from_the_words(text: str, waiting: bool) -> None:
    assert waits_long(text) is waiting


def test_the_apology_comes_first_and_admits_nothing() -> None:
    assert order_prompts.apology("ich hab vor 5 tagen bestellt und bis jetzt kam nix") == order_prompts.SORRY_WAITING
    assert order_prompts.apology("Wo ist mein Paket, Frechheit!!!") == order_prompts.SORRY_ANNOYED
    assert order_prompts.apology("Wo ist mein Paket?") is None
    for sorry in (order_prompts.SORRY_WAITING, order_prompts.SORRY_ANNOYED):
        assert sorry.startswith("Das tut mir leid") and "Schuld" not in sorry and "Fehler" not in sorry


# --- the form's questions ----------------------------------------------------------------------------------------


def with_tracking_entry(stub: StubKnowledgeBase) -> dict[str, str]:
    stub.entries[TRACKING] = FaqEntry(
        id=TRACKING, question="Wie kann ich meine Sendung verfolgen?", answer="Per **Link**.", updated="2026-11-20"
    )
    return {"title": "Wie kann ich meine Sendung verfolgen?", "payload": faq_reply.choose_faq_payload(TRACKING)}


def asking(text: str, intent: str = "order_status", before: list[dict[str, Any]] | None = None, **extra: Any):
    """A tracker whose latest message is `text`; `before`: events earlier in the conversation."""
    base = tracker(text, intent, **extra)
    events = [*(before or []), {"event": "user", "text": text}]
    return Tracker(base.sender_id, base.slots, base.latest_message, events, False, None, {}, "action_listen")


def ask(action: actions.ActionAskOrderNumber, track: Tracker) -> dict[str, Any]:
    dispatcher = CollectingDispatcher()
    assert asyncio.run(action.run(dispatcher, track, {})) == []
    (message,) = dispatcher.messages
    return message


def test_the_first_question_asks_number_and_proof_with_the_tracking_button(kb: StubKnowledgeBase) -> None:
    button = with_tracking_entry(kb)
    message = ask(actions.ActionAskOrderNumber(), asking("Wo ist mein Paket?"))
    assert message["text"] == order_prompts.ASK_NUMBER_AND_FACTOR
    assert message["buttons"] == [button]


def test_a_waiting_customer_hears_the_apology_first(kb: StubKnowledgeBase) -> None:
    with_tracking_entry(kb)
    message = ask(actions.ActionAskOrderNumber(), asking("ich hab vor 5 tagen bestellt und bis jetzt kam nix"))
    assert message["text"] == f"{order_prompts.SORRY_WAITING} {order_prompts.ASK_NUMBER_AND_FACTOR}"
    verification = ask(actions.ActionAskOrderVerification(), asking("seit einer Woche warte ich auf LG-123456"))
    assert verification["text"] == f"{order_prompts.SORRY_WAITING} {order_prompts.ASK_FACTOR}"


def test_a_verified_sms_sender_is_asked_the_number_only(kb: StubKnowledgeBase) -> None:
    with_tracking_entry(kb)
    sms = {"auskunft_verified_phone": "+4915112345678"}
    assert ask(actions.ActionAskOrderNumber(), asking("Wo ist mein Paket?", metadata=sms))["text"] == (
        order_prompts.ASK_NUMBER
    )


def test_a_repeated_question_comes_bare(kb: StubKnowledgeBase) -> None:
    with_tracking_entry(kb)
    during = [{"event": "active_loop", "name": actions.ORDER_FORM}, {"event": "user", "text": "Wo ist mein Paket?!!!"}]
    message = ask(actions.ActionAskOrderNumber(), asking("weiß nicht!!!", "deny", before=during))
    assert message == {**message, "text": order_prompts.ASK_NUMBER_AGAIN} and not message.get("buttons")
    after = [*during, {"event": "active_loop", "name": None}]  # an earlier request, finished: this one is new
    assert ask(actions.ActionAskOrderNumber(), asking("Wo ist mein Paket?", before=after)).get("buttons")


def test_without_the_tracking_entry_there_is_no_button(kb: StubKnowledgeBase) -> None:
    assert not ask(actions.ActionAskOrderNumber(), asking("Wo ist mein Paket?")).get("buttons")


def test_number_and_postcode_in_one_answer_fill_both(kb: StubKnowledgeBase) -> None:
    validate = actions.ValidateOrderStatusForm().validate_order_number
    dispatcher = CollectingDispatcher()
    both = validate("LG-123456", dispatcher, tracker("LG 123456, PLZ 10115", "order_status"), {})
    assert (both["order_number"], both["order_verification"]) == ("LG-123456", "10115")
    mail = validate("123456", dispatcher, tracker("123456 erika@example.org", "order_status"), {})
    assert mail["order_verification"] == "erika@example.org"
    alone = validate("lg123456", dispatcher, tracker("lg123456", "order_status"), {})
    assert "order_verification" not in alone  # asked next


def test_the_tracking_button_during_the_form_answers_the_faq(kb: StubKnowledgeBase) -> None:
    with_tracking_entry(kb)
    payload = faq_reply.choose_faq_payload(TRACKING)
    validate = actions.ValidateOrderStatusForm().validate_order_number
    left = validate(payload, CollectingDispatcher(), tracker(payload, "choose_faq"), {})
    assert left["order_number"] == actions.NO_ORDER_NUMBER  # the form lets go
    track = tracker(payload, "choose_faq", order_number=actions.NO_ORDER_NUMBER, faq_id=TRACKING)
    messages, events = run(actions.ActionOrderStatus(), track)
    assert messages[0]["text"] == "Per **Link**." and SlotSet("last_faq_id", TRACKING) in events
