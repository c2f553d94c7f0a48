"""One customer across channels: find or create the contact behind an identifier, link and unlink.

A conversation belongs to one contact; the contact's identifiers (an SMS sender's number, a Messenger
PSID, an e-mail or phone number given in the widget or to an agent) find it again on any channel.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Contact, ContactIdentifier, IdentifierKind


def normalise(kind: IdentifierKind, value: str) -> str:
    """The form identifiers are stored and compared in: e-mails lower case, numbers without spaces."""
    value = value.strip()
    if kind == IdentifierKind.EMAIL:
        return value.lower()
    if kind == IdentifierKind.PHONE:
        digits = "".join(ch for ch in value if ch.isdigit())
        if value.startswith("+"):
            return "+" + digits
        if digits.startswith("00"):
            return "+" + digits[2:]
        if digits.startswith("0"):
            return "+49" + digits[1:]  # a German national number
        return "+" + digits
    return value


def find(session: Session, kind: IdentifierKind, value: str) -> Contact | None:
    return session.scalar(
        select(Contact)
        .join(ContactIdentifier)
        .where(ContactIdentifier.kind == kind, ContactIdentifier.value == normalise(kind, value))
    )


def find_or_create(
    session: Session, kind: IdentifierKind, value: str, verified: bool = True, source: str | None = None
) -> Contact:
    """The contact that owns this identifier, or a new one that does; the caller commits."""
    if (contact := find(session, kind, value)) is not None:
        return contact
    contact = Contact(phone=normalise(kind, value) if kind == IdentifierKind.PHONE else None)
    contact.identifiers.append(
        ContactIdentifier(kind=kind, value=normalise(kind, value), verified=verified, source=source)
    )
    session.add(contact)
    session.flush()
    return contact
