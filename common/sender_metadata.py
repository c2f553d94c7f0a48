"""What the gateway vouches for about a customer message, sent to Rasa as the user message's `metadata`.

The gateway sets these keys (bot/conversation/sender_identity.py); the action server reads them from
`tracker.latest_message["metadata"]` to decide who may hear an order's status (actions/order_access.py) and how
often one client may ask (actions/order_limits.py). Rasa itself is reachable only from this machine
(bot/integrations/rasa_client.py), so only the gateway can set them.
"""

from __future__ import annotations

from typing import Any

CLIENT_KEY = "auskunft_client_key"
"""A pseudonym of where the message came from (the widget's client address, the Messenger or SMS address): an
HMAC with the gateway's secret key, so the same client always has the same key and nobody can read the address
back from it."""
CHANNEL_GREETED = "auskunft_channel_greeted"
"""Set ("widget") when the channel greets the customer itself before the first message — the widget shows its own
greeting at once, also when Rasa is down: a customer's "Hallo" then gets a short invitation to ask
(actions/actions.py `ActionGreet`), not a second introduction."""
VERIFIED_PHONE = "auskunft_verified_phone"
"""The sender's phone number in E.164 when the channel proved it (an SMS through Twilio); absent otherwise."""


def read(metadata: Any, key: str) -> str | None:
    """One of the keys as a non-empty string, else None (metadata may be missing or malformed)."""
    value = metadata.get(key) if isinstance(metadata, dict) else None
    return value if isinstance(value, str) and value else None
