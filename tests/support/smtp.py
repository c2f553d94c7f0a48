"""A local SMTP server (aiosmtpd) for the mail tests: every delivered message kept, readable as e-mail."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.net import free_port

PUBLIC_URL = "https://chat.example.test"
"""The gateway's public address in the tests' mail settings: where confirmation links point."""
SHOP_NAME = "Lindgrün"
MAIL_FROM = "shop@example.de"
CONFIRM_LINK = re.compile(r"https?://\S+/transcript/confirm/(\S+)")


class Inbox:
    """aiosmtpd handler: keeps every delivered message."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.settings: dict[str, Any] = {}
        """The gateway's config keys that send to this server (filled by `smtp_server`)."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def mails(self) -> list[EmailMessage]:
        return [message_from_bytes(e.original_content, policy=policy.default) for e in self.envelopes]  # type: ignore[misc]


@contextmanager
def smtp_server(public_url: str = PUBLIC_URL) -> Iterator[Inbox]:
    """A real SMTP server on localhost; `inbox.settings` point a gateway at it (and name the shop and its URL)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.settings = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": controller.port,
        "SMTP_STARTTLS": False,
        "MAIL_FROM": MAIL_FROM,
        "SHOP_NAME": SHOP_NAME,
        "PUBLIC_URL": public_url,
    }
    try:
        yield inbox
    finally:
        controller.stop()


def confirmation_path(mail: EmailMessage) -> str:
    """The gateway path of the confirmation link in `mail` (the test client requests paths, not URLs)."""
    found = CONFIRM_LINK.search(mail.get_content())
    assert found is not None, mail.get_content()
    return f"/transcript/confirm/{found.group(1)}"
