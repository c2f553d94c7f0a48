"""What every channel is: parse a provider's webhook into `Inbound` events, push stored messages out.

A channel module (`messenger.py`, `sms.py`, …) holds its `Channel` subclass, its webhook blueprint and
`from_config`; `bot/channels/__init__.py` lists the modules. Everything between — finding the customer and the
open conversation, dropping redeliveries, Rasa or the agent, retries — is shared (`inbound.py`, `delivery.py`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from bot.models import Conversation, IdentifierKind, Message, Sender

TEXT_ONLY = "Ich kann leider nur Text lesen. Bitte schreiben Sie mir Ihre Frage."
FILES_FOR_AGENT = (
    "Ich kann leider nur Text lesen. Ihre Datei ist gespeichert: Ein Mitarbeiter sieht sie, sobald er das "
    "Gespräch übernimmt."
)
ATTACHMENT_KINDS = ("image", "video", "audio", "file", "location", "sticker")


@dataclass(frozen=True)
class Inbound:
    """One thing a customer did: a text, a button press (`intent` = the button's payload), or something
    the bot cannot read (`unsupported` = "image", "sticker", "location", …)."""

    address: str
    """Whom to answer: the Messenger PSID, the SMS sender's number."""
    external_id: str | None
    """The provider's id for the message (`mid`, `MessageSid`): a redelivery is processed once."""
    text: str = ""
    intent: str | None = None
    unsupported: str | None = None
    attachments: tuple[dict[str, Any], ...] = ()
    """What came with the text: `{"kind": "image", "url": …, "content_type": …}` or
    `{"kind": "location", "latitude": …, "longitude": …}`; stored for the agent, never sent to the bot."""
    linkable: bool = True
    """False for an address that is nobody's verified identifier (an SMS short code or sender name): the
    conversation gets no contact by it."""


class DeliveryError(Exception):
    """The provider did not take the message. `permanent`: retrying cannot help (e.g. the token is wrong)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Channel(ABC):
    name: ClassVar[str]
    """`Conversation.channel`."""
    label: ClassVar[str]
    """What agents see in the inbox."""
    identifier: ClassVar[IdentifierKind | None] = None
    """The kind of customer identifier the channel's address is (the contact is found by it)."""

    @abstractmethod
    def send(self, session: Session, conversation: Conversation, message: Message) -> str | None:
        """Push one stored message to the customer; the provider's id for it. Raises `DeliveryError`."""

    def blocked(self, session: Session, conversation: Conversation, message: Message) -> bool:
        """True if the customer asked for nothing more (SMS `STOP`): the message is kept, not sent."""
        return False


def buttons_of(message: Message) -> list[dict[str, Any]]:
    return list((message.payload or {}).get("buttons") or [])


def is_markdown(message: Message) -> bool:
    """The bot's texts and FAQ answers an agent sent from the inbox are Markdown; what an agent types is not."""
    return message.sender == Sender.BOT or bool((message.payload or {}).get("faq_id"))
