"""Spotting an angry or long-waiting customer in the text itself, whatever intent NLU chose.

Shouting (mostly capitals), piled-up exclamation marks and insults are reliable enough signals
to apologise and offer a human rather than answer with an FAQ entry. Waiting long ("immer noch", "seit 5 Tagen",
"bis jetzt kam nix") is said calmly but deserves the same first sentence: the order look-up starts with an apology.
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


_COUNT = r"(?:\d+|ein|einer|einem|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|vielen|mehreren|etlichen)"
_SPAN = r"(?:tag|tage|tagen|woche|wochen|monat|monaten)"
WAITING = re.compile(
    "|".join(
        (
            r"\bimmer\s+noch\b", r"\bnoch\s+immer\b", r"\bimmernoch\b",
            rf"\bseit\s+(?:{_COUNT}\s+)?{_SPAN}\b", rf"\bseit\s+(?:über|ueber|fast|gut)\s+{_COUNT}\s+{_SPAN}\b",
            r"\bseit\s+letzte[rnm]?\s+woche\b", rf"\bvor\s+(?:über\s+|mehr\s+als\s+)?{_COUNT}\s+{_SPAN}\b",
            r"\b(?:nix|nichts)\s+(?:kam|gekommen|angekommen|bekommen|erhalten|geliefert)\b",
            r"\bkam\s+(?:bis\s+\w+\s+)?(?:nix|nichts)\b", r"\bbis\s+(?:jetzt|heute|dato)\b",
            r"\bendlich\b", r"\büberfällig\b", r"\bewig\b", r"\bso\s+lange?\b", r"\bschon\s+lange?\b",
        )
    ),
    re.IGNORECASE,
)  # fmt: skip


def waits_long(text: str) -> bool:
    """True when the customer says they have been waiting ("seit einer Woche", "immer noch", "bis jetzt kam nix")."""
    return bool(WAITING.search(text))
