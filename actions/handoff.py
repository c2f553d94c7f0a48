"""The handoff message: what a human agent needs to take the conversation over.

The gateway routes the custom payload (common/protocol.py) to an agent. The customer hears from the bot at most
a short reason ("Darauf habe ich leider keine sichere Antwort."), never who takes over or when: whether someone
is there (business hours, agents online, the queue position) only the gateway knows, and it says so in the same
message, right after this text — so a customer nobody will answer soon is never first told "gern, ich verbinde".
A customer who asked for a person (or agreed to one) gets no text from the bot at all: the gateway's answer is the
first thing they read. Reasons: `requested`, `low_confidence`, `repeated_failure`, `frustration`, `delivery_overdue`
(the order look-up found the announced delivery day passed, and the customer agreed to a person's Nachforschung).
"""

from __future__ import annotations

from typing import Any

from common.labels import handoff_headline
from common.protocol import HANDOFF_REASONS, CandidateDict, HandoffPayload

REASONS = HANDOFF_REASONS

CUSTOMER_TEXT = {
    "requested": "",
    "low_confidence": "Darauf habe ich leider keine sichere Antwort.",
    "repeated_failure": "Es tut mir leid, dass ich Ihnen nicht weiterhelfen konnte.",
    "frustration": "",
    "delivery_overdue": "",
}
"""The bot's own words before the handoff payload; "" = none. No person, no time, no forwarding promise."""
SUMMARY_QUESTIONS = 3
SUMMARY_TEXT_CHARS = 160


def summarise(reason: str, user_texts: list[str], last_answered: str | None) -> str:
    """One line for the agent, in German: why ("Übergabe: Bot war unsicher."), what the customer asked last, what
    the bot last answered (the entry's question, never its id)."""
    asked = [t.strip()[:SUMMARY_TEXT_CHARS] for t in user_texts if t.strip() and not t.startswith("/")]
    parts = [handoff_headline(reason)]
    if asked:
        parts.append("Kunde schrieb: " + " | ".join(f"„{t}“" for t in asked[-SUMMARY_QUESTIONS:]) + ".")
    if last_answered:
        parts.append(f"Zuletzt beantwortet: „{last_answered}“.")
    return " ".join(parts)


def handoff_payload(
    reason: str, candidates: list[CandidateDict] | None, summary: str, last_question: str | None
) -> dict[str, Any]:
    """The custom message the gateway reads (`{"custom": {...}}` on the REST channel)."""
    if reason not in REASONS:
        raise ValueError(f"unknown handoff reason {reason!r}")
    return HandoffPayload(reason, candidates or [], summary, last_question).to_dict()
