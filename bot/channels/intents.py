"""Which button payloads the bot knows: the intents of Rasa's `domain.yml` and the few the gateway handles
itself (a rating, withdrawing a handoff). A payload outside them (the page's "Get Started" button) is no
intent and must not be guessed from the button's title."""

from __future__ import annotations

from functools import cache

import yaml

from bot.config import ROOT

GREETING = "/greet"
GATEWAY_INTENTS = frozenset({"csat", "withdraw_handoff"})
POSTBACKS: dict[str, str] = {"GET_STARTED": GREETING, "GET_STARTED_PAYLOAD": GREETING}
"""Payloads of the page's own buttons that map to an intent (upper case); anything else unknown → greeting."""


@cache
def known_intents() -> frozenset[str]:
    """The intent names a payload `/name` may carry (read once from `domain.yml`)."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8")) or {}
    names = [i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents") or []]
    return frozenset(names) | GATEWAY_INTENTS
