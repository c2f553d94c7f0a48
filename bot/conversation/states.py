"""The conversation state machine as plain functions on a session: bot → waiting_for_agent → with_agent → bot/closed.

Each function checks the transition and writes the matching system message; callers commit.
`take` is one conditional UPDATE, so two agents cannot both win.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from bot import metrics
from bot.models import (
    WIDGET_CHANNEL,
    Agent,
    Contact,
    Conversation,
    DeliveryStatus,
    Direction,
    Message,
    Sender,
    State,
    now,
)
from common import labels

TRANSITIONS: dict[State, set[State]] = {
    State.BOT: {State.WAITING, State.CLOSED},
    State.WAITING: {State.WITH_AGENT, State.BOT, State.CLOSED},
    State.WITH_AGENT: {State.BOT, State.CLOSED},
    State.CLOSED: set(),
}
TEXTS = {
    # Around a handoff the customer gets one message from the gateway (`hand_off`'s note, completed by
    # `availability.handoff_notice`): the bot's own short text first if it sent one, then whether someone is there.
    "queued": "Ihre Anfrage liegt jetzt bei unserem Kundenservice. Sie können hier weiterschreiben, nichts geht "
    "verloren.",
    "joined": "{name} vom Kundenservice ist jetzt im Chat.",
    "left": "{name} hat das Gespräch an den digitalen Assistenten zurückgegeben.",
    "back_to_bot": "Sie chatten wieder mit dem digitalen Assistenten.",
    "closed": "Das Gespräch wurde beendet. Vielen Dank!",
    "outside_hours": "Unser Kundenservice ist leider gerade nicht besetzt (Servicezeiten: {hours}). Ihre Anfrage "
    "bleibt gespeichert, und sobald das Team wieder da ist, antworten wir Ihnen hier. Wenn Sie möchten, "
    "hinterlassen Sie uns Ihre E-Mail-Adresse oder Telefonnummer, dann melden wir uns dort.",
    "nobody_online": "Gerade ist leider niemand aus unserem Kundenservice erreichbar. Ihre Anfrage bleibt "
    "gespeichert, und sobald jemand frei ist, antworten wir Ihnen hier. Wenn Sie möchten, hinterlassen Sie uns "
    "Ihre E-Mail-Adresse oder Telefonnummer, dann melden wir uns dort.",
    # Messenger/SMS: the channel itself is the way back, so nobody asks for an address; short (SMS segments)
    "outside_hours_reachable": "Unser Kundenservice ist leider gerade nicht besetzt (Servicezeiten: {hours}). "
    "Ihre Anfrage bleibt gespeichert; wir antworten Ihnen hier, sobald das Team wieder da ist.",
    "nobody_online_reachable": "Gerade ist leider niemand aus unserem Kundenservice erreichbar. Ihre Anfrage "
    "bleibt gespeichert; wir antworten Ihnen hier, sobald jemand frei ist.",
    "queue_position": "Sie sind auf Platz {position} der Warteschlange unseres Kundenservice; ein Mitarbeiter "
    "meldet sich hier im Chat.",
    "bot_still_helps": "Bis dahin beantworte ich Ihnen gern weitere Fragen.",
    "withdrawn": "Alles klar, Ihre Anfrage an den Kundenservice ist zurückgezogen. Sie chatten wieder mit dem "
    "digitalen Assistenten – fragen Sie mich gern.",
    "contact_saved": "Danke! Wir melden uns unter {contact} bei Ihnen.",
    "transcript_sent": "Wir haben Ihnen den Gesprächsverlauf an {email} geschickt.",
    "confirmation_sent": "Wir haben Ihnen eine E-Mail geschickt. Bitte bestätigen Sie darin Ihre Adresse – dann "
    "senden wir Ihnen den Verlauf.",
}


class InvalidTransition(Exception):
    def __init__(self, current: str, wanted: str) -> None:
        # the inbox shows it to the agent as it is (409)
        super().__init__(f"das Gespräch ist „{labels.state(current)}“ und kann nicht „{labels.state(wanted)}“ werden")


def _move(conversation: Conversation, wanted: State) -> None:
    if wanted not in TRANSITIONS[State(conversation.state)]:
        raise InvalidTransition(conversation.state, wanted)
    conversation.state = wanted
    conversation.updated_at = now()


def start(
    session: Session, channel: str = "web", contact: Contact | None = None, channel_address: str | None = None
) -> Conversation:
    """A new conversation; Messenger and SMS pass the contact behind the sender and the address to reply to."""
    conversation = Conversation(
        contact=contact or Contact(),
        channel=channel,
        channel_address=channel_address,
        token=secrets.token_urlsafe(32),
        rasa_sender_id=f"{channel}-{uuid.uuid4().hex}",
        state=State.BOT,
    )
    session.add(conversation)
    session.flush()
    return conversation


def by_token(session: Session, token: str) -> Conversation | None:
    return session.scalar(select(Conversation).where(Conversation.token == token))


def messages_after(session: Session, conversation_id: int, after: int) -> list[Message]:
    """A conversation's messages after message id `after` (0: all), oldest first, with their agents loaded."""
    return list(
        session.scalars(
            select(Message)
            .options(selectinload(Message.agent))
            .where(Message.conversation_id == conversation_id, Message.id > after)
            .order_by(Message.id)
        )
    )


def add_message(
    session: Session,
    conversation: Conversation,
    direction: Direction,
    sender: Sender,
    text: str,
    payload: dict[str, Any] | None = None,
    source_id: str | None = None,
    agent: Agent | None = None,
) -> Message:
    message = Message(
        conversation_id=conversation.id,
        direction=direction,
        sender=sender,
        text=text,
        payload=payload,
        source_id=source_id,
        agent=agent,
        created_at=now(),
    )
    if conversation.channel != WIDGET_CHANNEL and direction != Direction.INCOMING:
        message.delivery_status = DeliveryStatus.PENDING  # the outbox (bot/channels/delivery.py) pushes it
    session.add(message)
    conversation.updated_at = now()
    session.flush()
    metrics.MESSAGES.labels(conversation.channel, sender).inc()
    return message


def system_note(session: Session, conversation: Conversation, key: str, **values: str) -> Message:
    return add_message(session, conversation, Direction.ACTIVITY, Sender.SYSTEM, TEXTS[key].format(**values))


def hand_off(
    session: Session, conversation: Conversation, reason: str, payload: dict[str, Any] | None, lead: str = ""
) -> Message | None:
    """The bot gives up (or Rasa is down): into the queue with reason and candidates. Idempotent while waiting.

    The note is the one message the customer gets about the handoff: `lead` (the bot's own short text, e.g.
    "Darauf habe ich leider keine sichere Antwort.") first, then "queued"; `availability.handoff_notice` replaces
    the latter with whether someone is there and what happens next."""
    if conversation.state == State.WAITING:
        return None
    _move(conversation, State.WAITING)
    conversation.handoff_reason = reason
    conversation.handoff = payload
    conversation.waiting_since = now()
    conversation.assignee_id = None
    metrics.HANDOFFS.labels(reason).inc()
    note = add_message(
        session, conversation, Direction.ACTIVITY, Sender.SYSTEM, join(lead, TEXTS["queued"])
    )
    note.payload = {"handoff": {**(payload or {}), "reason": reason}}  # analytics: when, and why
    if lead:
        note.payload["lead"] = lead
    return note


def join(*sentences: str) -> str:
    """Sentences into one message, the empty ones left out."""
    return " ".join(s.strip() for s in sentences if s and s.strip())


def is_handoff_note(message: Message) -> bool:
    return message.direction == Direction.ACTIVITY and bool((message.payload or {}).get("handoff"))


def take(session: Session, conversation_id: int, agent: Agent) -> bool:
    """Atomically assign a waiting conversation; False if another agent was first or it is not waiting."""
    result = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.state == State.WAITING)
        .values(state=State.WITH_AGENT, assignee_id=agent.id, updated_at=now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    conversation = session.get(Conversation, conversation_id)
    assert conversation is not None
    session.refresh(conversation)
    system_note(session, conversation, "joined", name=agent.name)
    return True


def give_back(session: Session, conversation: Conversation, agent: Agent) -> None:
    """To the bot again; the caller has already resumed the Rasa conversation."""
    was_with_agent = conversation.state == State.WITH_AGENT
    _move(conversation, State.BOT)
    conversation.assignee_id = None
    conversation.waiting_since = None
    if was_with_agent:
        note = system_note(session, conversation, "left", name=agent.name)
    else:
        note = system_note(session, conversation, "back_to_bot")
    note.payload = {"event": "given_back"}  # analytics: the end of the human part


def withdraw(session: Session, conversation: Conversation) -> Message:
    """The customer no longer needs a person (still waiting, not taken): back to the bot, out of the queue."""
    _move(conversation, State.BOT)
    conversation.assignee_id = None
    conversation.waiting_since = None
    note = system_note(session, conversation, "withdrawn")
    note.payload = {"event": "withdrawn"}  # the end of the wait, but no agent's close (analytics' time to close)
    return note


def return_to_bot(session: Session, conversation: Conversation) -> Message:
    """Rasa answers again after an outage: the conversation it was queued for goes back to the bot (Rasa's own
    tracker was never paused, so there is nothing to resume)."""
    _move(conversation, State.BOT)
    conversation.waiting_since = None
    note = system_note(session, conversation, "back_to_bot")
    note.payload = {"event": "bot_available"}
    return note


def close(session: Session, conversation: Conversation) -> None:
    _move(conversation, State.CLOSED)
    conversation.waiting_since = None
    system_note(session, conversation, "closed").payload = {"event": "closed"}


def queue(session: Session) -> list[Conversation]:
    """Waiting conversations, oldest first."""
    return list(
        session.scalars(
            select(Conversation)
            .where(Conversation.state == State.WAITING)
            .order_by(Conversation.waiting_since, Conversation.id)
        )
    )
