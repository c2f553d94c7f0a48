"""Staff-only lines of a conversation: internal notes, and the transfer from one agent to another.

Both are `ConversationNote` rows, never `messages`: whatever reads messages for a customer (the widget API, the
Messenger/SMS outbox, transcripts, the mailed copy) cannot show them. A transfer tells the customer nothing; the
next reply carries the new agent's name, as every agent reply does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from bot.conversation.availability import Availability
from bot.models import Agent, Conversation, ConversationNote, NoteKind, Role, State, now

MAX_NOTE = 4000


def add(session: Session, conversation: Conversation, author: Agent, text: str) -> ConversationNote:
    note = ConversationNote(
        conversation_id=conversation.id, author=author, kind=NoteKind.NOTE, text=text, created_at=now()
    )
    session.add(note)
    session.flush()
    return note


def of(session: Session, conversation_id: int, after: int = 0) -> list[ConversationNote]:
    """A conversation's notes after note id `after`, oldest first, with their authors."""
    return list(
        session.scalars(
            select(ConversationNote)
            .options(selectinload(ConversationNote.author))
            .where(ConversationNote.conversation_id == conversation_id, ConversationNote.id > after)
            .order_by(ConversationNote.id)
        )
    )


def colleagues(session: Session, agent: Agent, availability: Availability, moment: datetime) -> list[Agent]:
    """Whom `agent` can hand a conversation to: the other accounts that answer customers (role agent or admin),
    logged in and seen within the online window — a conversation handed to someone absent would just wait."""
    since = moment.astimezone(UTC) - timedelta(minutes=availability.online_minutes)
    return list(
        session.scalars(
            select(Agent)
            .where(
                Agent.id != agent.id,
                Agent.role.in_((Role.AGENT, Role.ADMIN)),
                Agent.last_seen_at >= since,
            )
            .order_by(Agent.name, Agent.id)
        )
    )


def transfer(session: Session, conversation_id: int, giver: Agent, receiver: Agent) -> ConversationNote | None:
    """Hand a conversation `giver` holds to `receiver`: one conditional UPDATE (like `states.take`), so a
    conversation taken back, closed or handed on meanwhile is not moved twice; None if it was not `giver`'s."""
    result = session.execute(
        update(Conversation)
        .where(
            Conversation.id == conversation_id,
            Conversation.state == State.WITH_AGENT,
            Conversation.assignee_id == giver.id,
        )
        .values(assignee_id=receiver.id, updated_at=now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    conversation = session.get(Conversation, conversation_id)
    assert conversation is not None
    session.refresh(conversation)
    note = ConversationNote(
        conversation_id=conversation_id,
        author=giver,
        kind=NoteKind.TRANSFER,
        text=f"An {receiver.name} übergeben",
        payload={"from": giver.id, "to": receiver.id},
        created_at=now(),
    )
    session.add(note)
    session.flush()
    return note
