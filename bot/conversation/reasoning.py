"""The bot's *current* reasoning for the inbox's side panel: the knowledge base's decision on the customer's latest
question and its candidates — not the first handoff's, which no longer fit once the customer has asked again.

The decision is kept with each customer question (`Message.payload["decision"]`, `bot.conversation.receive`); a
conversation handed off without one (Rasa down, "Mensch bitte" before any question) falls back to the handoff's
stored candidates, and says so.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Conversation, Direction, Message
from common import labels

LOOK_BACK = 50
"""Customer messages looked at for the latest decision (buttons and "Nein" in between carry none)."""


def current(session: Session, conversation: Conversation) -> dict[str, Any] | None:
    """Labelled for the page and its script alike: `source` is "decision" or "handoff"; None when the bot never
    decided anything in this conversation."""
    recent = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.direction == Direction.INCOMING)
        .order_by(Message.id.desc())
        .limit(LOOK_BACK)
    )
    asked = [m for m in recent if isinstance((m.payload or {}).get("decision"), dict)]
    if asked:
        question = asked[0]
        decision: dict[str, Any] = question.payload["decision"]
        candidates = decision.get("candidates") or next(  # a pick ("chosen") has none: its question's clarification's
            (d["candidates"] for d in (m.payload["decision"] for m in asked[1:])
             if d.get("question") == decision.get("question") and d.get("candidates")),
            [],
        )  # fmt: skip
        return {
            "source": "decision",
            "message_id": question.id,
            "question": decision.get("question") or question.text,
            "action_label": labels.decision(decision.get("action")),
            "reason_label": labels.decision_reason(decision.get("reason")),
            "confidence": _score(decision.get("confidence")),
            "candidates": _candidates(candidates),
        }
    handoff = conversation.handoff or {}
    if handoff.get("candidates"):
        return {
            "source": "handoff",
            "message_id": None,
            "question": handoff.get("last_question") or "",
            "action_label": labels.decision("handoff"),
            "reason_label": labels.handoff_reason(conversation.handoff_reason),
            "confidence": None,
            "candidates": _candidates(handoff.get("candidates")),
        }
    return None


def _candidates(raw: Any) -> list[dict[str, Any]]:
    found = [c for c in raw or [] if isinstance(c, dict) and c.get("faq_id")]
    return [{"faq_id": c["faq_id"], "question": c.get("question") or "", "score": _score(c.get("score"))}
            for c in found]  # fmt: skip


def _score(value: Any) -> str | None:
    """Two decimals with a German comma, as staff read numbers."""
    return f"{float(value):.2f}".replace(".", ",") if isinstance(value, int | float) else None
