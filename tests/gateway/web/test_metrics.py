"""`/metrics`: the counters and histograms move with real traffic through the widget API and the inbox, and
only a local scraper or one with the configured token reads them."""

from __future__ import annotations

from flask import Flask
from prometheus_client import REGISTRY

from bot.db import get_session
from bot.models import Conversation
from tests.support.gateway import Customer, ScriptedRasa

DECISION = {"custom": {"type": "decision", "action": "answer", "question": "Versand?", "faq_id": "versand-kosten"}}
HANDOFF = {"custom": {"type": "handoff", "reason": "requested", "candidates": [], "summary": "Übergabe"}}


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def samples() -> dict[str, float]:
    """The samples the traffic below moves, by short name."""
    return {
        "contact": value("auskunft_messages_total", channel="web", sender="contact"),
        "bot": value("auskunft_messages_total", channel="web", sender="bot"),
        "agent": value("auskunft_messages_total", channel="web", sender="agent"),
        "answer": value("auskunft_kb_decisions_total", action="answer"),
        "requested": value("auskunft_handoffs_total", reason="requested"),
        "bot_seconds": value("auskunft_bot_response_seconds_count", channel="web"),
        "agent_seconds": value("auskunft_agent_first_response_seconds_count", channel="web"),
        "rating": value("auskunft_ratings_total", score="4", channel="web"),
    }


def test_counters_and_histograms_move(app: Flask, customer: Customer, rasa: ScriptedRasa, make_agent) -> None:  # type: ignore[no-untyped-def]
    before = samples()
    rasa.replies.append([DECISION, {"text": "4,95 €."}])
    customer.say("Was kostet der Versand?")
    rasa.replies.append([{"text": "Ich verbinde Sie."}, HANDOFF])
    customer.say("Mensch bitte")
    with app.app_context():
        cid = get_session().query(Conversation.id).scalar()
    anna = make_agent()
    anna.post(f"/agent/conversations/{cid}/take")
    anna.post(f"/agent/conversations/{cid}/reply", {"text": "Hallo!"})
    anna.post(f"/agent/conversations/{cid}/reply", {"text": "Noch da?"})  # not a first response
    anna.post(f"/agent/conversations/{cid}/close")
    customer.say("4", '/csat{"score":4}')

    after = samples()
    moved = {key: after[key] - before[key] for key in before}
    # bot: the answer, the rating request, the thanks (the handoff is one system note: the bot sends no text)
    assert moved == {
        "contact": 3, "bot": 3, "agent": 2, "answer": 1, "requested": 1, "bot_seconds": 2, "agent_seconds": 1,
        "rating": 1,
    }  # fmt: skip

    text = app.test_client().get("/metrics").get_data(as_text=True)
    for name in (
        "auskunft_messages_total{",
        'auskunft_kb_decisions_total{action="answer"}',
        'auskunft_handoffs_total{reason="requested"}',
        "auskunft_bot_response_seconds_bucket{",
        "auskunft_agent_first_response_seconds_bucket{",
        "auskunft_ratings_total{",
    ):  # the knowledge base's gauges and counters are checked by value in tests/gateway/integrations/test_kb_reload.py
        assert name in text, name


def test_access_local_only_without_a_token(client) -> None:  # type: ignore[no-untyped-def]
    local = client.get("/metrics")
    assert local.status_code == 200 and local.mimetype == "text/plain"
    remote = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert remote.status_code == 403


def test_access_with_a_token(app: Flask) -> None:
    app.config["METRICS_TOKEN"] = "scrape-me-123"  # as AUSKUNFT_METRICS_TOKEN sets it
    client = app.test_client()
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=remote).status_code == 403
    assert client.get("/metrics").status_code == 403  # with a token, being local is not enough
    wrong = client.get("/metrics", headers={"Authorization": "Bearer falsch"}, environ_base=remote)
    assert wrong.status_code == 403
    right = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-123"}, environ_base=remote)
    assert right.status_code == 200 and b"auskunft_messages_total" in right.data
