"""The handoff message: what a human agent needs to take the conversation over.

The gateway routes the custom payload (common/protocol.py) to an agent; the customer sees a short text that
says the question goes to the customer service, and nothing about when or how soon: whether someone is there
(business hours, agents online, the queue position) only the gateway knows, and it tells the customer right
after. Reasons: `requested`, `low_confidence`, `repeated_failure`, `frustration`.
"""

from __future__ import annotations

from typing import Any

from common.protocol import HANDOFF_REASONS, CandidateDict, HandoffPayload

REASONS = HANDOFF_REASONS

CUSTOMER_TEXT = {
    "requested": "Gern, ich gebe Ihr Anliegen an unseren Kundenservice weiter.",
    "low_confidence": (
        "Darauf habe ich leider keine sichere Antwort. Ich gebe Ihre Frage an unseren Kundenservice weiter."
    ),
    "repeated_failure": (
        "Ich konnte Ihnen leider nicht weiterhelfen. Ich gebe Ihr Anliegen an unseren Kundenservice weiter."
    ),
    "frustration": "Ich gebe Ihr Anliegen jetzt an unseren Kundenservice weiter.",
}
SUMMARY_QUESTIONS = 3
SUMMARY_TEXT_CHARS = 160


def summarise(reason: str, user_texts: list[str], last_faq_id: str | None) -> str:
    """One line for the agent: why, what the customer asked last, what the bot last answered."""
    asked = [t.strip()[:SUMMARY_TEXT_CHARS] for t in user_texts if t.strip() and not t.startswith("/")]
    parts = [f"Übergabe: {reason}."]
    if asked:
        parts.append("Kunde schrieb: " + " | ".join(f"„{t}“" for t in asked[-SUMMARY_QUESTIONS:]) + ".")
    if last_faq_id:
        parts.append(f"Zuletzt beantwortet: {last_faq_id}.")
    return " ".join(parts)


def handoff_payload(
    reason: str, candidates: list[CandidateDict] | None, summary: str, last_question: str | None
) -> dict[str, Any]:
    """The custom message the gateway reads (`{"custom": {...}}` on the REST channel)."""
    if reason not in REASONS:
        raise ValueError(f"unknown handoff reason {reason!r}")
    return HandoffPayload(reason, candidates or [], summary, last_question).to_dict()
