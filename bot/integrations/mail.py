"""Mail to a customer through a configured SMTP server (smtplib, no queue): the transcript and its confirmation.

Sending is synchronous and short (one message, a timeout): the customer waits a second and learns at
once whether it worked, instead of a background job failing where nobody sees it.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any


class MailNotConfigured(Exception):
    pass


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    shop_name: str = ""
    """The display name in From (`AUSKUNFT_SHOP_NAME`), next to the address `AUSKUNFT_MAIL_FROM`."""
    user: str = ""
    password: str = ""
    starttls: bool = True
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SmtpSettings:
        """Raises MailNotConfigured without `AUSKUNFT_SMTP_HOST`: the widget then says e-mail is not offered."""
        if not config.get("SMTP_HOST"):
            raise MailNotConfigured
        return cls(
            host=config["SMTP_HOST"],
            port=int(config["SMTP_PORT"]),
            sender=config["MAIL_FROM"],
            shop_name=config.get("SHOP_NAME") or "",
            user=config.get("SMTP_USER") or "",
            password=config.get("SMTP_PASSWORD") or "",
            starttls=bool(config["SMTP_STARTTLS"]),
        )


def build(settings: SmtpSettings, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text mail from the shop's own address. From and Subject are the operator's settings and fixed
    texts only, never a customer's words; no Reply-To, so a reply reaches the shop and nobody else."""
    message = EmailMessage()
    message["From"] = formataddr((settings.shop_name, settings.sender)) if settings.shop_name else settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies back to the shop
    message.set_content(body)  # text/plain: what customers typed stays text, in any mail program
    return message


def send(settings: SmtpSettings, message: EmailMessage) -> None:
    """Raises OSError or smtplib.SMTPException when the server cannot be reached or refuses."""
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.user:
            smtp.login(settings.user, settings.password)
        smtp.send_message(message)
