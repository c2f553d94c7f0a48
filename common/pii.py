"""Masking personal data in customer texts before they are kept for analytics or the editors' lists.

E-mail addresses, phone numbers, IBANs and order numbers become `[E-MAIL]`, `[TELEFON]`, `[IBAN]`,
`[BESTELLNUMMER]`. Transcripts are not masked (agents need the address a customer typed); what is derived
from them (the unanswered-question list, analytics) is.

Regular expressions rather than spaCy's `Matcher`: every form here is a character pattern, and spaCy's
German tokenizer splits exactly these strings differently depending on their separators ("0151-1234567"
is one token, "0151 1234567" two, "(030)" three, an IBAN with spaces six), so token patterns would need
one variant per spelling where one regex covers them all. Each rule is tested with the forms it must
catch and the ordinary words and numbers (prices, dates, postcodes, years, "30 Tage") it must leave alone.

Phone numbers are found by regex and judged by `phonenumbers` (`is_possible_number`, region DE), not found by
`phonenumbers.PhoneNumberMatcher`, which fails these tests at every leniency: POSSIBLE masks prices, postcodes,
years and order numbers; VALID misses numbers it judges invalid ("0151 1234567" has a digit too few for its
range, but is still someone's personal data), joins a following count to the number ("030 1234567 2 Pakete")
and takes "05-06-2024" for one; STRICT_GROUPING and EXACT_GROUPING miss "+49 151 1234567", "0151-1234567" and
two numbers in a row. Where numbers are stored and
compared (`bot/customers/identities.py`), `phonenumbers` reads and checks them.

The order number pattern is the shop's and configurable: `AUSKUNFT_ORDER_NUMBER_PATTERN` (a regex,
case-insensitive). The default is the one the bot itself recognises (`common/order_numbers.py`: `LG-123456`,
`lg 123456`, `LG123456`, or the six digits alone).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from common.order_numbers import ORDER_NUMBER_PATTERN as DEFAULT_ORDER_NUMBER_PATTERN

EMAIL = "[E-MAIL]"
PHONE = "[TELEFON]"
IBAN = "[IBAN]"
ORDER_NUMBER = "[BESTELLNUMMER]"

_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b", re.IGNORECASE)
# country code, check digits, then 11–30 letters/digits, in groups of four with or without spaces
_IBAN = re.compile(r"\b[a-z]{2}\d{2}(?:\s?[a-z0-9]{4}){2,7}(?:\s?[a-z0-9]{1,4})?\b", re.IGNORECASE)
# "+49 (0)30 …", "0049 …", "(030) …", "0151-…": starts like a phone number (not a date like 01/02/2024), then
# groups of two or more digits, each after at most one separator (space, -, /; never "." or ",", so prices and
# dotted dates never join). A group after a space never starts with 0: "0151 1234567 0152 7654321" is two numbers.
_PHONE = re.compile(
    r"(?<![\w+])(?!\d{1,2}[./\- ]\d{1,2}[./\- ]\d{2,4}\b)"
    r"(?:\+\d{1,3}(?:\s?\(0\))?[\s\-/]?\d+|\(0\d{1,5}\)|0\d{1,5})"
    r"(?:(?:[\-/]|\s(?!0))?\d{2,})+"
)
_PHONE_MIN_DIGITS = 7  # "030 123" could be dialled, but in a customer's text it is a count or a code
_IBAN_MIN_DIGITS = 10  # "ab12 test wort …" is a phrase, not an IBAN


@dataclass(frozen=True)
class Rule:
    placeholder: str
    pattern: re.Pattern[str]
    accept: Callable[[str], bool] = lambda _match: True


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _phone_like(text: str) -> bool:
    """The regex finds candidates; `phonenumbers` (German by default, as where numbers are stored) says whether
    one can be a phone number at all (length for its country and area, at most 15 digits)."""
    if _digits(text) < _PHONE_MIN_DIGITS or "  " in text:
        return False
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(text, "DE"))
    except phonenumbers.NumberParseException:
        return False


@lru_cache(maxsize=4)
def rules(order_pattern: str = DEFAULT_ORDER_NUMBER_PATTERN) -> tuple[Rule, ...]:
    """In this order: an e-mail address or IBAN may contain what looks like a phone or order number."""
    return (
        Rule(EMAIL, _EMAIL),
        Rule(IBAN, _IBAN, lambda match: _digits(match) >= _IBAN_MIN_DIGITS),
        Rule(ORDER_NUMBER, re.compile(order_pattern, re.IGNORECASE)),
        Rule(PHONE, _PHONE, _phone_like),
    )


def mask(text: str, order_pattern: str | None = None) -> str:
    """`text` with every e-mail address, IBAN, order number and phone number replaced by its placeholder."""
    pattern = order_pattern or os.environ.get("AUSKUNFT_ORDER_NUMBER_PATTERN") or DEFAULT_ORDER_NUMBER_PATTERN
    for rule in rules(pattern):
        text = rule.pattern.sub(
            lambda match, rule=rule: rule.placeholder if rule.accept(match.group(0)) else match.group(0), text
        )
    return text
