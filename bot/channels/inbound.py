"""A customer's message from any provider into the gateway: once only, into the right conversation, then
Rasa or the agent — the same `bot.channel.receive` the widget uses.

The redelivery check (a `WebhookReceipt` row, unique per channel and provider id) is written in the same
transaction as the customer's message, so a crash in between cannot drop a message that is then redelivered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.channels.base import FILES_FOR_AGENT, TEXT_ONLY, Channel, Inbound, buttons_of
from bot.conversation import csat, sender_identity, states
from bot.conversation import receive as gateway
from bot.customers import identities
from bot.locks import NamedLock
from bot.models import Conversation, Direction, Message, Sender, State, WebhookReceipt
from bot.web.requests_json import INTENT

LABELS = {
    "image": "Bild", "video": "Video", "audio": "Audio", "file": "Datei", "location": "Standort",
    "sticker": "Sticker",
}  # fmt: skip
NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


def is_redelivery(session: Session, channel: str, external_id: str | None) -> bool:
    """Claim the provider's id; True if it was claimed before (the caller then rolls back and drops it)."""
    if not external_id:
        return False
    session.add(WebhookReceipt(channel=channel, external_id=external_id[:200]))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return True
    return False


def conversation_for(session: Session, channel: Channel, event: Inbound, intent: str | None) -> Conversation:
    """The customer's open conversation on this channel; a rating goes to the just-closed one; else a new one
    for the contact behind the address (found on any channel by the verified identifier)."""
    latest = session.scalar(
        select(Conversation)
        .where(Conversation.channel == channel.name, Conversation.channel_address == event.address)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    if latest is not None and latest.state != State.CLOSED:
        return latest
    if latest is not None:
        try:
            if csat.score_of(session, latest, event.text, intent) is not None:
                return latest
        except csat.InvalidRating:
            pass
    contact = None
    if channel.identifier is not None and event.linkable:
        contact = identities.find_or_create(
            session, channel.identifier, event.address, verified=True, source=channel.name
        )
    return states.start(session, channel.name, contact=contact, channel_address=event.address)


def numbered_choice(session: Session, conversation: Conversation, text: str) -> tuple[str, str] | None:
    """ "2" after a message with buttons presses the second one (SMS shows buttons as numbered options);
    the button's (title, payload), or None if the text is no such number."""
    match = NUMBER.match(text)
    if match is None:
        return None
    latest = session.scalar(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.direction != Direction.INCOMING)
        .order_by(Message.id.desc())
        .limit(1)
    )
    buttons = buttons_of(latest) if latest is not None else []
    index = int(match[1]) - 1
    if not 0 <= index < len(buttons):
        return None
    return str(buttons[index]["title"]), str(buttons[index]["payload"])


def address_lock(channel: str, address: str) -> NamedLock:
    """One webhook at a time per customer, across gateway processes when Redis is configured (`bot.locks`): their
    messages keep their order, and two first messages at once cannot open two conversations. Taken before any
    database write, so it never waits on SQLite's lock."""
    return current_app.extensions["locks"].lock(f"address:{channel}:{address}")


def handle(
    session: Session,
    channel: Channel,
    event: Inbound,
    on_bot_turn: Callable[[Conversation], None] | None = None,
) -> tuple[Conversation | None, list[Message]]:
    """Store the event and everything it caused (pushed to the customer by the outbox); (None, []) for a
    redelivery. `on_bot_turn` runs just before the bot is asked (Messenger shows "typing…")."""
    with address_lock(channel.name, event.address):
        return handle_locked(session, channel, event, on_bot_turn)


def handle_locked(
    session: Session,
    channel: Channel,
    event: Inbound,
    on_bot_turn: Callable[[Conversation], None] | None = None,
) -> tuple[Conversation | None, list[Message]]:
    """`handle` for a caller that holds `address_lock` already (the SMS webhook, around its TwiML reply)."""
    if is_redelivery(session, channel.name, event.external_id):
        return None, []
    intent = event.intent if event.intent and INTENT.match(event.intent) else None
    text, extra = for_the_bot(event, current_app.config["MAX_MESSAGE_CHARS"])
    conversation = conversation_for(session, channel, event, intent)
    if event.attachments and not (text or intent):
        return conversation, _files_only(session, conversation, event, extra)
    if event.unsupported or not (text or intent):
        return conversation, _unsupported(session, conversation, event.unsupported or "leer")
    if intent is None and (choice := numbered_choice(session, conversation, text)):
        text, intent = choice
    if on_bot_turn is not None and conversation.state == State.BOT:
        on_bot_turn(conversation)
    source_id = event.external_id if event.external_id and len(event.external_id) <= 100 else None
    extensions = current_app.extensions
    metadata = sender_identity.for_channel(current_app.secret_key, channel, event.address)
    try:
        new = gateway.receive(
            session, conversation, text or intent or "", intent, source_id,
            extensions["rasa"], extensions["hub"], extensions["availability"], extensions["clock"](), metadata,
            extensions["locks"], extra,
        )  # fmt: skip
    except csat.InvalidRating:  # a forged rating payload: nothing to store
        session.rollback()
        return conversation, []
    except gateway.ConversationClosed:  # an agent closed it a moment ago: start afresh, keep the message
        conversation = states.start(
            session, channel.name, contact=conversation.contact, channel_address=event.address
        )
        new = gateway.receive(
            session, conversation, text, intent, source_id,
            extensions["rasa"], extensions["hub"], extensions["availability"], extensions["clock"](), metadata,
            extensions["locks"], extra,
        )  # fmt: skip
    if event.attachments:
        new.extend(_files_notice(session, conversation))
    return conversation, new


def for_the_bot(event: Inbound, limit: int) -> tuple[str, dict[str, Any]]:
    """The text the bot gets (at most `limit` characters) and what is stored beside it for the agent: the
    attachments, and for a cut text the whole of it (`cut`), so nothing the customer wrote is lost."""
    text = event.text.strip()
    extra: dict[str, Any] = {}
    if event.attachments:
        extra["attachments"] = list(event.attachments)
    if len(text) > limit:
        extra["cut"] = {"length": len(text), "kept": limit, "full_text": text}
        text = text[:limit]
    return text, extra


def _files_only(session: Session, conversation: Conversation, event: Inbound, extra: dict[str, Any]) -> list[Message]:
    """Attachments without text: stored for the agent (the bot gets nothing to read), the customer told once."""
    kinds = ", ".join(dict.fromkeys(LABELS.get(a["kind"], a["kind"]) for a in event.attachments))
    source_id = event.external_id if event.external_id and len(event.external_id) <= 100 else None
    message = states.add_message(
        session, conversation, Direction.INCOMING, Sender.CONTACT, f"[{kinds}]", extra, source_id
    )
    new = [message, *_files_notice(session, conversation)]
    session.commit()
    current_app.extensions["hub"].notify(conversation.id)
    return new


def _files_notice(session: Session, conversation: Conversation) -> list[Message]:
    """Once per conversation, while no agent has it: the bot reads text only, an agent will see the file."""
    if conversation.state in (State.WITH_AGENT, State.CLOSED):
        return []
    payloads = session.scalars(
        select(Message.payload).where(Message.conversation_id == conversation.id, Message.sender == Sender.BOT)
    )
    if any((payload or {}).get("files_notice") for payload in payloads):
        return []
    notice = states.add_message(
        session, conversation, Direction.OUTGOING, Sender.BOT, FILES_FOR_AGENT, {"files_notice": True}
    )
    session.commit()
    current_app.extensions["hub"].notify(conversation.id)
    return [notice]


def _unsupported(session: Session, conversation: Conversation, kind: str) -> list[Message]:
    """An image, sticker, location…: kept as a note for the agent; the bot (if it has the conversation) says
    it reads text only."""
    new = [
        states.add_message(
            session, conversation, Direction.INCOMING, Sender.CONTACT, f"[{kind}]", {"unsupported": kind}
        )
    ]
    if conversation.state == State.BOT:
        new.append(states.add_message(session, conversation, Direction.OUTGOING, Sender.BOT, TEXT_ONLY))
    session.commit()
    current_app.extensions["hub"].notify(conversation.id)
    return new
