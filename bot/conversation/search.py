"""Finding conversations for the inbox: by the customer (name, e-mail, phone, an address the conversation
gave, the conversation's number), by an order number anywhere in the text, and by the text of messages and
staff notes. Plain `ILIKE` through SQLAlchemy, so SQLite and PostgreSQL answer alike without a search index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from bot.customers import identities
from bot.models import (
    Contact,
    ContactIdentifier,
    Conversation,
    ConversationLink,
    ConversationNote,
    Direction,
    IdentifierKind,
    Message,
)
from common.order_numbers import ORDER_NUMBER

MAX_QUERY = 200
LIMIT = 50
EXCERPT = 60
"""Characters shown on either side of a match."""
CONVERSATION_NUMBER = re.compile(r"#?(\d{1,9})")
PHONE_LIKE = re.compile(r"\+?[\d\s()/-]{6,}")


@dataclass(frozen=True)
class Hit:
    conversation: Conversation
    where: str
    """German: "Kunde", "Nachricht", "Notiz" (the first that matched, in that order)."""
    excerpt: str
    """The matching text around the match (empty for a match on the customer)."""


def _contains(column: Any, text: str) -> Any:
    return column.icontains(text, autoescape=True)


def _customer_ids(query: str) -> Select[tuple[int]]:
    values = {query}
    if "@" in query:
        values.add(identities.normalise(IdentifierKind.EMAIL, query))
    if PHONE_LIKE.fullmatch(query):
        values.add(identities.normalise(IdentifierKind.PHONE, query))
    conditions = [
        _contains(Contact.name, query),
        _contains(Contact.email, query),
        _contains(Contact.phone, query),
        Contact.phone.in_(values),
        Conversation.channel_address.in_(values),
        Conversation.contact_id.in_(select(ContactIdentifier.contact_id).where(ContactIdentifier.value.in_(values))),
        Conversation.id.in_(select(ConversationLink.conversation_id).where(ConversationLink.value.in_(values))),
    ]
    if match := CONVERSATION_NUMBER.fullmatch(query):
        conditions.append(Conversation.id == int(match.group(1)))
    return select(Conversation.id).join(Contact, Conversation.contact_id == Contact.id).where(or_(*conditions))


def _text_terms(query: str) -> list[str]:
    """The query itself; for an order number in any spelling also its six digits ("LG 123456" finds "LG-123456")."""
    terms = [query]
    if match := ORDER_NUMBER.search(query):
        terms.append(match.group(1))
    return terms


def conversations(session: Session, query: str, limit: int = LIMIT) -> list[Hit]:
    """The conversations matching `query`, the latest first."""
    query = query.strip()
    if not query:
        return []
    terms = _text_terms(query)
    by_customer = set(session.scalars(_customer_ids(query)))
    messages = {
        m.conversation_id: m
        for m in session.scalars(
            select(Message)
            .where(Message.direction != Direction.ACTIVITY, or_(*(_contains(Message.text, t) for t in terms)))
            .order_by(Message.id.desc())
            .limit(limit * 5)
        )
    }
    notes = {
        n.conversation_id: n
        for n in session.scalars(
            select(ConversationNote)
            .where(or_(*(_contains(ConversationNote.text, t) for t in terms)))
            .order_by(ConversationNote.id.desc())
            .limit(limit * 5)
        )
    }
    ids = by_customer | set(messages) | set(notes)
    found = session.scalars(
        select(Conversation)
        .options(selectinload(Conversation.contact))
        .where(Conversation.id.in_(ids))
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(limit)
    )
    hits = []
    for conversation in found:
        if conversation.id in by_customer:
            hits.append(Hit(conversation, "Kunde", ""))
        elif (message := messages.get(conversation.id)) is not None:
            hits.append(Hit(conversation, "Nachricht", excerpt(message.text, terms)))
        else:
            hits.append(Hit(conversation, "Notiz", excerpt(notes[conversation.id].text, terms)))
    return hits


def excerpt(text: str, terms: list[str]) -> str:
    """The text around the first term found in it, "…" where it was cut."""
    lowered = text.casefold()
    at = next((i for t in terms if (i := lowered.find(t.casefold())) >= 0), 0)
    start, end = max(0, at - EXCERPT), min(len(text), at + EXCERPT)
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")
