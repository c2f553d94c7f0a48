"""Who may hear an order's status: whoever knows its delivery postcode or e-mail address, or the owner of its phone.

An order number alone is six digits anyone can guess, so it is never enough. The customer proves the order is
theirs with a second factor, as shops do: the postcode of the delivery address or the order's e-mail address,
or — without asking — by writing from the order's phone number when the channel verified it (SMS; the gateway
says so in the message's metadata, common/sender_metadata.py). Widget and Messenger customers always give the
second factor. Pure functions: the action (actions/actions.py) looks up, this module only compares.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Literal

from actions.orders import Order

EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]+")
POSTCODE = re.compile(r"(?<!\d)\d{5}(?!\d)")
"""A German postcode: five digits (the customer may write "10 115" or "PLZ 10115 Berlin")."""


@dataclass(frozen=True)
class Factor:
    kind: Literal["postcode", "email"]
    value: str
    """Normalised: the five digits, or the address stripped and case-folded."""


def normalise_email(text: str | None) -> str | None:
    """The e-mail address in the text, stripped and case-folded (`Erika@Example.ORG ` → `erika@example.org`)."""
    match = EMAIL.search((text or "").strip())
    return match.group(0).casefold() if match else None


def normalise_postcode(text: str | None) -> str | None:
    """The five digits of a postcode written with or without spaces (`10 115`, `D-10115`); None for none or two."""
    found = POSTCODE.findall(re.sub(r"\s+", "", text or ""))
    return found[0] if len(found) == 1 else None


def read_factor(text: str | None) -> Factor | None:
    """The second factor the customer typed: an e-mail address (checked first: it may hold digits), else a postcode."""
    if email := normalise_email(text):
        return Factor("email", email)
    if postcode := normalise_postcode(text):
        return Factor("postcode", postcode)
    return None


def _same(given: str, known: str | None) -> bool:
    return known is not None and hmac.compare_digest(given.encode(), known.encode())


def proves(order: Order, factor: Factor) -> bool:
    """The factor matches what the order holds (an order without it cannot be proven that way)."""
    if factor.kind == "email":
        return _same(factor.value, normalise_email(order.email))
    return _same(factor.value, normalise_postcode(order.postcode))


def owned_by_phone(order: Order, verified_phone: str | None) -> bool:
    """The channel-verified sender's number is the order's phone (both E.164; spaces ignored)."""
    if not verified_phone or not order.phone:
        return False
    return _same(re.sub(r"\s+", "", verified_phone), re.sub(r"\s+", "", order.phone))
