"""Limits in Flask-Limiter's notation ("10 per minute; 100 per hour") as a settings type, checked when read.

The gateway's throttles (bot/config.py) and the order look-up's (actions/order_limits.py) are written the same way;
a typo in one stops the process at start with the variable named (common/settings_errors.py).
"""

from __future__ import annotations

from typing import Annotated

from limits import parse_many
from pydantic import AfterValidator


def _rate_limit(spec: str) -> str:
    parse_many(spec)  # raises ValueError naming what it could not read
    return spec


RateLimit = Annotated[str, AfterValidator(_rate_limit)]
