"""A customer message in, the bot's replies out: store first, then route to Rasa or to the agent.

Messages of one conversation are handled one at a time (a lock per conversation), so replies
cannot overtake each other; every message is committed before Rasa is asked, so nothing is lost
when Rasa is down — the customer is told, and the conversation goes to the agent queue.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import metrics
from bot.conversation import csat, states, unanswered, waiting
from bot.conversation.availability import Availability, handoff_notice
from bot.hub import Hub
from bot.integrations.rasa_client import RasaClient, RasaUnavailable
from bot.models import Conversation, Direction, Message, Sender, State
from bot.models import now as models_now
from common import protocol

RASA_DOWN_TEXT = (
    "Unser digitaler Assistent ist gerade nicht erreichbar. Ich habe Ihre Nachricht an unseren Kundenservice "
    "weitergegeben."  # whether someone is there, and how soon, says the handoff notice right after
)
RASA_DOWN_REASON = "bot_unavailable"


class ConversationClosed(Exception):
    pass


_locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)
_locks_guard = threading.Lock()


def _lock(conversation_id: int) -> threading.Lock:
    with _locks_guard:
        return _locks[conversation_id]


def receive(
    session: Session,
    conversation: Conversation,
    text: str,
    intent: str | None,
    source_id: str | None,
    rasa: RasaClient,
    hub: Hub,
    availability: Availability | None = None,
    now: datetime | None = None,
) -> list[Message]:
    """Store the customer's message and everything it caused; the new messages in order.

    `intent` is a button's payload (`/feedback_helpful`), sent to Rasa instead of the text shown.
    A resend with a known `source_id` returns [] and changes nothing. With `availability`, a handoff is
    followed by the honest notice: queue position, or nobody there and an offer to leave contact details.
    A CSAT rating (`/csat{"score":N}`, or a bare digit after the request) is recorded here and never reaches
    Rasa; it is the only message a closed conversation accepts (`csat.InvalidRating` for a bad score).
    """
    with _lock(conversation.id):
        session.refresh(conversation)
        score = csat.score_of(session, conversation, text, intent)
        if conversation.state == State.CLOSED and score is None:
            raise ConversationClosed
        if source_id and session.scalar(
            select(Message.id).where(Message.conversation_id == conversation.id, Message.source_id == source_id)
        ):
            return []
        if score is not None:
            new = csat.record(session, conversation, score, text, intent, source_id)
            session.commit()
            hub.notify(conversation.id)
            return new
        payload = {"intent": intent} if intent else None
        new = [
            states.add_message(
                session, conversation, Direction.INCOMING, Sender.CONTACT, text, payload, source_id
            )
        ]
        session.commit()
        hub.notify(conversation.id)
        if conversation.state == State.WAITING:
            new.extend(_while_waiting(session, conversation, new[0], intent, rasa, hub, availability, now))
            session.commit()
            hub.notify(conversation.id)
            return new
        if conversation.state != State.BOT:
            return new  # an agent has taken it: the bot stays silent
        if intent == waiting.WITHDRAW_INTENT:  # a withdraw button pressed after the wait ended: nothing to withdraw
            new.append(states.system_note(session, conversation, "back_to_bot"))
            session.commit()
            hub.notify(conversation.id)
            return new
        hub.set_typing(conversation.id, "bot", True)
        started = time.perf_counter()
        try:
            replies = rasa.send(conversation.rasa_sender_id, intent or text)
        except RasaUnavailable:
            new.append(states.add_message(session, conversation, Direction.OUTGOING, Sender.BOT, RASA_DOWN_TEXT))
            if note := states.hand_off(session, conversation, RASA_DOWN_REASON, None):
                new.append(note)
        else:
            new.extend(store_replies(session, conversation, replies, question=new[0]))
            unanswered.capture(session, conversation, new[0])  # low confidence or "Nein": for the editors
            if csat.said_goodbye(replies) and (request := csat.request(session, conversation)):
                new.append(request)  # the bot said goodbye: the end of a conversation, time to ask for a rating
        finally:
            hub.set_typing(conversation.id, "bot", False)
            metrics.BOT_RESPONSE_SECONDS.labels(conversation.channel).observe(time.perf_counter() - started)
        if availability is not None and conversation.state == State.WAITING:
            notice = handoff_notice(session, conversation, availability, now or models_now())
            notice.payload = {**(notice.payload or {}), "buttons": [waiting.WITHDRAW_BUTTON]}
            new.append(notice)
        session.commit()
        hub.notify(conversation.id)
        return new


def _while_waiting(
    session: Session,
    conversation: Conversation,
    question: Message,
    intent: str | None,
    rasa: RasaClient,
    hub: Hub,
    availability: Availability | None,
    now: datetime | None,
) -> list[Message]:
    """A customer waiting for an agent (not yet taken) gets a reply at once; `waiting` says which.

    Rasa still hears the message, so the knowledge base decides whether it has a confident answer; Rasa not
    answering is no new handoff (the message is with the request already).
    """
    if waiting.is_withdrawal(question.text, intent):
        return [waiting.withdraw(session, conversation, rasa)]
    hub.set_typing(conversation.id, "bot", True)
    try:
        replies = rasa.send(conversation.rasa_sender_id, intent or question.text)
    except RasaUnavailable:
        replies = []
    finally:
        hub.set_typing(conversation.id, "bot", False)
    shown, text = waiting.reply(session, conversation, question, intent, replies, availability, now or models_now())
    new = store_replies(session, conversation, shown, question=question)
    unanswered.capture(session, conversation, question)  # a question the bot could not answer: for the editors
    return [*new, waiting.say(session, conversation, text)]


def store_replies(
    session: Session, conversation: Conversation, replies: list[dict[str, Any]], question: Message | None = None
) -> list[Message]:
    """Texts with their buttons become bot messages; a handoff payload moves the conversation to the queue.

    The action server's payloads (common/protocol.py) are read, never shown to anyone, on any channel: the
    knowledge base's decision is kept with the customer's `question` as `payload["decision"]` (analytics, the
    unanswered list and an entry's history read it there); the goodbye is `receive`'s cue for the rating request.
    """
    stored: list[Message] = []
    for reply in replies:
        signal = protocol.read(reply.get("custom"))
        if isinstance(signal, protocol.DecisionPayload):
            if question is not None:
                question.payload = {**(question.payload or {}), "decision": signal.to_dict()}
            metrics.KB_DECISIONS.labels(signal.action).inc()
        elif isinstance(signal, protocol.HandoffPayload) and (
            note := states.hand_off(session, conversation, signal.reason, signal.to_dict())
        ):
            stored.append(note)  # hand_off gives the note the payload, with the reason filled in
        if signal is not None:
            continue
        text = reply.get("text")
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in reply.get("buttons") or []
            if isinstance(b, dict)
        ]
        if not text and not buttons:
            continue  # images, attachments: not used by this bot
        payload = {"buttons": buttons} if buttons else None
        stored.append(
            states.add_message(session, conversation, Direction.OUTGOING, Sender.BOT, str(text or ""), payload)
        )
    return stored
