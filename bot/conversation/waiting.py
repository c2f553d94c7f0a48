"""While a customer waits for an agent: the bot keeps helping, the queue entry learns, the customer can withdraw.

Every message gets a reply at once, so nobody sits in silence until the team is back. The knowledge base still
decides (the message goes to Rasa; its decision payload says whether the answer is confident); the gateway
decides what the customer sees, because only it knows that a request is open and whether anyone is there: a
confident answer with a note that the request stays open, else its own acknowledgement — never the bot's
handoff text a second time. Once an agent has taken the conversation, `receive` asks nobody and says nothing.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.conversation import states
from bot.conversation.availability import Availability, agents_online, is_open
from bot.integrations.rasa_client import RasaClient, RasaUnavailable
from bot.models import Conversation, Direction, Message, Sender
from common import labels, protocol
from common.frustration import is_frustrated

log = logging.getLogger(__name__)

WITHDRAW_INTENT = "/withdraw_handoff"
"""The withdraw button's payload; the gateway reads it itself, Rasa never sees it."""
WITHDRAW_BUTTON = {"title": "Hat sich erledigt", "payload": WITHDRAW_INTENT}
CONFIDENT = ("answer", "chosen")
"""Decisions whose answer is shown while waiting: the knowledge base was sure, or the customer picked the entry."""
SUMMARY_TEXTS = 3
SUMMARY_TEXT_CHARS = 160

_WITHDRAWAL = re.compile(
    r"^(?:(?:ach|ok|okay|nein|gut|alles klar|danke|sorry|also)\s+)*"
    r"(?:(?:das|es)\s+)?(?:hat sich\s+(?:schon\s+|doch\s+|inzwischen\s+)?erledigt|(?:schon\s+)?erledigt"
    r"|(?:dann\s+)?doch nicht|nicht mehr nötig|anfrage zurückziehen"
    r"|(?:ich\s+)?(?:brauche|möchte|will)\s+(?:doch\s+)?(?:keinen|keine)\s+(?:mitarbeiter|menschen|rückruf|hilfe)"
    r"(?:\s+mehr)?)"
    r"(?:\s+(?:danke|mehr|trotzdem))*$"
)

TEXTS = {
    "still_open": "Ihre Anfrage an unseren Kundenservice bleibt bestehen. Falls sich damit alles geklärt hat, "
    "schreiben Sie einfach „hat sich erledigt“.",
    "noted_staffed": "Danke, ich habe Ihre Nachricht zu Ihrer Anfrage gelegt. Ein Mitarbeiter meldet sich hier, "
    "sobald er frei ist. Allgemeine Fragen beantworte ich Ihnen gern schon jetzt.",
    "noted_unstaffed": "Danke, ich habe Ihre Nachricht zu Ihrer Anfrage gelegt. Gerade ist niemand aus unserem "
    "Kundenservice da; wir melden uns, sobald das Team wieder erreichbar ist. Allgemeine Fragen beantworte ich "
    "Ihnen gern schon jetzt.",
    "already_staffed": "Ihre Anfrage liegt bereits bei unserem Kundenservice. Ein Mitarbeiter meldet sich hier, "
    "sobald er frei ist.",
    "already_unstaffed": "Ihre Anfrage liegt bereits bei unserem Kundenservice. Gerade ist dort leider niemand "
    "erreichbar; wir melden uns, sobald das Team wieder da ist.",
    "sorry": "Das tut mir leid. ",
}


def is_withdrawal(text: str, intent: str | None) -> bool:
    """The withdraw button, or a short "hat sich erledigt" / "doch nicht" (not "das geht doch nicht!")."""
    if intent is not None:
        return intent == WITHDRAW_INTENT
    words = re.sub(r"[^\wäöüß]+", " ", text.lower()).strip()
    return bool(_WITHDRAWAL.match(words))


def staffed(session: Session, availability: Availability | None, now: datetime) -> bool:
    """Can someone take over now? Unknown availability counts as no: never promise a person nobody confirmed."""
    return (
        availability is not None
        and is_open(availability.hours, now)
        and agents_online(session, availability, now) > 0
    )


def withdraw(session: Session, conversation: Conversation, rasa: RasaClient) -> Message:
    """Out of the queue, back to the bot; the customer's own decision, so no agent is named."""
    try:
        rasa.resume(conversation.rasa_sender_id)  # a tracker paused by an older action server listens again
    except RasaUnavailable as error:
        log.warning("resume after withdrawal failed: %s", error)  # Rasa is asked again with the next message
    return states.withdraw(session, conversation)


def reply(
    session: Session,
    conversation: Conversation,
    question: Message,
    intent: str | None,
    replies: list[dict[str, Any]],
    availability: Availability | None,
    now: datetime,
) -> tuple[list[dict[str, Any]], str]:
    """For one message of a waiting customer and Rasa's `replies` to it ([] when Rasa did not answer: the
    message is with the request already, no new handoff): the replies to store as they are (a confident answer;
    the decision payload always, for analytics) and the gateway's own text after them. Updates the queue entry.
    """
    signals = [protocol.read(r.get("custom")) for r in replies]
    decision = next((s for s in signals if isinstance(s, protocol.DecisionPayload)), None)
    asked_again = any(isinstance(s, protocol.HandoffPayload) and s.reason == "requested" for s in signals)
    upset = not intent and is_frustrated(question.text)
    update_request(session, conversation, question, decision, "requested" if asked_again or upset else None)
    if decision is not None and decision.action in CONFIDENT:
        shown = [r for r, s in zip(replies, signals, strict=True) if not isinstance(s, protocol.HandoffPayload)]
        return shown, TEXTS["still_open"]
    there = "staffed" if staffed(session, availability, now) else "unstaffed"
    text = TEXTS[f"already_{there}"] if asked_again else TEXTS[f"noted_{there}"]
    decisions = [r for r, s in zip(replies, signals, strict=True) if isinstance(s, protocol.DecisionPayload)]
    return decisions, (TEXTS["sorry"] if upset else "") + text


def update_request(
    session: Session,
    conversation: Conversation,
    question: Message,
    decision: protocol.DecisionPayload | None,
    reason: str | None,
) -> None:
    """What the agent sees in the queue: the latest texts in the summary, the latest candidates, and the
    reason `requested` once the customer asks for a person again or is upset (their wish beats the bot's
    `low_confidence`)."""
    entry: dict[str, Any] = dict(conversation.handoff or {})
    first = entry.setdefault("summary_at_handoff", entry.get("summary") or "")
    texts = [*entry.get("while_waiting", []), question.text.strip()[:SUMMARY_TEXT_CHARS]][-SUMMARY_TEXTS:]
    entry["while_waiting"] = texts
    entry["last_question"] = question.text
    if decision is not None and decision.candidates and decision.action not in CONFIDENT:
        entry["candidates"] = decision.candidates
    old = conversation.handoff_reason or ""
    if reason is not None and reason != old:
        conversation.handoff_reason = reason
        entry["reason"] = reason
        entry["reason_before"] = entry.get("reason_before") or old
    head = labels.handoff_headline(conversation.handoff_reason or "", entry.get("reason_before"))
    rest = first.split(".", 1)[1].strip() if first.startswith("Übergabe:") and "." in first else first
    entry["summary"] = " ".join(
        p for p in (head, rest, "Während der Wartezeit: " + " | ".join(f"„{t}“" for t in texts) + ".") if p
    )
    conversation.handoff = entry  # a new dict: the JSON column notices only a new value


def say(session: Session, conversation: Conversation, text: str) -> Message:
    """The gateway's own text to a waiting customer, with the withdraw button (SMS: "1" presses it)."""
    return states.add_message(
        session, conversation, Direction.OUTGOING, Sender.BOT, text, {"buttons": [WITHDRAW_BUTTON]}
    )
