"""Action logic without Rasa or network: trackers built by hand, a CollectingDispatcher, a stub knowledge base."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import actions, faq_reply, order_limits, orders
from common.frustration import is_frustrated
from common.order_numbers import normalise_order_number
from common.sender_metadata import CHANNEL_GREETED, CLIENT_KEY
from knowledge_base import service
from knowledge_base.decision import NO_TEXT, Candidate, Decision
from knowledge_base.schema import FaqEntry

LISTEN = FollowupAction("action_listen")


def candidate(faq_id: str, score: float) -> Candidate:
    return Candidate(faq_id, f"Frage zu {faq_id}?", score, score, score, 0.5)


class StubKnowledgeBase:
    """Answers from a table of question → decision; records what it was asked."""

    def __init__(self, decisions: dict[str, Decision]) -> None:
        self.decisions = decisions
        self.asked: list[str] = []
        ids = {c.faq_id for d in decisions.values() for c in d.candidates}
        self.entries = {
            i: FaqEntry(id=i, question=f"Frage zu {i}?", answer=f"Antwort zu **{i}**.", updated="2026-11-20")
            for i in sorted(ids)
        }

    def snapshot(self) -> StubKnowledgeBase:
        return self  # never reloads: one state

    def ask(self, question: str) -> Decision:
        self.asked.append(question)
        return self.decisions.get(question, Decision("handoff", 0.2, [candidate("versand-kosten", 0.2)], "weak"))


DECISIONS = {
    "Was kostet der Versand?": Decision("answer", 0.95, [candidate("versand-kosten", 0.95)], "clear match"),
    "Wie schicke ich etwas zurück?": Decision(
        "clarify", 0.86, [candidate("retoure-frist", 0.86), candidate("retoure-kosten", 0.85)], "close"
    ),
    "retoure und was kostet das?": Decision(
        "answer", 0.93, [candidate("retoure-kosten", 0.93)], "clear match"
    ),
    "": Decision("handoff", 0.0, [], NO_TEXT),
}


@pytest.fixture
def kb(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[StubKnowledgeBase]:
    stub = StubKnowledgeBase(DECISIONS)
    service.share(service.KnowledgeService.holding(stub))  # type: ignore[arg-type]
    monkeypatch.setenv("AUSKUNFT_FEEDBACK_DB", str(tmp_path / "feedback.db"))
    monkeypatch.setenv("AUSKUNFT_ORDERS_DB", str(tmp_path / "orders.db"))
    monkeypatch.delenv("AUSKUNFT_ORDER_API_URL", raising=False)
    monkeypatch.delenv("AUSKUNFT_REDIS_URL", raising=False)
    order_limits.shared.cache_clear()  # fresh counts in this process's memory for every test
    yield stub
    service.share(None)
    order_limits.shared.cache_clear()


def tracker(
    text: str = "", intent: str = "ask_question", metadata: dict[str, Any] | None = None, **slots: Any
) -> Tracker:
    ranking = [{"name": intent, "confidence": 1.0}]
    latest = {"text": text, "intent": ranking[0], "intent_ranking": ranking, "entities": [], "metadata": metadata}
    return Tracker("kunde-1", slots, latest, [{"event": "user", "text": text}], False, None, {}, "action_listen")


def run(action: Action, track: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, track, {}))
    return dispatcher.messages, events


def test_answer_sends_markdown_and_feedback_buttons(kb: StubKnowledgeBase) -> None:
    messages, events = run(actions.ActionAnswerFaq(), tracker("Was kostet der Versand?"))
    assert messages[0]["text"] == "Antwort zu **versand-kosten**."
    assert messages[1]["response"] == "utter_ask_feedback"
    assert SlotSet("last_faq_id", "versand-kosten") in events
    assert SlotSet("pending", "feedback") in events
    assert events[-1] == LISTEN


def test_a_greeting_after_the_widgets_own_is_an_invitation_to_ask() -> None:
    """The widget greets before the first message (common/sender_metadata.py CHANNEL_GREETED); elsewhere Rasa does."""
    widget = tracker("Hallo", "greet", {CHANNEL_GREETED: "widget", CLIENT_KEY: "k"})
    assert [m["response"] for m in run(actions.ActionGreet(), widget)[0]] == ["utter_invite_question"]
    messages, events = run(actions.ActionGreet(), tracker("Hallo", "greet", {CLIENT_KEY: "k"}))
    assert [m["response"] for m in messages] == ["utter_greet"] and events == [LISTEN]


def test_clarify_offers_one_button_per_candidate_and_a_way_out(kb: StubKnowledgeBase) -> None:
    messages, events = run(actions.ActionAnswerFaq(), tracker("Wie schicke ich etwas zurück?"))
    assert messages[0]["text"] == "Meinten Sie …?"
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        '/choose_faq{"faq_id":"retoure-frist"}',
        '/choose_faq{"faq_id":"retoure-kosten"}',
        "/none_of_these",
    ]
    assert events[-1] == LISTEN


def test_low_confidence_hands_off_with_candidates(kb: StubKnowledgeBase) -> None:
    messages, events = run(actions.ActionAnswerFaq(), tracker("Wie wird das Wetter?"))
    payload = messages[-1]["custom"]
    assert payload["reason"] == "low_confidence"
    assert payload["candidates"] == [{"faq_id": "versand-kosten", "question": "Frage zu versand-kosten?", "score": 0.2}]
    assert "Wie wird das Wetter?" in payload["summary"]
    assert events[-1] == LISTEN


def test_second_failure_in_a_row_is_repeated_failure(kb: StubKnowledgeBase) -> None:
    messages, _ = run(actions.ActionAnswerFaq(), tracker("Wie wird das Wetter?", failed_attempts=1.0))
    assert messages[-1]["custom"]["reason"] == "repeated_failure"


def test_no_text_asks_to_rephrase_instead_of_handing_off(kb: StubKnowledgeBase) -> None:
    messages, events = run(actions.ActionAnswerFaq(), tracker(""))
    assert messages == [{"response": "utter_rephrase", **_empty_message_fields(messages[0])}]
    assert not any(e.get("event") == "pause" for e in events)


def _empty_message_fields(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != "response"}


def test_follow_up_reads_the_previous_topic(kb: StubKnowledgeBase) -> None:
    track = tracker("und was kostet das?", topic="retoure")
    _, events = run(actions.ActionAnswerFaq(), track)
    assert SlotSet("last_faq_id", "retoure-kosten") in events
    assert kb.asked[0] == "retoure und was kostet das?"


def test_new_topic_is_not_bent_towards_the_old_one(kb: StubKnowledgeBase) -> None:
    run(actions.ActionAnswerFaq(), tracker("Was kostet der Versand?", topic="retoure"))
    assert kb.asked == ["Was kostet der Versand?"]


def test_frustrated_text_gets_an_apology_not_an_answer(kb: StubKnowledgeBase) -> None:
    messages, events = run(actions.ActionAnswerFaq(), tracker("DAS IST JA WOHL EIN WITZ!!!"))
    assert messages[0]["response"] == "utter_frustration"
    assert SlotSet("handoff_reason", "frustration") in events
    assert kb.asked == []


def test_feedback_is_recorded_with_the_faq_id(kb: StubKnowledgeBase, tmp_path: Path) -> None:
    track = tracker("/feedback_helpful", "feedback_helpful", last_faq_id="versand-kosten", last_question="Versand?")
    messages, _ = run(actions.ActionFeedback(), track)
    assert messages[0]["response"] == "utter_feedback_thanks"
    with sqlite3.connect(tmp_path / "feedback.db") as db:
        assert db.execute("SELECT sender_id, faq_id, helpful, kind FROM feedback").fetchall() == [
            ("kunde-1", "versand-kosten", 1, "button")
        ]


def test_not_helpful_offers_a_human_then_hands_off(kb: StubKnowledgeBase) -> None:
    messages, events = run(actions.ActionFeedback(), tracker("/feedback_not_helpful", "feedback_not_helpful"))
    assert messages[0]["response"] == "utter_offer_human"
    assert SlotSet("failed_attempts", 1.0) in events
    messages, _ = run(actions.ActionFeedback(), tracker("nein", "feedback_not_helpful", failed_attempts=1.0))
    assert messages[-1]["custom"]["reason"] == "repeated_failure"


def test_typed_yes_accepts_the_offered_human(kb: StubKnowledgeBase) -> None:
    track = tracker("ja", "affirm", pending="human", handoff_reason="frustration")
    messages, events = run(actions.ActionConfirm(), track)
    assert messages[-1]["custom"]["reason"] == "frustration"
    assert events[-1] == LISTEN


def test_typed_no_after_an_answer_is_negative_feedback(kb: StubKnowledgeBase) -> None:
    track = tracker("nein", "deny", pending="feedback", last_faq_id="versand-kosten")
    messages, _ = run(actions.ActionConfirm(), track)
    assert messages[0]["response"] == "utter_offer_human"


def test_choose_faq_answers_the_chosen_entry(kb: StubKnowledgeBase) -> None:
    messages, events = run(actions.ActionChooseFaq(), tracker("/choose_faq", "choose_faq", faq_id="retoure-kosten"))
    assert messages[0]["text"] == "Antwort zu **retoure-kosten**."
    assert SlotSet("last_faq_id", "retoure-kosten") in events


def order_tracker(number: str, factor: str | None, **extra: Any) -> Tracker:
    return tracker(factor or number, "order_status", order_number=number, order_verification=factor, **extra)


def test_order_status_from_the_demo_backend(kb: StubKnowledgeBase) -> None:
    messages, events = run(actions.ActionOrderStatus(), order_tracker("LG-123456", "10115"))
    assert "unterwegs mit DHL" in messages[0]["text"]
    assert SlotSet("order_number", None) in events and SlotSet("order_verification", None) in events
    unknown, _ = run(actions.ActionOrderStatus(), order_tracker("LG-000000", "10115"))
    wrong, _ = run(actions.ActionOrderStatus(), order_tracker("LG-123456", "10117"))
    assert [m["text"] for m in unknown] == [m["text"] for m in wrong] == [orders.NOT_FOUND_TEXT]


def test_a_verified_phone_that_does_not_own_the_order_is_asked_the_second_factor(kb: StubKnowledgeBase) -> None:
    owner = order_tracker("LG-123456", None, metadata={"auskunft_verified_phone": "+4915112345678"})
    messages, _ = run(actions.ActionOrderStatus(), owner)
    assert "unterwegs mit DHL" in messages[0]["text"]
    stranger = order_tracker("LG-123456", None, metadata={"auskunft_verified_phone": "+4915100000000"})
    messages, events = run(actions.ActionOrderStatus(), stranger)
    assert messages == []
    assert events == [SlotSet("order_phone_checked", True), FollowupAction("order_status_form")]


def test_the_form_asks_a_verified_phone_only_the_number_until_checked() -> None:
    form = actions.ValidateOrderStatusForm()
    slots = ["order_number", "order_verification"]
    sms = {"auskunft_verified_phone": "+4915112345678"}

    def required(track: Tracker) -> list[str]:
        return asyncio.run(form.required_slots(slots, CollectingDispatcher(), track, {}))

    assert required(tracker("LG-123456", "order_status")) == slots
    assert required(tracker("LG-123456", "order_status", metadata=sms)) == ["order_number"]
    assert required(tracker("LG-123456", "order_status", metadata=sms, order_phone_checked=True)) == slots
    left = tracker("Was kostet der Versand?", "ask_question", order_number=actions.NO_ORDER_NUMBER)
    assert required(left) == ["order_number"]  # leaving at the number step ends the form


def test_the_third_failed_proof_offers_a_human_and_the_fourth_is_not_checked(kb: StubKnowledgeBase) -> None:
    for postcode in ("10116", "10117"):
        messages, _ = run(actions.ActionOrderStatus(), order_tracker("LG-123456", postcode))
        assert [m.get("text") for m in messages] == [orders.NOT_FOUND_TEXT]
    messages, events = run(actions.ActionOrderStatus(), order_tracker("LG-123456", "10118"))
    assert [messages[0]["text"], messages[1]["response"]] == [orders.NOT_FOUND_TEXT, "utter_offer_human"]
    assert SlotSet("pending", "human") in events
    messages, _ = run(actions.ActionOrderStatus(), order_tracker("LG-123456", "10115"))
    assert [messages[0]["text"], messages[1]["response"]] == [orders.THROTTLED_TEXT, "utter_offer_human"]


def test_the_backend_down_offers_a_human(kb: StubKnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUSKUNFT_ORDER_API_URL", "http://127.0.0.1:9/orders")  # refused at once
    messages, events = run(actions.ActionOrderStatus(), order_tracker("LG-123456", "10115"))
    assert [messages[0]["text"], messages[1]["response"]] == [orders.UNAVAILABLE_TEXT, "utter_offer_human"]
    assert SlotSet("pending", "human") in events


def test_a_demo_database_from_before_the_ownership_columns_is_made_anew(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE orders (number TEXT PRIMARY KEY, status TEXT NOT NULL, carrier TEXT,"
            " tracking_url TEXT, expected_delivery TEXT)"
        )
        old.execute("INSERT INTO orders VALUES ('LG-123456', 'shipped', 'DHL', NULL, NULL)")
    order = orders.SqliteOrderBackend(path).lookup("LG-123456")
    assert order is not None
    assert (order.postcode, order.email, order.phone) == ("10115", "erika.mustermann@example.org", "+4915112345678")
    assert orders.SqliteOrderBackend(path).lookup("LG-234567") == orders.DEMO_ORDERS[1]


@pytest.mark.parametrize(
    ("text", "number"),
    [("LG-123456", "LG-123456"), ("lg 123456", "LG-123456"), ("Nr. 123456!", "LG-123456"), ("12345", None), ("", None)],
)
def test_order_numbers_are_normalised(text: str, number: str | None) -> None:
    assert normalise_order_number(text) == number


def test_form_validation_accepts_any_spelling_and_gives_up_after_two_misses() -> None:
    validate = actions.ValidateOrderStatusForm().validate_order_number
    dispatcher = CollectingDispatcher()
    assert validate("lg123456", dispatcher, tracker("lg123456", "order_status"), {})["order_number"] == "LG-123456"
    first = validate("weiß nicht", dispatcher, tracker("weiß nicht", "deny"), {})
    assert first == {"order_number": None, "order_attempts": 1.0}
    second = validate("immer noch nicht", dispatcher, tracker("immer noch nicht", "deny", order_attempts=1.0), {})
    assert second["order_number"] == actions.NO_ORDER_NUMBER


def test_form_validation_reads_the_postcode_or_email_and_leaves_for_another_intent() -> None:
    validate = actions.ValidateOrderStatusForm().validate_order_verification
    dispatcher = CollectingDispatcher()
    postcode = validate("PLZ 10 115", dispatcher, tracker("PLZ 10 115", "nlu_fallback"), {})
    assert postcode["order_verification"] == "10115"
    mail = validate(" Erika@Example.ORG", dispatcher, tracker(" Erika@Example.ORG", "ask_question"), {})
    assert mail["order_verification"] == "erika@example.org"
    assert validate("keine", dispatcher, tracker("keine", "deny"), {}) == {
        "order_verification": None,
        "order_attempts": 1.0,
    }
    assert dispatcher.messages[-1]["response"] == "utter_invalid_order_verification"
    left = validate("Was kostet der Versand?", dispatcher, tracker("Was kostet der Versand?", "ask_question"), {})
    assert left["order_verification"] == actions.NO_ORDER_NUMBER


class _OrderApi(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/orders/LG-111111":
            body = json.dumps({"status": "shipped", "carrier": "DHL", "postcode": "01067", "email": "A@example.org"})
            body = body.encode()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_http_order_backend() -> None:
    server = HTTPServer(("127.0.0.1", 0), _OrderApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        backend = orders.HttpOrderBackend(f"http://127.0.0.1:{server.server_port}/orders")
        order = backend.lookup("LG-111111")
        assert order == orders.Order("LG-111111", "shipped", "DHL", postcode="01067", email="A@example.org")
        assert order is not None and order.phone is None
        assert backend.lookup("LG-222222") is None
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(orders.OrderBackendError):
        orders.HttpOrderBackend(f"http://127.0.0.1:{server.server_port}/orders", timeout=0.5).lookup("LG-111111")


@pytest.mark.parametrize(
    ("text", "frustrated"),
    [
        ("Das ist doch lächerlich", True),
        ("WARUM KOMMT MEIN PAKET NICHT", True),
        ("wo ist mein paket?!!!", True),
        ("Wo ist mein Paket?", False),
        ("Danke!", False),
        ("DHL", False),
    ],
)
def test_frustration_signals(text: str, frustrated: bool) -> None:
    assert is_frustrated(text) is frustrated


def test_follow_up_detection() -> None:
    assert faq_reply.is_follow_up("und wie lange dauert das?")
    assert not faq_reply.is_follow_up("Wie lange dauert die Lieferung nach Österreich?")
