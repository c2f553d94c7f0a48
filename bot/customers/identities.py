"""One customer across channels: find or create the contact behind an identifier, link, merge and unlink.

A conversation belongs to one contact; the contact's identifiers (an SMS sender's number, a Messenger
PSID, an e-mail or phone number given in the widget or to an agent) find it again on any channel.

How linking works, and why:

- An identifier (kind, value) belongs to at most one contact (unique constraint). When a conversation
  brings an identifier that another contact owns, the two contacts become one (`merge`): the older one
  keeps everything, the newer one is deleted.
- Channel-proven identifiers (the SMS sender, the Messenger PSID: `verified=True`) and addresses the
  customer typed into the widget or told an agent (`verified=False`) link alike. The issue asks for both,
  and a customer who left her number in the widget and later writes by SMS should be one customer.
  A typed address proves nothing, though: each conversation's own claim is kept (`ConversationLink`,
  "im Widget angegeben, nicht bestätigt"), the inbox shows it next to the conversation, and an agent who
  doubts it moves the conversation out again (`unlink`) or removes the identifier. Someone typing a stranger's
  address learns nothing by it: what a merge joins is shown to agents only, the widget shows its own conversation.
- The address a transcript is mailed to (widget ✉) links only once its owner opened the confirmation link sent
  there, and then as proven (`confirmed_addresses`); asking for a copy proves nothing.
- Two requests adding the same identifier at once: the insert runs in a savepoint; the loser of the race
  meets the unique constraint, finds the winner's contact and merges with it — one customer, no error.
- Phone numbers are stored in E.164 ("+4915112345678"), the form the SMS provider reports senders in, read and
  checked by `phonenumbers`: national numbers as German, others by their country code ("+43 664 …" stays
  Austrian), "+49 (0)30 …" and "+49 0151 …" without the trunk zero. A typed number must be one that
  `phonenumbers` knows as valid and must start with its prefix ("0…", "+…", "00…"): without one it could be
  any area's local number.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from urllib.parse import quote

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.models import (
    WIDGET_CHANNEL,
    Agent,
    Contact,
    ContactIdentifier,
    Conversation,
    ConversationLink,
    Direction,
    IdentifierKind,
    Message,
    aware,
    now,
)

EMAIL = re.compile(
    r"^[\w.!#$'*+/^`{|}~-]{1,64}"  # the local part: no "?", "&", "=", "%", spaces, quotes or brackets
    r"@(?=.{4,253}$)(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+"  # host names (letters of any script: IDN)
    r"(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})$",  # the top-level domain
    re.IGNORECASE,
)
"""An address as customers type it, strict enough that it is nothing else: `kunde@x?cc=…&subject=…` would
smuggle recipients and text into the inbox's `mailto:` link (issue 13); `mailto` encodes it anyway."""
HOME_REGION = "DE"  # where a number without country code is read as dialled
# what a typed number may contain: `phonenumbers` would read letters as a vanity number ("+49 30 abc")
PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()/.-]+$")
PHONE_REFUSED = (
    "die Telefonnummer ist unvollständig oder ungültig – bitte vollständig mit Vorwahl angeben"
    " (030 1234567 oder +49 30 1234567)"
)
KIND_LABELS = {"phone": "Telefon", "email": "E-Mail", "messenger_psid": "Messenger-ID"}
SOURCE_LABELS = {"agent": "Kundenservice"}
"""Identifier sources that are no channel. The others name the channel they came through (`widget`: the web
channel's contact form) and are shown with the channel's own label (`bot.channels.label`)."""
SOURCE_CHANNELS = {"widget": WIDGET_CHANNEL}
CONTACT_FIELDS = {IdentifierKind.EMAIL: "email", IdentifierKind.PHONE: "phone"}


class InvalidIdentifier(ValueError):
    """The text is not a usable e-mail address or phone number (the message says why, in German)."""


class NothingToUnlink(Exception):
    """The conversation is its customer's only one."""


class Outcome(enum.StrEnum):
    ADDED = "added"  # a new identifier for the conversation's customer
    KNOWN = "known"  # the customer had it already
    MERGED = "merged"  # another customer had it: the two are one now


@dataclass(frozen=True)
class Linked:
    contact: Contact
    outcome: Outcome


def mailto(address: str) -> str:
    """A `mailto:` link to exactly this address: every character with a meaning in a URL percent-encoded."""
    return "mailto:" + quote(address, safe="@")


def normalise(kind: IdentifierKind, value: str) -> str:
    """The form identifiers are stored and compared in: e-mails lower case, numbers in E.164 (unchecked)."""
    value = value.strip()
    if kind == IdentifierKind.EMAIL:
        return value.lower()
    if kind == IdentifierKind.PHONE:
        number = phone_number(value)
        return value if number is None else phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return value


class AddressKind(enum.StrEnum):
    """What a provider's sender address is. Only `PHONE` (a valid E.164 number) is a person's phone line that
    links customers; the others are kept as they came, so replies go back to exactly that address."""

    PHONE = "phone"  # "+4915112345678"
    WHATSAPP_NUMBER = "whatsapp_number"  # "whatsapp:+4915112345678"
    WHATSAPP_USER = "whatsapp_user"  # "whatsapp:IN.2081…" (a WhatsApp user id, no number)
    SHORT_CODE = "short_code"  # "33669": a service's short code, nobody's phone
    ALPHANUMERIC = "alphanumeric"  # "DHL", "Paket-Info": a sender name
    OTHER = "other"


@dataclass(frozen=True)
class ChannelAddress:
    kind: AddressKind
    value: str
    """As stored and answered: E.164 for `PHONE`, else the address as the provider sent it (trimmed)."""


SHORT_CODE = re.compile(r"^\d{3,8}$")
ALPHANUMERIC = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 .&_-]{1,11}$")  # GSM alphanumeric sender ids: ≤ 11


def channel_address(raw: str) -> ChannelAddress:
    """A Twilio `From` typed, never squeezed into a number: `whatsapp:` keeps its prefix (and a user id is no
    number), a short code or sender name stays what it is; only an E.164 number `phonenumbers` knows as valid
    becomes `PHONE`."""
    value = raw.strip()
    if value.lower().startswith("whatsapp:"):
        rest = value.split(":", 1)[1].strip()
        number = _e164(rest)
        if number is not None:
            return ChannelAddress(AddressKind.WHATSAPP_NUMBER, f"whatsapp:{number}")
        return ChannelAddress(AddressKind.WHATSAPP_USER, f"whatsapp:{rest}")
    if (number := _e164(value)) is not None:
        return ChannelAddress(AddressKind.PHONE, number)
    if SHORT_CODE.match(value):
        return ChannelAddress(AddressKind.SHORT_CODE, value)
    if ALPHANUMERIC.match(value):
        return ChannelAddress(AddressKind.ALPHANUMERIC, value)
    return ChannelAddress(AddressKind.OTHER, value)


def _e164(value: str) -> str | None:
    """`value` in E.164 if it is written as one ("+" and digits, spaces allowed) and valid, else None."""
    value = re.sub(r"\s", "", value)
    if not re.fullmatch(r"\+[1-9]\d{6,14}", value):
        return None
    number = phone_number(value)
    if number is None or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_number(value: str) -> phonenumbers.PhoneNumber | None:
    """`value` read as a phone number (national ones as German), None where nothing in it reads as one."""
    try:
        return phonenumbers.parse(value, HOME_REGION)
    except phonenumbers.NumberParseException:
        return None


def is_valid_phone(raw: str) -> bool:
    """A number someone typed that names one line: only number characters, dialled with its prefix (a local
    number without area code is ambiguous), and valid for its country by `phonenumbers` ("+49 151 123" is not)."""
    text = raw.strip()
    if not (PHONE_CHARACTERS.match(text) and _has_prefix(text)):
        return False
    number = phone_number(text)
    return number is not None and phonenumbers.is_valid_number(number)


def is_local_number(raw: str) -> bool:
    """Digits without area code or country code ("1234567"): a number in the customer's own area, which only
    the customer knows. The widget keeps it for a call back; it links nothing (`parse` refuses it)."""
    text = raw.strip()
    digits = sum(ch.isdigit() for ch in text)
    return bool(PHONE_CHARACTERS.match(text)) and not _has_prefix(text) and len(text) <= 30 and 6 <= digits <= 15


def _has_prefix(text: str) -> bool:
    """Dialled as a national ("030 …", "(030) …") or international number ("+43 …", "0043 …")."""
    return text.lstrip("(").startswith(("+", "0"))


def parse(kind: IdentifierKind, raw: str) -> str:
    """Normalised and checked; `InvalidIdentifier` for what cannot name anybody."""
    value = normalise(kind, raw)
    if kind == IdentifierKind.EMAIL and (len(value) > 320 or not EMAIL.match(value)):
        raise InvalidIdentifier("die E-Mail-Adresse sieht nicht gültig aus")
    if kind == IdentifierKind.PHONE and not is_valid_phone(raw):
        raise InvalidIdentifier(PHONE_REFUSED)
    if not value or len(value) > 320:
        raise InvalidIdentifier("die Kennung ist leer oder zu lang")
    return value


def is_linkable(kind: IdentifierKind, raw: str) -> bool:
    try:
        parse(kind, raw)
    except InvalidIdentifier:
        return False
    return True


def find(session: Session, kind: IdentifierKind, value: str) -> Contact | None:
    return session.scalar(
        select(Contact)
        .join(ContactIdentifier)
        .where(ContactIdentifier.kind == kind, ContactIdentifier.value == normalise(kind, value))
    )


def find_or_create(
    session: Session, kind: IdentifierKind, value: str, verified: bool = True, source: str | None = None
) -> Contact:
    """The contact that owns this identifier, or a new one that does; the caller commits.

    A channel that proves the identifier (`verified`) marks a typed one as proven from now on. Two first
    messages from one new number at once: the loser's insert meets the unique constraint in a savepoint and
    returns the winner's contact. (On SQLite with nothing written before, pysqlite's savepoint release commits
    the new contact at once — harmless: it is found again next time.)
    """
    value = normalise(kind, value)
    contact = find(session, kind, value)
    if contact is None:
        contact = Contact(phone=value if kind == IdentifierKind.PHONE else None)
        try:
            with session.begin_nested():
                session.add(contact)
                contact.identifiers.append(ContactIdentifier(kind=kind, value=value, verified=verified, source=source))
                session.flush()
            return contact
        except IntegrityError:
            contact = find(session, kind, value)
            if contact is None:
                raise
    if verified:
        identifier = identifier_of(session, kind, value)
        if identifier is not None and not identifier.verified:
            identifier.verified = True
    return contact


def identifier_of(session: Session, kind: IdentifierKind, value: str) -> ContactIdentifier | None:
    return session.scalar(
        select(ContactIdentifier).where(ContactIdentifier.kind == kind, ContactIdentifier.value == value)
    )


def link(
    session: Session,
    conversation: Conversation,
    kind: IdentifierKind,
    raw: str,
    source: str,
    agent: Agent | None = None,
) -> Linked:
    """An address the customer gave in this conversation (`source` "widget") or an agent entered ("agent").

    Recorded as this conversation's claim, added to its customer unverified, and when another customer already
    has it, the two customers merge. The caller commits (everything here is one transaction).
    `InvalidIdentifier` for an unusable address.
    """
    value = parse(kind, raw)
    claimed = session.scalar(
        select(ConversationLink).where(
            ConversationLink.conversation_id == conversation.id,
            ConversationLink.kind == kind,
            ConversationLink.value == value,
        )
    )
    if claimed is None:
        session.add(
            ConversationLink(
                conversation_id=conversation.id,
                kind=kind,
                value=value,
                source=source,
                agent_id=agent.id if agent else None,
            )
        )
    conversation.updated_at = now()
    # a write before the savepoint: pysqlite opens the transaction only then, and a savepoint outside one would
    # commit on release, splitting what must stay one transaction
    session.flush()
    owner = find(session, kind, value)
    if owner is None:
        try:
            with session.begin_nested():
                session.add(
                    ContactIdentifier(
                        contact_id=conversation.contact_id, kind=kind, value=value, verified=False, source=source
                    )
                )
                session.flush()
        except IntegrityError:
            owner = find(session, kind, value)  # another request added it meanwhile: join that customer
            if owner is None:
                raise
        else:
            session.expire(conversation.contact, ["identifiers"])
            return Linked(conversation.contact, Outcome.ADDED)
    if owner.id == conversation.contact_id:
        return Linked(owner, Outcome.KNOWN)
    return Linked(merge(session, owner, conversation.contact), Outcome.MERGED)


def merge(session: Session, one: Contact, other: Contact) -> Contact:
    """Make two contacts one: the older keeps its id, gets the other's conversations and identifiers, and fills
    its empty name/e-mail/phone fields from the other's (its own values stay); the other is deleted."""
    keep, gone = sorted((one, other), key=lambda contact: (aware(contact.created_at), contact.id))
    for conversation in session.scalars(select(Conversation).where(Conversation.contact_id == gone.id)):
        conversation.contact = keep
    for identifier in list(gone.identifiers):
        identifier.contact = keep
    for name in ("name", "email", "phone"):
        if not getattr(keep, name):
            setattr(keep, name, getattr(gone, name))
    session.delete(gone)
    session.flush()
    return keep


def unlink(session: Session, conversation: Conversation) -> Contact:
    """Move the conversation out of its customer into a contact of its own; the caller commits.

    The unverified identifiers that only this conversation gave go with it, its claims to the others are
    dropped (the agent judged them wrong); the customer keeps its proven identifiers and the rest.
    `NothingToUnlink` if it is the customer's only conversation.
    """
    old = conversation.contact
    siblings = list(
        session.scalars(
            select(Conversation.id).where(Conversation.contact_id == old.id, Conversation.id != conversation.id)
        )
    )
    if not siblings:
        raise NothingToUnlink("das Gespräch ist das einzige dieses Kunden")
    claims = list(
        session.scalars(
            select(ConversationLink)
            .where(ConversationLink.conversation_id == conversation.id)
            .order_by(ConversationLink.id)
        )
    )
    claimed_elsewhere = set(
        session.execute(
            select(ConversationLink.kind, ConversationLink.value).where(ConversationLink.conversation_id.in_(siblings))
        ).tuples()
    )
    new = Contact()
    session.add(new)
    own = {(claim.kind, claim.value) for claim in claims} - claimed_elsewhere
    moved = set()
    for identifier in list(old.identifiers):
        if not identifier.verified and (identifier.kind, identifier.value) in own:
            identifier.contact = new
            moved.add((identifier.kind, identifier.value))
    for claim in claims:
        if (name := CONTACT_FIELDS.get(IdentifierKind(claim.kind))) is not None:
            setattr(new, name, claim.value)  # the way back this customer gave here
        if (claim.kind, claim.value) not in moved:
            session.delete(claim)
    conversation.contact = new
    session.flush()
    return new


def remove_identifier(session: Session, contact: Contact, identifier_id: int) -> ContactIdentifier:
    """The identifier no longer links anything to this customer; `LookupError` if the customer has no such one."""
    identifier = session.get(ContactIdentifier, identifier_id)
    if identifier is None or identifier.contact_id != contact.id:
        raise LookupError("dieser Kunde hat keine solche Kennung")
    contact.identifiers.remove(identifier)  # delete-orphan: the row goes
    session.flush()
    return identifier


@dataclass
class EarlierConversation:
    conversation: Conversation
    first_question: str | None
    claims: list[ConversationLink]


@dataclass
class CustomerPanel:
    """What the inbox shows about the customer behind a conversation."""

    contact: Contact
    identifiers: list[ContactIdentifier]
    claims: list[ConversationLink]
    """This conversation's own claims."""
    earlier: list[EarlierConversation]
    """The customer's other conversations on every channel, newest first."""
    not_shown: int
    kind_labels: dict[str, str] = field(default_factory=lambda: dict(KIND_LABELS))
    source_labels: dict[str, str] = field(default_factory=lambda: dict(SOURCE_LABELS))
    source_channels: dict[str, str] = field(default_factory=lambda: dict(SOURCE_CHANNELS))


def first_question(messages: list[Message]) -> str | None:
    return next((m.text for m in messages if m.direction == Direction.INCOMING and m.text.strip()), None)


def claims_by_conversation(session: Session, conversation_ids: list[int]) -> dict[int, list[ConversationLink]]:
    claims: dict[int, list[ConversationLink]] = {cid: [] for cid in conversation_ids}
    for claim in session.scalars(
        select(ConversationLink)
        .options(selectinload(ConversationLink.agent))
        .where(ConversationLink.conversation_id.in_(conversation_ids))
        .order_by(ConversationLink.id)
    ):
        claims[claim.conversation_id].append(claim)
    return claims


def panel(session: Session, conversation: Conversation, limit: int = 20) -> CustomerPanel:
    contact = conversation.contact
    others = (Conversation.contact_id == contact.id, Conversation.id != conversation.id)
    earlier = list(
        session.scalars(
            select(Conversation)
            .options(selectinload(Conversation.messages).selectinload(Message.agent))
            .where(*others)
            .order_by(Conversation.created_at.desc(), Conversation.id.desc())
            .limit(limit)
        )
    )
    total = session.scalar(select(func.count()).select_from(Conversation).where(*others)) or 0
    claims = claims_by_conversation(session, [conversation.id, *(c.id for c in earlier)])
    return CustomerPanel(
        contact=contact,
        identifiers=list(contact.identifiers),
        claims=claims[conversation.id],
        earlier=[EarlierConversation(c, first_question(c.messages), claims[c.id]) for c in earlier],
        not_shown=total - len(earlier),
    )


def earlier_counts(session: Session, conversations: list[Conversation]) -> dict[int, int]:
    """For the queue: how many other conversations each conversation's customer has had (one query)."""
    contact_ids = {c.contact_id for c in conversations}
    if not contact_ids:
        return {}
    counts = dict(
        session.execute(
            select(Conversation.contact_id, func.count())
            .where(Conversation.contact_id.in_(contact_ids))
            .group_by(Conversation.contact_id)
        )
        .tuples()
        .all()
    )
    return {c.id: counts.get(c.contact_id, 1) - 1 for c in conversations}
