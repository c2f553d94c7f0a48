"""Contacts, their conversations, every message, and the agents (Chatwoot's shape, trimmed)."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from common import feedback_log


def now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class State(enum.StrEnum):
    BOT = "bot"
    WAITING = "waiting_for_agent"
    WITH_AGENT = "with_agent"
    CLOSED = "closed"


class Direction(enum.StrEnum):
    INCOMING = "incoming"  # from the customer
    OUTGOING = "outgoing"  # to the customer (bot or agent)
    ACTIVITY = "activity"  # system notes: handoff, agent joined/left, closed


WIDGET_CHANNEL = "web"
"""The widget reads its messages from the database (SSE); every other channel is pushed through the outbox."""


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # stored, not yet accepted by the provider (a retry may be scheduled)
    SENDING = "sending"  # claimed by one sender (the outbox or an SMS webhook's TwiML): nobody else sends it
    SENT = "sent"  # the provider accepted it (or it went back in the webhook's TwiML response)
    DELIVERED = "delivered"  # the provider reported it delivered (Twilio's status callback)
    FAILED = "failed"  # every attempt failed: the inbox shows it to agents, who can try again
    OPTED_OUT = "opted_out"  # the customer sent STOP: not sent, on purpose


class Outcome(enum.StrEnum):
    """What became of a customer message meant for the bot; NULL = nothing owed (notes, ratings, older rows)."""

    PENDING = "pending"  # stored, the bot not yet asked (or a crash came in between): the retrier takes it
    NOTIFIED = "notified"  # Rasa did not answer: the customer was told; answered once Rasa is back
    ANSWERED = "answered"  # the bot's replies are stored (set in the same transaction as they are)
    QUEUED = "queued"  # a human has (or will have) the conversation: the agent answers


PENDING_OUTCOMES = (Outcome.PENDING, Outcome.NOTIFIED)
"""Still owed a bot answer."""


class Sender(enum.StrEnum):
    CONTACT = "contact"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class Role(enum.StrEnum):
    AGENT = "agent"  # the inbox
    EDITOR = "editor"  # /admin: FAQ, unanswered questions, analytics
    ADMIN = "admin"  # both


class IdentifierKind(enum.StrEnum):
    PHONE = "phone"  # E.164, "+4915112345678"
    EMAIL = "email"  # lower case
    MESSENGER_PSID = "messenger_psid"  # the page-scoped id Facebook gives a person


class Contact(Base):
    """One customer: conversations on every channel hang off it, linked by verified identifiers."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=now)

    identifiers: Mapped[list[ContactIdentifier]] = relationship(
        back_populates="contact", order_by="ContactIdentifier.id", cascade="all, delete-orphan"
    )


class ContactIdentifier(Base):
    """An address that names one customer: an SMS sender's number, a Messenger PSID, an e-mail/phone they gave.

    Unique per (kind, value): a second conversation from the same number finds the same contact.
    `verified` = the channel proved it (the SMS sender, the PSID), or the customer opened the confirmation link
    mailed to the address (bot.customers.confirmed_addresses); an address typed into the widget is not.
    """

    __tablename__ = "contact_identifiers"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_contact_identifier"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    value: Mapped[str] = mapped_column(String(320))
    verified: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str | None] = mapped_column(String(30))
    """Where it came from: "sms", "messenger", "widget", "agent"."""
    created_at: Mapped[datetime] = mapped_column(default=now)

    contact: Mapped[Contact] = relationship(back_populates="identifiers")


class Agent(Base):
    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=now)
    last_seen_at: Mapped[datetime | None] = mapped_column()
    """Last inbox request while logged in; None after logout. "Online" = seen within a few minutes."""
    role: Mapped[str] = mapped_column(String(20), default=Role.AGENT, server_default=Role.AGENT)
    session_nonce: Mapped[str | None] = mapped_column(String(64))
    """Part of the login session's id (`get_id`); a new one at logout, so an old session cookie no longer works."""

    def has_role(self, role: Role) -> bool:
        return self.role in (role, Role.ADMIN)

    # Flask-Login's user interface
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """"<id>:<nonce>": the session holds it, `access.load_agent` accepts it while the nonce is current."""
        return f"{self.id}:{self.session_nonce}"


class Conversation(Base):
    __tablename__ = "conversations"
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    channel: Mapped[str] = mapped_column(String(30), default="web")
    channel_address: Mapped[str | None] = mapped_column(String(320), index=True)
    """Whom the channel replies to: the Messenger PSID, the SMS number; None for the widget."""
    token: Mapped[str] = mapped_column(String(100), unique=True, index=True)
    """Opaque, random; kept in the customer's browser. Knowing it is the only way in."""
    rasa_sender_id: Mapped[str] = mapped_column(String(100), unique=True)
    state: Mapped[str] = mapped_column(String(30), default=State.BOT, index=True)
    handoff_reason: Mapped[str | None] = mapped_column(String(50))
    handoff: Mapped[dict[str, Any] | None] = mapped_column()
    """The bot's handoff payload: candidates with scores, summary, last question."""
    waiting_since: Mapped[datetime | None] = mapped_column()
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    contact: Mapped[Contact] = relationship()
    assignee: Mapped[Agent | None] = relationship()
    messages: Mapped[list[Message]] = relationship(back_populates="conversation", order_by="Message.id")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("conversation_id", "source_id", name="uq_message_source"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    direction: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(20))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any] | None] = mapped_column()
    """Buttons, the intent a button sent, the handoff payload."""
    source_id: Mapped[str | None] = mapped_column(String(100))
    """The widget's id for the message: a resend after a network error is stored once."""
    created_at: Mapped[datetime] = mapped_column(default=now)
    delivery_status: Mapped[str | None] = mapped_column(String(20), index=True)
    """Channels the gateway pushes to (Messenger, SMS): pending → sent | failed (| opted_out); None for the widget."""
    delivery_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    delivery_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None] = mapped_column()
    """While `sending`: the claiming gateway process's lease; once past, another process may take the send over."""
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    """The gateway process that claimed the latest send (host:pid:…), for whoever reads the database."""
    outcome: Mapped[str | None] = mapped_column(String(20), index=True)
    """A customer message's `Outcome`; pending/notified ones are answered by `bot.conversation.pending`."""

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    agent: Mapped[Agent | None] = relationship()

    def to_json(self) -> dict[str, Any]:
        payload = self.payload or {}
        data: dict[str, Any] = {
            "id": self.id,
            "direction": self.direction,
            "sender": self.sender,
            "text": self.text,
            "created_at": aware(self.created_at).isoformat(),
        }
        if buttons := payload.get("buttons"):
            data["buttons"] = buttons
        if self.agent is not None:
            data["agent_name"] = self.agent.name
        if payload.get("contact_form"):
            data["contact_form"] = True  # the widget offers fields for an e-mail address or phone number
        return data


class NoteKind(enum.StrEnum):
    NOTE = "note"  # an agent's internal note
    TRANSFER = "transfer"  # "An Bernd übergeben": the staff's record of a transfer


class ConversationNote(Base):
    """Staff-only lines of a conversation: internal notes and transfers.

    A table of their own, not messages with a flag: the widget API, the Messenger/SMS outbox, the transcripts and
    the mailed copy all read `messages`, so a note cannot reach the customer through any of them by construction.
    The GDPR export does include them (they are data about the customer, Art. 15), and erasure and retention
    delete them with the conversation (bot.customers.personal_data follows the foreign key).
    """

    __tablename__ = "conversation_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20), default=NoteKind.NOTE)
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column()
    """A transfer's accounts: {"from": id, "to": id}."""
    created_at: Mapped[datetime] = mapped_column(default=now)

    author: Mapped[Agent | None] = relationship()


class Snippet(Base):
    """A Textbaustein: an agent's own reply text, optionally shared with the team; `{name}` and friends are
    filled in per conversation (bot.conversation.snippets)."""

    __tablename__ = "snippets"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    shared: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    owner: Mapped[Agent] = relationship()


class Rating(Base):
    """A customer's CSAT score (1–5) for one conversation; one per conversation, a second one is refused."""

    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="ck_ratings_score"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), unique=True)
    score: Mapped[int] = mapped_column()
    channel: Mapped[str] = mapped_column(String(30))
    """Copied from the conversation, so the dashboard's channel filter needs no join."""
    created_at: Mapped[datetime] = mapped_column(default=now, index=True)


class WebhookReceipt(Base):
    """A provider's message id seen once (Messenger `mid`, Twilio `MessageSid`): redeliveries are dropped.

    The unique constraint makes it safe when two deliveries of the same webhook race.
    """

    __tablename__ = "webhook_receipts"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_webhook_receipt"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(30))
    external_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=now)


class ChannelOptOut(Base):
    """An address that asked for no more messages (SMS `STOP`); deleted again by `START`."""

    __tablename__ = "channel_opt_outs"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_channel_opt_out"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(30))
    address: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=now)


class UnansweredStatus(enum.StrEnum):
    OPEN = "open"
    ALTERNATIVE_ADDED = "alternative_added"  # the phrasing went into an entry's `alternatives`
    NEW_FAQ = "new_faq"  # an editor decided the FAQ needs a new entry
    IGNORED = "ignored"


class UnansweredQuestion(Base):
    """A customer question the bot could not answer (low confidence) or answered unhelpfully ("Nein").

    The text is masked (bot.pii) and the row outlives its conversation: retention drops the link, not the
    row (it names nobody); a customer's GDPR deletion removes it. Editors mark questions by cluster.
    """

    __tablename__ = "unanswered_questions"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), unique=True)
    """The customer's question message: one entry per question, however often "Nein" is pressed."""
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    """`low_confidence` (the bot handed off) or `not_helpful` ("Nein", "Nichts davon")."""
    faq_id: Mapped[str | None] = mapped_column(String(80))
    """The bot's best candidate (or the entry it answered with)."""
    score: Mapped[float | None] = mapped_column()
    channel: Mapped[str] = mapped_column(String(30), default="web")
    status: Mapped[str] = mapped_column(String(20), default=UnansweredStatus.OPEN, index=True)
    resolved_faq_id: Mapped[str | None] = mapped_column(String(80))
    """The entry the phrasing was added to."""
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=now, index=True)


class PairSource(enum.StrEnum):
    FAQ_BUTTON = "faq_button"  # an agent sent an FAQ answer with one click: explicit, confirmed at once
    AGENT_REPLY = "agent_reply"  # an agent's own words matched an FAQ answer: an editor confirms
    UNANSWERED = "unanswered"  # an editor added the wording to an entry from the unanswered list


class PairStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class LearnedPair(Base):
    """A customer's question and the FAQ entry that answered it, learned in the service, for the next `train`.

    The question is masked (common.pii, and the contact's name) before it is stored. Confirmed pairs from the
    inbox go to the knowledge base as a file (bot.conversation.learning); ones from the unanswered list are
    already alternatives in the FAQ files and are kept here only to be counted. Like an unanswered question,
    a pair outlives its conversation's retention unlinked, and goes with the customer's erasure.
    """

    __tablename__ = "learned_pairs"
    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    faq_id: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    """The agent's answer (none for the unanswered list's wordings): one pair per answer."""
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    """Who answered (or added the wording)."""
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(index=True)
    """When it was confirmed (at once for explicit choices) or rejected; a confirmed pair decided after the
    served model was trained is waiting for the next `train`."""
    created_at: Mapped[datetime] = mapped_column(default=now)


class ConversationLink(Base):
    """An identifier one conversation gave (typed into the widget, or entered by an agent) that links it to its
    customer. A typed address proves nothing, so the inbox shows each conversation's own claim ("im Widget
    angegeben, nicht bestätigt") and an agent can undo it; SMS and Messenger conversations need no row: their
    `channel_address` is the proof.
    """

    __tablename__ = "conversation_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    value: Mapped[str] = mapped_column(String(320))
    source: Mapped[str] = mapped_column(String(30))
    """Either "widget" (the customer typed it) or "agent" (linked by hand; `agent_id` says who)."""
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)

    agent: Mapped[Agent | None] = relationship()


class MailDay(Base):
    """How many mails the gateway sent for customers on one day (Berlin): the daily cap's counter.

    One row per day, counted up in the database so that every gateway process shares the cap (bot.integrations.
    mail_cap); the confirmation mails and the transcripts count alike.
    """

    __tablename__ = "mail_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent: Mapped[int] = mapped_column(default=0)


# The action server's feedback records: in this database when it is a server database both reach (migration
# 0010); the table is defined once, in common/feedback_log.py, and joins this metadata so the migration is checked
feedback_log.table().to_metadata(Base.metadata)
