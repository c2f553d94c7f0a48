"""What the real bot sends, scripted for the `ScriptedRasa`: a decision with its answer, clarification or handoff."""

from __future__ import annotations

from typing import Any

FEEDBACK_BUTTONS = [
    {"title": "Ja", "payload": "/feedback_helpful"},
    {"title": "Nein", "payload": "/feedback_not_helpful"},
]


HANDOFF = [
    {
        "custom": {
            "type": "handoff",
            "reason": "requested",
            "summary": "Übergabe: Kunde möchte einen Menschen.",
            "candidates": [{"faq_id": "versand-kosten", "question": "Was kostet der Versand?", "score": 0.42}],
        }
    },
]
"""The customer asked for a person: the bot's handoff (one FAQ candidate), without a text of its own, as
`actions/handoff.py` sends it: what the customer reads about it is the gateway's."""


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
        {"text": "Darauf habe ich leider keine sichere Antwort."},  # the lead of the gateway's handoff message,
        {
            "custom": {
                "type": "handoff",
                "reason": "low_confidence",
                "candidates": [{"faq_id": f, "question": f"Frage {f}", "score": s} for f, s in candidates],
                "summary": "Übergabe: Bot war unsicher.",
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
