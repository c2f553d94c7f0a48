"""A customer message in, the bot's replies out: store first, then route to Rasa or to the agent.

Messages of one conversation are handled one at a time (a lock per conversation: `bot.locks`, shared by every
gateway process when Redis is configured), so replies cannot overtake each other. Every customer message is
committed with its `Outcome` before Rasa is asked (`pending`), and becomes `answered` in the same transaction as
the bot's replies, so a crash in between leaves a message that `bot.conversation.pending` answers at the next
start. When Rasa does not answer (or answers nothing), the customer is told, the conversation waits in the agent
queue as `bot_unavailable` and the message stays owed (`notified`): once Rasa answers again its messages are
answered in order and the conversation goes back to the bot, unless an agent took it or the customer asked for a
person.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import metrics
from bot.conversation import csat, sender_identity, states, unanswered, waiting
from bot.conversation.availability import Availability, handoff_notice
from bot.hub import Hub
from bot.integrations.rasa_client import RasaClient, RasaUnavailable
from bot.locks import LocalLocks, Locks, NamedLock
from bot.models import PENDING_OUTCOMES, Conversation, Direction, Message, Outcome, Sender, State
from bot.models import now as models_now
from common import protocol

RASA_DOWN_TEXT = (
    "Unser digitaler Assistent ist gerade nicht erreichbar. Wir antworten Ihnen hier, sobald er wieder da ist; "
    "bis dahin liegt Ihre Nachricht auch bei unserem Kundenservice."
)  # whether someone is there, and how soon, says the handoff notice right after; no dashes: SMS folds them
RASA_STILL_DOWN_TEXT = (
    "Unser digitaler Assistent ist noch nicht wieder erreichbar. Ihre Nachricht ist gespeichert; wir antworten, "
    "sobald er wieder da ist."
)
RASA_DOWN_REASON = "bot_unavailable"


class ConversationClosed(Exception):
    pass


IN_PROCESS = LocalLocks()
"""The locks of a caller that names none (one gateway process)."""


def lock(conversation_id: int, locks: Locks | None = None) -> NamedLock:
    """The conversation's lock. Whoever waits for it holds no database connection (callers end their read
    first), so the holder can always get one to store its replies."""
    return (locks or IN_PROCESS).lock(f"conversation:{conversation_id}")


PAGE_INBOX_REASON = "page_inbox"
"""The handoff reason of a conversation a person answers in Meta's Page Inbox: the bot stays quiet."""


def bot_has_it(conversation: Conversation) -> bool:
    """The bot answers: its own conversation, or one queued only because Rasa was not answering."""
    return conversation.state == State.BOT or (
        conversation.state == State.WAITING
        and conversation.handoff_reason == RASA_DOWN_REASON
        and conversation.assignee_id is None
    )


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
    metadata: dict[str, str] | None = None,
    locks: Locks | None = None,
    extra: dict[str, Any] | None = None,
) -> list[Message]:
    """Store the customer's message and everything it caused; the new messages in order.

    `extra` is stored with the customer's message for the agent (a channel's attachments, the whole of a cut text).

    `intent` is a button's payload (`/feedback_helpful`), sent to Rasa instead of the text shown.
    A resend with a known `source_id` stores nothing new: it returns that message with the replies it already
    has, or answers it now if it is still owed one. With `availability`, a handoff is followed by the honest
    notice: queue position, or nobody there and an offer to leave contact details.
    A CSAT rating (`/csat{"score":N}`, or a bare digit after the request) is recorded here and never reaches
    Rasa; it is the only message a closed conversation accepts (`csat.InvalidRating` for a bad score).
    `metadata` is what the gateway vouches for about the sender (bot/conversation/sender_identity.py): kept with the
    message and sent to Rasa with it.
    """
    with lock(conversation.id, locks):
        session.refresh(conversation)
        if source_id and (
            known := session.scalar(
                select(Message).where(Message.conversation_id == conversation.id, Message.source_id == source_id)
            )
        ):
            return resend(session, conversation, known, rasa, hub, availability, now)
        score = csat.score_of(session, conversation, text, intent)
        if conversation.state == State.CLOSED and score is None:
            raise ConversationClosed
        if score is not None:
            new = csat.record(session, conversation, score, text, intent, source_id)
            session.commit()
            hub.notify(conversation.id)
            return new
        payload = {
            **({"intent": intent} if intent else {}),
            **({sender_identity.PAYLOAD_KEY: metadata} if metadata else {}),
            **(extra or {}),
        } or None
        message = states.add_message(
            session, conversation, Direction.INCOMING, Sender.CONTACT, text, payload, source_id
        )
        message.outcome = Outcome.PENDING if bot_has_it(conversation) else Outcome.QUEUED  # a human has it
        session.commit()
        hub.notify(conversation.id)
        if conversation.state == State.WAITING and conversation.handoff_reason == PAGE_INBOX_REASON:
            return [message]  # a person answers in Meta's Page Inbox (bot/channels/page_inbox.py): the bot is paused
        if conversation.state == State.WAITING and not bot_has_it(conversation):  # waiting for a person
            new = [message, *_while_waiting(session, conversation, message, intent, rasa, hub, availability, now)]
            session.commit()
            hub.notify(conversation.id)
            return new
        if intent == waiting.WITHDRAW_INTENT and conversation.state == State.BOT:  # the wait has ended already
            message.outcome = Outcome.ANSWERED
            note = states.system_note(session, conversation, "back_to_bot")
            session.commit()
            hub.notify(conversation.id)
            return [message, note]
        return [message, *answer_pending(session, conversation, rasa, hub, availability, now, fresh=message)]


def resend(
    session: Session,
    conversation: Conversation,
    message: Message,
    rasa: RasaClient,
    hub: Hub,
    availability: Availability | None,
    now: datetime | None,
) -> list[Message]:
    """The widget sent a message again (no answer reached it): answer it if it is still owed one, then the
    message with everything stored after it up to the customer's next message (its replies)."""
    if message.outcome in PENDING_OUTCOMES:
        answer_pending(session, conversation, rasa, hub, availability, now)
    later = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.id > message.id)
        .order_by(Message.id)
    )
    replies: list[Message] = []
    for reply in later:
        if reply.direction == Direction.INCOMING:
            break
        replies.append(reply)
    return [message, *replies]


def answer_pending(
    session: Session,
    conversation: Conversation,
    rasa: RasaClient,
    hub: Hub,
    availability: Availability | None = None,
    now: datetime | None = None,
    fresh: Message | None = None,
) -> list[Message]:
    """Ask Rasa for every message of the conversation still owed an answer, oldest first; the messages stored.

    The caller holds the conversation's lock. Each answered message is committed with its replies. A message
    that may have reached Rasa before (all but `fresh`, the one just stored) is first looked up in Rasa's
    tracker, so Rasa never gets it twice. Stops at the first outage: those left are told once and stay owed.
    """
    new: list[Message] = []
    owed = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.outcome.in_(PENDING_OUTCOMES))
        .order_by(Message.id)
    ).all()
    for message in owed:
        if not bot_has_it(conversation):  # an agent took it, or the customer asked for one meanwhile
            for left in owed:
                if left.outcome in PENDING_OUTCOMES:
                    left.outcome = Outcome.QUEUED
            session.commit()
            break
        session.commit()  # nothing to write yet: no connection is held while Rasa thinks
        try:
            replies = _ask(rasa, conversation, message, hub, known_to_rasa=message is not fresh)
        except RasaUnavailable:
            session.refresh(conversation)  # an agent may have taken it meanwhile: then the agent answers
            if bot_has_it(conversation):
                new.extend(_outage(session, conversation, [m for m in owed if m.outcome in PENDING_OUTCOMES],
                                   availability, now))  # fmt: skip
            else:
                for left in owed:
                    if left.outcome in PENDING_OUTCOMES:
                        left.outcome = Outcome.QUEUED
            session.commit()
            hub.notify(conversation.id)
            break
        session.refresh(conversation)
        if not bot_has_it(conversation):  # an agent took it while Rasa thought: the agent answers
            message.outcome = Outcome.QUEUED
            session.commit()
            continue
        if conversation.state == State.WAITING:  # Rasa is back: the conversation returns to the bot
            new.append(states.return_to_bot(session, conversation))
        new.extend(store_replies(session, conversation, replies, question=message))
        message.outcome = Outcome.ANSWERED
        unanswered.capture(session, conversation, message)  # low confidence or "Nein": for the editors
        if csat.said_goodbye(replies) and (request := csat.request(session, conversation)):
            new.append(request)  # the bot said goodbye: the end of a conversation, time to ask for a rating
        if availability is not None and conversation.state == State.WAITING:  # handed off just now
            note = next((m for m in reversed(new) if states.is_handoff_note(m)), None)
            notice = handoff_notice(session, conversation, availability, now or models_now(), note)
            notice.payload = {**(notice.payload or {}), "buttons": [waiting.WITHDRAW_BUTTON]}
            if note is None:
                new.append(notice)
        session.commit()
        hub.notify(conversation.id)
    return new


def _ask(
    rasa: RasaClient, conversation: Conversation, message: Message, hub: Hub, known_to_rasa: bool
) -> list[dict[str, Any]]:
    """Rasa's replies to one stored message (from its tracker if it had the message already)."""
    sender = conversation.rasa_sender_id
    hub.set_typing(conversation.id, "bot", True)
    started = time.perf_counter()
    try:
        if known_to_rasa and (replies := rasa.replies_to(sender, message.id)) is not None:
            return replies
        payload = message.payload or {}
        text = payload.get("intent") or message.text
        return rasa.send(sender, text, message.id, payload.get(sender_identity.PAYLOAD_KEY))
    finally:
        hub.set_typing(conversation.id, "bot", False)
        metrics.BOT_RESPONSE_SECONDS.labels(conversation.channel).observe(time.perf_counter() - started)


def _outage(
    session: Session,
    conversation: Conversation,
    owed: list[Message],
    availability: Availability | None,
    now: datetime | None,
) -> list[Message]:
    """Rasa is not answering: the customer is told once per message (the first time into the agent queue,
    with the honest availability notice); the messages stay owed."""
    unnotified = [m for m in owed if m.outcome == Outcome.PENDING]
    for message in owed:
        message.outcome = Outcome.NOTIFIED
    if not unnotified:
        return []  # a retry that failed again: the customer has been told
    if conversation.state == State.WAITING:
        text = RASA_STILL_DOWN_TEXT
        return [states.add_message(session, conversation, Direction.OUTGOING, Sender.BOT, text)]
    new = [states.add_message(session, conversation, Direction.OUTGOING, Sender.BOT, RASA_DOWN_TEXT)]
    if note := states.hand_off(session, conversation, RASA_DOWN_REASON, None):
        new.append(note)
        if availability is not None:  # the bot cannot help meanwhile: no "Bis dahin beantworte ich …"
            handoff_notice(session, conversation, availability, now or models_now(), note, bot_helps=False)
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
    session.commit()  # nothing to write yet: no connection is held while Rasa thinks
    try:
        replies = _ask(rasa, conversation, question, hub, known_to_rasa=False)
    except RasaUnavailable:
        replies = []
    shown, text = waiting.reply(session, conversation, question, intent, replies, availability, now or models_now())
    new = store_replies(session, conversation, shown, question=question)
    unanswered.capture(session, conversation, question)  # a question the bot could not answer: for the editors
    return [*new, waiting.say(session, conversation, text)]


def store_replies(
    session: Session, conversation: Conversation, replies: list[dict[str, Any]], question: Message | None = None
) -> list[Message]:
    """Texts with their buttons become bot messages; a handoff payload moves the conversation to the queue.

    The bot's text right before a new handoff (the action server's "Darauf habe ich leider keine sichere
    Antwort.") is no message of its own: it opens the handoff's note, which `answer_pending` completes with
    whether someone is there, so the customer reads that first and in one message.

    The action server's payloads (common/protocol.py) are read, never shown to anyone, on any channel: the
    knowledge base's decision is kept with the customer's `question` as `payload["decision"]` (analytics, the
    unanswered list and an entry's history read it there); the goodbye is `receive`'s cue for the rating request.
    """
    stored: list[Message] = []
    signals = [protocol.read(reply.get("custom")) for reply in replies]
    lead = ""  # the bot's text right before a new handoff: it opens the handoff's one message
    for index, (reply, signal) in enumerate(zip(replies, signals, strict=True)):
        if isinstance(signal, protocol.DecisionPayload):
            if question is not None:
                question.payload = {**(question.payload or {}), "decision": signal.to_dict()}
            metrics.KB_DECISIONS.labels(signal.action).inc()
        elif isinstance(signal, protocol.HandoffPayload):
            if note := states.hand_off(session, conversation, signal.reason, signal.to_dict(), lead):
                stored.append(note)  # hand_off gives the note the payload, with the reason filled in
            elif lead:  # no new handoff after all: the text is shown as it came
                stored.append(states.add_message(session, conversation, Direction.OUTGOING, Sender.BOT, lead))
            lead = ""
        if signal is not None:
            continue
        text = reply.get("text")
        following = signals[index + 1] if index + 1 < len(signals) else None
        if (
            isinstance(following, protocol.HandoffPayload)
            and conversation.state != State.WAITING
            and text
            and not reply.get("buttons")
        ):
            lead = str(text)  # said together with whether someone is there, in one message
            continue
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
