"""What the gateway tells Rasa about who sent a customer message (common/sender_metadata.py has the keys).

- a client key for every message: an HMAC-SHA256 with the gateway's secret key of the widget's client address,
  or of the Messenger/SMS address — a stable pseudonym (the order look-up counts attempts per client by it,
  actions/order_limits.py), never the address itself;
- the verified phone for channels that prove the sender's number (SMS via Twilio, whose webhook is signed):
  the order look-up then tells the owner of an order's phone without a second factor. The widget and Messenger
  prove no phone.

Stored with the message (`payload["rasa_metadata"]`) when it arrives, so a message answered later (after a Rasa
outage) carries the same.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from bot.customers import identities
from bot.models import IdentifierKind
from common.sender_metadata import CHANNEL_GREETED, CLIENT_KEY, VERIFIED_PHONE

if TYPE_CHECKING:  # the channels import the conversation core, not the other way round
    from bot.channels.base import Channel

PAYLOAD_KEY = "rasa_metadata"


def pseudonym(secret: str, kind: str, value: str) -> str:
    """HMAC-SHA256 of `kind:value` with the secret key, hex: the same client gets the same key, nobody its address."""
    return hmac.new(secret.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def for_widget(secret: str, client_address: str) -> dict[str, str]:
    """The widget has greeted already (web_widget/chat.js): the bot's answer to a greeting is no second one."""
    return {CLIENT_KEY: pseudonym(secret, "ip", client_address), CHANNEL_GREETED: "widget"}


def for_channel(secret: str, channel: Channel, address: str) -> dict[str, str]:
    """A Messenger PSID or SMS number; the number counts as verified only where the channel proves it."""
    metadata = {CLIENT_KEY: pseudonym(secret, channel.name, address)}
    if channel.identifier == IdentifierKind.PHONE:
        metadata[VERIFIED_PHONE] = identities.normalise(IdentifierKind.PHONE, address)
    return metadata
