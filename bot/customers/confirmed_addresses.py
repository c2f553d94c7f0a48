"""E-mail addresses a customer proved to own by opening the link we mailed there (double opt-in).

Only such an address gets the transcript without a new confirmation: an address typed into the widget proves
nothing, and mailing the shop's mail to whatever anyone types would make the gateway a spam relay (issue 13).
A proven address is a `verified` e-mail identifier of the customer (`contact_identifiers`), as a channel-proven
number or PSID is.

Confirming moves a typed-only claim of another customer over instead of merging the two customers: someone who
typed a stranger's address into his own conversation must not end up holding the stranger's proof (his later
transcripts would then go to the stranger without asking). An address proven before for another customer means the
same mailbox owner confirmed both, so those two customers become one, as with channel-proven identifiers.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.customers import identities
from bot.models import ContactIdentifier, Conversation, IdentifierKind

SOURCE = "mail"
"""`contact_identifiers.source` of an address proven by the confirmation link."""


def is_confirmed(session: Session, conversation: Conversation, email: str) -> bool:
    """The address is proven for this conversation's customer."""
    value = identities.normalise(IdentifierKind.EMAIL, email)
    identifier = identities.identifier_of(session, IdentifierKind.EMAIL, value)
    return identifier is not None and identifier.verified and identifier.contact_id == conversation.contact_id


def confirm(session: Session, conversation: Conversation, email: str) -> None:
    """The customer opened the link sent to `email`: it is theirs, proven; the caller commits."""
    value = identities.parse(IdentifierKind.EMAIL, email)
    session.flush()  # a write before the savepoint (see identities.link)
    identifier = identities.identifier_of(session, IdentifierKind.EMAIL, value)
    if identifier is None:
        try:
            with session.begin_nested():
                identifier = ContactIdentifier(
                    contact_id=conversation.contact_id, kind=IdentifierKind.EMAIL, value=value, source=SOURCE
                )
                session.add(identifier)
                session.flush()
        except IntegrityError:  # added by another request meanwhile
            identifier = identities.identifier_of(session, IdentifierKind.EMAIL, value)
            if identifier is None:
                raise
    if identifier.contact_id != conversation.contact_id:
        if identifier.verified:
            identities.merge(session, identifier.contact, conversation.contact)
        else:
            identifier.contact = conversation.contact
    identifier.verified = True
    if not conversation.contact.email:
        conversation.contact.email = value
    session.expire(conversation.contact, ["identifiers"])
    session.flush()
