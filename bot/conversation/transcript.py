"""A conversation as a file an agent can keep or forward: JSON for machines, plain text for people.

Both carry the same facts as the inbox page (every message with time and sender, the handoff reason
and the bot's candidates, the customer's feedback, the channel), so nothing depends on the inbox UI.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.models import Conversation, Message, aware
from common import labels

BERLIN = ZoneInfo("Europe/Berlin")


def message_json(message: Message) -> dict[str, Any]:
    payload = message.payload or {}
    data: dict[str, Any] = {
        "id": message.id,
        "created_at": aware(message.created_at).isoformat(),
        "direction": message.direction,
        "sender": message.sender,
        "agent_name": message.agent.name if message.agent is not None else None,
        "text": message.text,
    }
    if intent := payload.get("intent"):
        data["intent"] = intent
        if intent.startswith("/feedback_"):
            data["feedback"] = "hilfreich" if intent == "/feedback_helpful" else "nicht hilfreich"
    if buttons := payload.get("buttons"):
        data["buttons"] = buttons
    if faq_id := payload.get("faq_id"):
        data["faq_id"] = faq_id
    return data


def as_json(conversation: Conversation, messages: list[Message]) -> dict[str, Any]:
    handoff = conversation.handoff or {}
    items = [message_json(m) for m in messages]
    return {
        "id": conversation.id,
        "channel": conversation.channel,
        "state": conversation.state,
        "created_at": aware(conversation.created_at).isoformat(),
        "contact": {
            "email": conversation.contact.email,
            "phone": conversation.contact.phone,
            "customer_id": conversation.contact_id,
            "identifiers": [  # what links this customer's conversations on every channel (bot/customers.py)
                {"kind": i.kind, "value": i.value, "verified": i.verified, "source": i.source}
                for i in conversation.contact.identifiers
            ],
        },
        "handoff": {
            "reason": conversation.handoff_reason,
            "summary": handoff.get("summary"),
            "last_question": handoff.get("last_question"),
            "candidates": handoff.get("candidates") or [],
        },
        "feedback": [{"message_id": m["id"], "feedback": m["feedback"]} for m in items if "feedback" in m],
        "messages": items,
    }


def as_text(conversation: Conversation, messages: list[Message], channel_label: str | None = None) -> str:
    """For agents; `channel_label` is the channel's name for people (`bot.channels.label`), else its code."""
    data = as_json(conversation, messages)
    handoff = data["handoff"]
    lines = [
        f"Gespräch {data['id']} · Kanal: {channel_label or data['channel']} · Status: {labels.state(data['state'])}",
        f"Begonnen: {data['created_at']}",
    ]
    contact = [v for v in (data["contact"]["email"], data["contact"]["phone"]) if v]
    if contact:
        lines.append(f"Kontakt: {', '.join(contact)}")
    for identifier in data["contact"]["identifiers"]:
        proof = "bestätigt" if identifier["verified"] else "nicht bestätigt"
        lines.append(f"Kennung: {identifier['kind']} {identifier['value']} ({proof}, Quelle: {identifier['source']})")
    if handoff["reason"]:
        summary = f" – {labels.handoff_summary(handoff['summary'])}" if handoff["summary"] else ""
        lines.append(f"Übergabegrund: {labels.handoff_reason(handoff['reason'])}{summary}")
    for candidate in handoff["candidates"]:
        score = candidate.get("score")
        score_text = f"{score:.2f}" if isinstance(score, int | float) else "?"
        lines.append(f"  Kandidat: {candidate.get('question', '')} [{candidate.get('faq_id', '')}] – {score_text}")
    lines.append("")
    for m in data["messages"]:
        who = labels.sender(m["sender"])
        if m["agent_name"]:
            who += f" ({m['agent_name']})"
        text = m["text"]
        if "feedback" in m:
            text += f" [Feedback: {m['feedback']}]"
        lines.append(f"[{m['created_at']}] {who}: {text}")
    return "\n".join(lines) + "\n"


CUSTOMER_LABELS = {"contact": "Sie", "bot": "Assistent", "agent": "Kundenservice", "system": "Hinweis"}


def for_customer(messages: list[Message]) -> str:
    """The customer's copy: what they saw in the widget, Berlin time; no candidates, scores or reasons."""
    lines = []
    for m in messages:
        who = CUSTOMER_LABELS.get(m.sender, m.sender)
        if m.agent is not None:
            who += f" ({m.agent.name})"
        when = aware(m.created_at).astimezone(BERLIN).strftime("%d.%m.%Y %H:%M")
        lines.append(f"[{when}] {who}: {m.text}")
    return "\n".join(lines) + "\n"
