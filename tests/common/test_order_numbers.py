"""The order number: the bot's look-up and the masking read the same spellings, from one pattern."""

from __future__ import annotations

import pytest

from common import pii
from common.order_numbers import ORDER_NUMBER_PATTERN, normalise_order_number


def test_the_masking_default_is_the_bots_pattern() -> None:
    assert pii.DEFAULT_ORDER_NUMBER_PATTERN == ORDER_NUMBER_PATTERN


@pytest.mark.parametrize("text", ["LG-123456", "lg 123456", "LG123456", "123456", "Lg-999999", "LG\t123456"])
def test_every_spelling_is_read_and_masked(text: str) -> None:
    assert normalise_order_number(f"Bestellung {text}?") == f"LG-{text[-6:]}"
    assert pii.mask(f"Bestellung {text}?") == "Bestellung [BESTELLNUMMER]?"


@pytest.mark.parametrize("text", ["12345", "1234567", "LG-12345", "Preis 4,95 €"])
def test_other_numbers_are_neither(text: str) -> None:
    assert normalise_order_number(text) is None
    assert "[BESTELLNUMMER]" not in pii.mask(text)
