"""Everything stored about one customer: found by address or conversation, exported, deleted (GDPR Art. 15/17).

"Everything" is found by following foreign keys: from the contact to its conversations, from those to their
messages, and on to every table that points at any of them (identifiers, ratings, unanswered questions, and
whatever a later feature adds with a foreign key), plus what lives outside the gateway's database: the Rasa
tracker of each conversation and the action server's feedback records. Retention deletes old conversations
with the same walk (bot/retention.py).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.customers import identities
from bot.customers.rasa_trackers import RasaTrackers
from bot.models import Base, Contact, ContactIdentifier, Conversation, IdentifierKind, now
from common.feedback_log import FeedbackLog

CONVERSATION_ID = re.compile(r"#?(\d{1,9})")
PHONE_LIKE = re.compile(r"\+?[\d\s()/-]{6,}")


@dataclass
class Selection:
    """Row ids per table, found by following foreign keys from the starting rows."""

    ids: dict[str, set[int]] = field(default_factory=dict)

    def add(self, table: str, ids: Collection[int]) -> set[int]:
        known = self.ids.setdefault(table, set())
        new = set(ids) - known
        known |= new
        return new

    def count(self, table: str) -> int:
        return len(self.ids.get(table, ()))


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _primary_key(table: Table) -> Any:
    return next(iter(table.primary_key.columns))


def select_dependents(session: Session, start: dict[str, Collection[int]]) -> Selection:
    """The starting rows and every row that points at one of them, transitively."""
    selection = Selection()
    queue = [name for name, ids in start.items() if selection.add(name, ids)]
    while queue:
        target = _table(queue.pop())
        ids = selection.ids[target.name]
        for table in Base.metadata.sorted_tables:
            for foreign_key in table.foreign_keys:
                if foreign_key.column.table is not target:
                    continue
                found = session.scalars(select(_primary_key(table)).where(foreign_key.parent.in_(ids)))
                if selection.add(table.name, list(found)):
                    queue.append(table.name)
    return selection


def delete_selection(session: Session, selection: Selection, unlink: Collection[str] = ()) -> dict[str, int]:
    """Delete the selected rows, dependents first; rows of tables in `unlink` lose their links instead.

    Returns the number of rows per table (deleted, or unlinked). The caller commits.
    """
    counts: dict[str, int] = {}
    for table in reversed(Base.metadata.sorted_tables):
        ids = selection.ids.get(table.name)
        if not ids:
            continue
        key = _primary_key(table)
        if table.name in unlink:
            links = {fk.parent.name: None for fk in table.foreign_keys if fk.column.table.name in selection.ids}
            session.execute(update(table).where(key.in_(ids)).values(links))
        else:
            session.execute(delete(table).where(key.in_(ids)))
        counts[table.name] = len(ids)
    return counts


def find_contacts(session: Session, query: str) -> list[Contact]:
    """Contacts by e-mail address, phone number, conversation number (`12`, `#12`), widget token, Rasa sender
    id, a channel address or any other identifier (a Messenger PSID)."""
    query = query.strip()
    if not query:
        return []
    ids: set[int] = set()

    def contacts_of(*conditions: Any) -> None:
        ids.update(session.scalars(select(Conversation.contact_id).where(or_(*conditions))))

    identifier_values = {query}
    if "@" in query:
        email = identities.normalise(IdentifierKind.EMAIL, query)
        identifier_values.add(email)
        ids.update(session.scalars(select(Contact.id).where(func.lower(Contact.email) == email)))
    if match := CONVERSATION_ID.fullmatch(query):
        contacts_of(Conversation.id == int(match.group(1)))
    if PHONE_LIKE.fullmatch(query):
        phone = identities.normalise(IdentifierKind.PHONE, query)
        identifier_values.add(phone)
        ids.update(session.scalars(select(Contact.id).where(Contact.phone.in_({query, phone}))))
        contacts_of(Conversation.channel_address.in_({query, phone}))
    contacts_of(
        Conversation.token == query, Conversation.rasa_sender_id == query, Conversation.channel_address == query
    )
    ids.update(
        session.scalars(select(ContactIdentifier.contact_id).where(ContactIdentifier.value.in_(identifier_values)))
    )
    return list(session.scalars(select(Contact).where(Contact.id.in_(ids)).order_by(Contact.id)))


@dataclass
class CustomerData:
    """One contact's rows in the gateway's database, and the outside stores keyed by its conversations."""

    contact: Contact
    selection: Selection
    sender_ids: list[str]

    @classmethod
    def of(cls, session: Session, contact: Contact) -> CustomerData:
        selection = select_dependents(session, {"contacts": [contact.id]})
        senders = session.scalars(
            select(Conversation.rasa_sender_id).where(Conversation.id.in_(selection.ids.get("conversations", ())))
        )
        return cls(contact, selection, sorted(senders))

    def counts(self) -> dict[str, int]:
        return {name: len(ids) for name, ids in sorted(self.selection.ids.items())}

    def export(self, session: Session, trackers: RasaTrackers, feedback: FeedbackLog) -> dict[str, Any]:
        """Everything, as JSON-ready data: the contact, its conversations with their messages, every other row
        that refers to them (by table), the Rasa trackers' events and the action server's feedback records."""
        rows = {name: _rows(session, _table(name), ids) for name, ids in self.selection.ids.items()}
        messages = rows.pop("messages", [])
        conversations = [
            {**conversation, "messages": [m for m in messages if m["conversation_id"] == conversation["id"]]}
            for conversation in rows.pop("conversations", [])
        ]
        [contact] = rows.pop("contacts")
        data: dict[str, Any] = {
            "exported_at": now().isoformat(),
            "contact": contact,
            "identifiers": rows.pop("contact_identifiers", []),
            "conversations": conversations,
            **dict(sorted(rows.items())),
            "rasa_trackers": trackers.events(self.sender_ids),
            "action_server_feedback": feedback.rows(self.sender_ids),
        }
        if opt_outs := _opt_outs(session, self):
            data["channel_opt_outs"] = opt_outs
        return data

    def erase(self, session: Session, trackers: RasaTrackers, feedback: FeedbackLog) -> dict[str, int]:
        """Delete all of it; counts per store. The Rasa trackers and feedback go first: if one of them fails,
        the gateway's rows are still there to find the customer again and retry."""
        counts = {
            "rasa_tracker_events": trackers.delete(self.sender_ids),
            "action_server_feedback": feedback.delete(self.sender_ids),
        }
        counts.update(delete_selection(session, self.selection))
        session.commit()
        return counts


def _opt_outs(session: Session, data: CustomerData) -> list[dict[str, Any]]:
    """SMS opt-outs (`STOP`) for the customer's numbers: exported, but kept on erasure — the record that
    this number must not be messaged again is what the customer asked for."""
    if "channel_opt_outs" not in Base.metadata.tables:
        return []
    conversations = data.selection.ids.get("conversations", ())
    addresses = set(
        session.scalars(select(Conversation.channel_address).where(Conversation.id.in_(conversations)))
    ) | set(session.scalars(select(ContactIdentifier.value).where(ContactIdentifier.contact_id == data.contact.id)))
    table = _table("channel_opt_outs")
    found = session.execute(select(table).where(table.c.address.in_(addresses - {None}))).mappings()
    return [_plain(row) for row in found]


def _rows(session: Session, table: Table, ids: Collection[int]) -> list[dict[str, Any]]:
    key = _primary_key(table)
    return [_plain(row) for row in session.execute(select(table).where(key.in_(ids)).order_by(key)).mappings()]


def _plain(row: Any) -> dict[str, Any]:
    return {name: value.isoformat() if isinstance(value, datetime | date) else value for name, value in row.items()}
