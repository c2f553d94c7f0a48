"""An FAQ entry's history for editors: which customer questions it answered, and what the customers said after.

The gateway keeps the knowledge base's decision with each customer question (`Message.payload["decision"]`,
bot/channel.py); the feedback buttons arrive as the customer's next message (`payload["intent"]`). The action
server also counts feedback per entry in its own log (common/feedback_log.py, `FeedbackLog.counts`), which
includes conversations that did not go through the gateway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Direction, Message

FEEDBACK_WORDS = {
    "/feedback_helpful": "hilfreich",
    "/feedback_not_helpful": "nicht hilfreich",
    "/none_of_these": "nichts davon",
}
RECENT_DECISIONS = 500
"""How far back "nearly matched" looks (clarify/handoff decisions that offered the entry)."""


@dataclass(frozen=True)
class AskedQuestion:
    message_id: int
    conversation_id: int
    created_at: datetime
    question: str
    action: str
    """answer, chosen (picked from "Meinten Sie …?"), clarify or handoff."""
    confidence: float | None
    feedback: str | None
    """The customer's next message when it was a feedback button: hilfreich / nicht hilfreich / nichts davon."""


def answered_questions(session: Session, faq_id: str, limit: int = 50) -> list[AskedQuestion]:
    """The latest customer questions this entry answered (or that picked it), newest first."""
    messages = session.scalars(
        select(Message)
        .where(
            Message.direction == Direction.INCOMING,
            Message.payload[("decision", "faq_id")].as_string() == faq_id,
        )
        .order_by(Message.id.desc())
        .limit(limit)
    ).all()
    return _with_feedback(session, list(messages))


def nearly_matched(session: Session, faq_id: str, limit: int = 20) -> list[AskedQuestion]:
    """Recent questions where the entry was offered or was a candidate but not the answer (clarify/handoff)."""
    recent = session.scalars(
        select(Message)
        .where(
            Message.direction == Direction.INCOMING,
            Message.payload[("decision", "action")].as_string().in_(("clarify", "handoff")),
        )
        .order_by(Message.id.desc())
        .limit(RECENT_DECISIONS)
    ).all()
    hits = [
        m for m in recent
        if any(c.get("faq_id") == faq_id for c in (m.payload or {})["decision"].get("candidates") or [])
    ]
    return _with_feedback(session, hits[:limit])


def _with_feedback(session: Session, questions: list[Message]) -> list[AskedQuestion]:
    if not questions:
        return []
    conversation_ids = {m.conversation_id for m in questions}
    later = session.execute(
        select(Message.id, Message.conversation_id, Message.payload)
        .where(
            Message.direction == Direction.INCOMING,
            Message.conversation_id.in_(conversation_ids),
            Message.id > min(m.id for m in questions),
        )
        .order_by(Message.id)
    ).all()
    result = []
    for message in questions:
        following = next((row for row in later if row.conversation_id == message.conversation_id
                          and row.id > message.id), None)
        intent = ((following.payload or {}).get("intent") or "") if following else ""
        decision = (message.payload or {})["decision"]
        result.append(
            AskedQuestion(
                message_id=message.id,
                conversation_id=message.conversation_id,
                created_at=message.created_at,
                question=message.text,
                action=str(decision.get("action") or ""),
                confidence=decision.get("confidence"),
                feedback=FEEDBACK_WORDS.get(intent),
            )
        )
    return result
