"""What the real bot sends for a question, scripted (decision, answer, handoff); a gateway for the editors' pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from gateway_helpers import AgentSession, gateway_config

from bot import create_app
from bot.integrations.faq_search import KnowledgeBaseSearch
from bot.integrations.rasa_client import RasaClient
from bot.models import Role
from bot.web import auth
from knowledge_base.engine import KnowledgeBase

PASSWORD = "geheim-genug-123"

FEEDBACK_BUTTONS = [
    {"title": "Ja", "payload": "/feedback_helpful"},
    {"title": "Nein", "payload": "/feedback_not_helpful"},
]


def decision(action: str, question: str, candidates: list[tuple[str, float]], faq_id: str | None = None) -> dict:
    return {
        "custom": {
            "type": "decision",
            "action": action,
            "question": question,
            "faq_id": faq_id if faq_id is not None else (candidates[0][0] if candidates else None),
            "confidence": candidates[0][1] if candidates else None,
            "reason": "test",
            "candidates": [{"faq_id": f, "question": f"Frage {f}", "score": s} for f, s in candidates],
        }
    }


def answered(question: str, faq_id: str, score: float) -> list[dict[str, Any]]:
    return [
        decision("answer", question, [(faq_id, score)]),
        {"text": f"Antwort aus {faq_id}"},
        {"text": "Hat Ihnen das geholfen?", "buttons": FEEDBACK_BUTTONS},
    ]


def handed_off(question: str, candidates: list[tuple[str, float]]) -> list[dict[str, Any]]:
    return [
        decision("handoff", question, candidates),
        {"text": "Das kann ich leider nicht sicher beantworten. Ich gebe Sie an einen Menschen weiter."},
        {
            "custom": {
                "type": "handoff",
                "reason": "low_confidence",
                "candidates": [{"faq_id": f, "question": f"Frage {f}", "score": s} for f, s in candidates],
                "summary": "Übergabe: low_confidence.",
                "last_question": question,
            }
        },
    ]


def clarified(question: str, candidates: list[tuple[str, float]]) -> list[dict[str, Any]]:
    buttons = [{"title": f"Frage {f}", "payload": '/choose_faq{"faq_id":"' + f + '"}'} for f, _ in candidates]
    return [
        decision("clarify", question, candidates),
        {"text": "Meinten Sie …?", "buttons": [*buttons, {"title": "Nichts davon", "payload": "/none_of_these"}]},
    ]


def editor_app(tmp_path: Path, rasa: RasaClient, knowledge_base: KnowledgeBase, **config: Any) -> Flask:
    """A gateway whose knowledge base (inbox search, editors' pages) is `knowledge_base`; no action server."""
    return create_app(
        {
            **gateway_config(tmp_path, rasa),
            "FAQ_SEARCH": KnowledgeBaseSearch(factory=lambda: knowledge_base),
            "ACTIONS_URL": "",
            "KB_WATCH": False,
            **config,
        }
    )


def login(app: Flask, role: Role, email: str | None = None) -> AgentSession:
    email = email or f"{role}@example.com"
    with app.app_context():
        auth.create_agent(email, role.capitalize(), PASSWORD, role)
    return AgentSession(app, email, PASSWORD)


def csrf_of(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"')[0]
