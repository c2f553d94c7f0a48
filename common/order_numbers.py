"""The shop's order number: one pattern for the bot that looks orders up and for the masking that hides them.

`LG-123456`, `lg 123456`, `LG123456` or the six digits alone; group 1 holds the digits, so every spelling
becomes the canonical `LG-123456`. The masking reads it as its default (`AUSKUNFT_ORDER_NUMBER_PATTERN` can
replace it there for another shop's numbers).
"""

from __future__ import annotations

import re

ORDER_NUMBER_PATTERN = r"\b(?:LG[-\s]?)?(\d{6})\b"
ORDER_NUMBER = re.compile(ORDER_NUMBER_PATTERN, re.IGNORECASE)


def normalise_order_number(text: str | None) -> str | None:
    """`lg 123456`, `LG123456`, `123456` → `LG-123456`; None when the text holds no order number."""
    match = ORDER_NUMBER.search(text or "")
    return f"LG-{match.group(1)}" if match else None
