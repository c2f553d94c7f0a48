"""Replies a person wrote in Meta's Page Inbox (Business Suite): Messenger echoes them to the webhook with
that app's `app_id`. They are stored as agent messages and pause the bot for the conversation, as Meta's
handover protocol expects; echoes of our own Send API messages (`AUSKUNFT_MESSENGER_APP_ID`) stay ignored."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from bot.channels import inbound
from bot.channels.base import Channel, Inbound
from bot.conversation import states
from bot.conversation.receive import PAGE_INBOX_REASON, bot_has_it
from bot.models import DeliveryStatus, Direction, Sender

REASON = PAGE_INBOX_REASON
NOTE = "Jemand hat im Postfach der Facebook-Seite geantwortet; der Bot pausiert in diesem Gespräch."
log = logging.getLogger("auskunft.messenger")


@dataclass(frozen=True)
class Echo:
    psid: str
    """The customer (the echo's recipient)."""
    mid: str | None
    text: str
    app_id: str


def echoes(body: Any, own_app_id: str) -> list[Echo]:
    """The echoes of messages another app (the Page Inbox) sent; none without our own app id set, since
    then ours cannot be told from theirs."""
    found: list[Echo] = []
    if not own_app_id or not isinstance(body, dict) or body.get("object") != "page":
        return found
    entries = body.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        items = entry.get("messaging") if isinstance(entry, dict) else None
        for item in items if isinstance(items, list) else []:
            message = item.get("message") if isinstance(item, dict) else None
            recipient = item.get("recipient") if isinstance(item, dict) else None
            if not (isinstance(message, dict) and message.get("is_echo") and isinstance(recipient, dict)):
                continue
            app_id, psid = message.get("app_id"), recipient.get("id")
            if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in (app_id, psid)):
                continue
            if str(app_id) == own_app_id:
                continue
            text = message.get("text") if isinstance(message.get("text"), str) else "[Anhang]"
            mid = message.get("mid") if isinstance(message.get("mid"), str) else None
            found.append(Echo(str(psid)[:100], mid[:200] if mid else None, text, str(app_id)))
    return found


def record(session: Session, channel: Channel, echo: Echo) -> None:
    """Stored as the agent's message (already delivered: never pushed again); the bot pauses."""
    with inbound.address_lock(channel.name, echo.psid):
        if inbound.is_redelivery(session, f"{channel.name}-echo", echo.mid):
            return
        conversation = inbound.conversation_for(session, channel, Inbound(echo.psid, echo.mid), None)
        message = states.add_message(
            session, conversation, Direction.OUTGOING, Sender.AGENT, echo.text, {"page_inbox": echo.app_id}
        )
        message.delivery_status = DeliveryStatus.SENT
        message.provider_message_id = echo.mid
        if bot_has_it(conversation):
            note = states.hand_off(session, conversation, REASON, None)
            if note is not None:
                note.text, note.delivery_status = NOTE, None  # for agents only: the customer is not told
        session.commit()
        log.info("page inbox reply stored for conversation %s; bot paused", conversation.id)
    current_app.extensions["hub"].notify(conversation.id)
