"""CSAT: at the end of a conversation the customer may rate it 1–5; one rating per conversation.

The request is an ordinary bot message with five buttons (`/csat{"score":N}`), so every channel shows it
its own way: quick replies in the widget and on Messenger, numbered options on SMS. `bot.channel.receive`
takes the answer before Rasa ever sees it (`score_of` → `record`), also in a closed conversation — the
rating is the one message a closed conversation still accepts. A bare digit "1"–"5" right after the
request counts too, for a customer who types the number instead of pressing a button.

The request is sent when an agent closes a conversation and after the bot's goodbye (the protocol's goodbye
payload that rides along with every `utter_goodbye` text in domain.yml: the gateway sees Rasa's output, not
its intents); the widget's ☆ button in its header lets the customer rate at any time (it sends the same payload).
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import metrics
from bot.conversation import states
from bot.models import Conversation, Direction, Message, Rating, Sender
from common import protocol

REQUEST_TEXT = "Wie zufrieden waren Sie mit diesem Gespräch? 1 (gar nicht) … 5 (sehr)"
THANKS_TEXT = "Vielen Dank für Ihre Bewertung!"
ALREADY_TEXT = "Sie haben dieses Gespräch bereits bewertet – vielen Dank!"
PAYLOAD = re.compile(r"^/csat(\{.*\})$")
DIGIT = re.compile(r"^[1-5]$")


class InvalidRating(ValueError):
    """A `/csat` payload without a whole number 1–5: the caller answers 400."""


def score_payload(score: int) -> str:
    return "/csat" + json.dumps({"score": score}, separators=(",", ":"))


def rated(session: Session, conversation: Conversation) -> bool:
    return session.scalar(select(Rating.id).where(Rating.conversation_id == conversation.id)) is not None


def request(session: Session, conversation: Conversation) -> Message | None:
    """The rating request with buttons 1–5; None when the conversation is already rated. The caller commits."""
    if rated(session, conversation):
        return None
    buttons = [{"title": str(score), "payload": score_payload(score)} for score in range(1, 6)]
    return states.add_message(
        session,
        conversation,
        Direction.OUTGOING,
        Sender.BOT,
        REQUEST_TEXT,
        {"buttons": buttons, "csat_request": True},
    )


def awaiting(session: Session, conversation: Conversation) -> bool:
    """Is the latest message to the customer the rating request (system notes aside)?"""
    latest = session.scalar(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.direction == Direction.OUTGOING)
        .order_by(Message.id.desc())
        .limit(1)
    )
    return latest is not None and bool((latest.payload or {}).get("csat_request"))


def score_of(session: Session, conversation: Conversation, text: str, intent: str | None) -> int | None:
    """The score if this message is a rating, else None; InvalidRating for a malformed `/csat` payload."""
    if intent is not None:
        match = PAYLOAD.match(intent)
        if match is None:
            return None
        try:
            score = json.loads(match.group(1)).get("score")
        except (ValueError, AttributeError) as error:
            raise InvalidRating("die Bewertung ist kein gültiges JSON-Objekt") from error
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise InvalidRating("die Bewertung muss eine ganze Zahl von 1 bis 5 sein")
        return score
    if DIGIT.match(text.strip()) and awaiting(session, conversation) and not rated(session, conversation):
        return int(text.strip())
    return None


def record(
    session: Session,
    conversation: Conversation,
    score: int,
    text: str,
    intent: str | None,
    source_id: str | None,
) -> list[Message]:
    """Store the customer's answer and the rating (unless there is one already) and thank them; caller commits."""
    payload = {"intent": intent or score_payload(score), "csat": score}
    new = [
        states.add_message(
            session, conversation, Direction.INCOMING, Sender.CONTACT, text or str(score), payload, source_id
        )
    ]
    if rated(session, conversation):
        reply = ALREADY_TEXT  # the first rating stands: a second click (another tab, a resent SMS) changes nothing
    else:
        session.add(Rating(conversation_id=conversation.id, score=score, channel=conversation.channel))
        metrics.RATINGS.labels(str(score), conversation.channel).inc()
        reply = THANKS_TEXT
    new.append(states.add_message(session, conversation, Direction.OUTGOING, Sender.BOT, reply))
    return new


def said_goodbye(replies: list[dict[str, Any]]) -> bool:
    """Did the bot say goodbye in these Rasa replies (its goodbye payload among them)? Then the conversation ends."""
    return any(isinstance(protocol.read(reply.get("custom")), protocol.GoodbyePayload) for reply in replies)
