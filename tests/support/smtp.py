"""A local SMTP sink (aiosmtpd) for the transcript-by-mail tests."""

from __future__ import annotations

from typing import Any


class Inbox:
    """aiosmtpd handler: keeps every delivered message."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"
