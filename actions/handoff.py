"""The handoff message: what a human agent needs to take the conversation over.

The gateway routes the custom payload to an agent; the customer sees a short text. Reasons:
`requested`, `low_confidence`, `repeated_failure`, `frustration`.
"""

from __future__ import annotations

from typing import Any

REASONS = ("requested", "low_confidence", "repeated_failure", "frustration")

CUSTOMER_TEXT = {
    "requested": (
        "Gern, ich verbinde Sie mit unserem Kundenservice. Einen Moment bitte – ein Mitarbeiter meldet sich hier."
    ),
    "low_confidence": (
        "Darauf habe ich leider keine sichere Antwort. Ich gebe Ihre Frage an unseren Kundenservice weiter – "
        "ein Mitarbeiter meldet sich hier bei Ihnen."
    ),
    "repeated_failure": (
        "Ich konnte Ihnen leider nicht weiterhelfen. Ich verbinde Sie mit einem Mitarbeiter, der sich hier meldet."
    ),
    "frustration": "Ich verbinde Sie jetzt mit einem Mitarbeiter aus unserem Kundenservice. Einen Moment bitte.",
}
OFFICE_HOURS = "Unser Kundenservice ist Mo–Fr 8–20 Uhr und Sa 9–16 Uhr erreichbar."
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
    reason: str, candidates: list[dict[str, Any]] | None, summary: str, last_question: str | None
) -> dict[str, Any]:
    """The custom message the gateway reads (`{"custom": {...}}` on the REST channel)."""
    if reason not in REASONS:
        raise ValueError(f"unknown handoff reason {reason!r}")
    return {
        "type": "handoff",
        "reason": reason,
        "candidates": candidates or [],
        "summary": summary,
        "last_question": last_question,
    }
