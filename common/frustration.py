"""Spotting an angry customer in the text itself, whatever intent NLU chose.

Shouting (mostly capitals), piled-up exclamation marks and insults are reliable enough signals
to apologise and offer a human rather than answer with an FAQ entry.
"""

from __future__ import annotations

import re

INSULTS = (
    "lächerlich", "frechheit", "unverschämt", "scheiß", "scheiss", "mist", "dumm", "blöd", "idiot",
    "unfähig", "inkompetent", "nutzlos", "katastrophe", "witz", "saftladen", "verarsch", "sauer",
)
_SHOUT_MIN_LETTERS = 8


def is_frustrated(text: str) -> bool:
    """True for insults, shouting or "!!!"; plain questions with one "!" are not frustration."""
    lowered = text.lower()
    if any(word in lowered for word in INSULTS):
        return True
    if re.search(r"[!?]*![!?]*![!?]*!", text):
        return True
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= _SHOUT_MIN_LETTERS and sum(c.isupper() for c in letters) / len(letters) > 0.8
