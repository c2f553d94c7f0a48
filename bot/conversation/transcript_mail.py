"""The customer's transcript by e-mail, only to an address the customer proved (double opt-in), under a daily cap.

A widget conversation costs nothing, so a transcript sent to whatever address is typed would let anyone send the
shop's mail, with his own words in it (a phishing link), to any stranger (issue 13). So:

- An address proven for this customer (`confirmed_addresses`) gets the transcript at once.
- Any other address first gets a confirmation mail of fixed text only — no customer text, no transcript — with a
  signed link that expires (`TOKEN_MAX_AGE`). The link's page sends the transcript only on its button (a POST):
  mail scanners fetch links, and a GET must change nothing. Each link works once.
- Every mail counts against the gateway's daily cap (`mail_cap`), confirmations and transcripts alike.
- Subjects are fixed ("Ihr Chatverlauf mit <shop>"); the customer's words appear only in a transcript's plain-text
  body, and only once the mailbox's owner asked for it.

The web layer (`bot.web.widget_api`, `bot.web.mail_confirm`) turns `MailRefused` into its status and message.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from flask import Flask
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session, sessionmaker

from bot.conversation import states, transcript
from bot.customers import confirmed_addresses
from bot.integrations import mail, mail_cap
from bot.models import Conversation, Message

log = logging.getLogger("auskunft.gateway")

TOKEN_MAX_AGE = 24 * 3600
"""Seconds a confirmation link stays valid."""
SALT = "auskunft.transcript-mail-confirmation"
"""Keeps these signatures apart from anything else signed with the app's secret key (the session cookie)."""
CONFIRM_PATH = "/transcript/confirm/"

SUBJECT = "Ihr Chatverlauf mit {shop}"
CONFIRMATION_BODY = """Guten Tag,

im Chat auf unserer Website wurde der Gesprächsverlauf an diese E-Mail-Adresse angefordert. Bitte bestätigen Sie
über den folgenden Link, dass dies Ihre Adresse ist – dann senden wir Ihnen den Verlauf:

{link}

Der Link ist 24 Stunden gültig. Wenn Sie nichts angefordert haben, müssen Sie nichts tun: Ohne Ihre Bestätigung
senden wir Ihnen nichts weiter.

Ihr Kundenservice
"""
"""Fixed text: the link is built from `AUSKUNFT_PUBLIC_URL` and a signature, nothing a customer typed."""
TRANSCRIPT_INTRO = (
    "Guten Tag,\n\nhier ist der Verlauf Ihres Chats mit unserem Kundenservice (Uhrzeiten in deutscher Zeit).\n"
)


class MailRefused(Exception):
    """Nothing was sent; `status` and the German `message` say why, `reason` names it for the widget."""

    def __init__(self, status: int, message: str, reason: str) -> None:
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason


NOT_CONFIGURED = (503, "der Versand per E-Mail ist hier nicht eingerichtet", "not_configured")
DAILY_CAP = (
    503,
    "Heute können wir leider keine weiteren E-Mails verschicken. Bitte versuchen Sie es morgen noch einmal.",
    "daily_cap",
)
SEND_FAILED = (502, "die E-Mail konnte gerade nicht verschickt werden; bitte später noch einmal versuchen", "failed")
TOO_MANY_TRANSCRIPTS = (429, "der Verlauf wurde schon mehrmals verschickt", "too_many")
TOO_MANY_CONFIRMATIONS = (429, "für dieses Gespräch wurden schon mehrere Bestätigungen verschickt", "too_many")


@dataclass(frozen=True)
class Outbox:
    """What sending needs: the settings, the database (for the daily cap), the time, the key links are signed with."""

    config: Mapping[str, Any]
    sessions: sessionmaker[Session]
    now: datetime
    secret_key: str

    @classmethod
    def of(cls, app: Flask) -> Outbox:
        """The app's settings, database and clock (now)."""
        return cls(app.config, app.extensions["db_sessions"], app.extensions["clock"](), app.secret_key or "")

    @property
    def max_per_conversation(self) -> int:
        return int(self.config["MAX_TRANSCRIPT_MAILS"])

    def smtp(self) -> mail.SmtpSettings:
        try:
            return mail.SmtpSettings.from_config(self.config)
        except mail.MailNotConfigured:
            raise MailRefused(*NOT_CONFIGURED) from None

    def subject(self) -> str:
        return SUBJECT.format(shop=self.config["SHOP_NAME"])

    def send(self, message: EmailMessage) -> None:
        """Within the daily cap (`MailRefused` beyond it, and a warning for the operator) and the SMTP server's
        will (`MailRefused` 502); a refused mail does not count."""
        day = mail_cap.today(self.now)
        cap = int(self.config["MAIL_DAILY_CAP"])
        if not mail_cap.reserve(self.sessions, day, cap):
            log.warning(
                "daily mail cap reached: %d mails sent for customers on %s (AUSKUNFT_MAIL_DAILY_CAP); refused one",
                cap,
                day.isoformat(),
            )
            raise MailRefused(*DAILY_CAP)
        try:
            mail.send(self.smtp(), message)
        except (OSError, smtplib.SMTPException):
            mail_cap.release(self.sessions, day)
            log.exception("a customer mail could not be sent")
            raise MailRefused(*SEND_FAILED) from None


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation link carries, signed: the conversation, the address, and a nonce making it single-use."""

    conversation_id: int
    email: str
    nonce: str


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def sign(secret_key: str, confirmation: Confirmation) -> str:
    return _serializer(secret_key).dumps([confirmation.conversation_id, confirmation.email, confirmation.nonce])


def read(secret_key: str, token: str) -> Confirmation | None:
    """The link's content, or None when forged, altered or older than `TOKEN_MAX_AGE`."""
    try:
        conversation_id, email, nonce = _serializer(secret_key).loads(token, max_age=TOKEN_MAX_AGE)
    except (BadSignature, ValueError, TypeError):
        return None
    return Confirmation(int(conversation_id), str(email), str(nonce))


def _count(messages: list[Message], key: str) -> int:
    return sum(1 for m in messages if (m.payload or {}).get(key))


def used(messages: list[Message], nonce: str) -> bool:
    """The link with this nonce already sent its transcript."""
    return any((m.payload or {}).get("confirmation") == nonce for m in messages)


def request(session: Session, conversation: Conversation, email: str, outbox: Outbox) -> tuple[Message, bool]:
    """The customer asked for the transcript at `email`: sent at once to a proven address, else a confirmation
    mail goes there. Returns the note for the conversation (committed) and whether the transcript went out."""
    smtp = outbox.smtp()
    messages = states.messages_after(session, conversation.id, 0)
    if _count(messages, "transcript_sent") >= outbox.max_per_conversation:
        raise MailRefused(*TOO_MANY_TRANSCRIPTS)
    if confirmed_addresses.is_confirmed(session, conversation, email):
        return deliver(session, conversation, email, None, outbox), True
    if _count(messages, "confirmation_sent") >= outbox.max_per_conversation:
        raise MailRefused(*TOO_MANY_CONFIRMATIONS)
    public_url = outbox.config.get("PUBLIC_URL") or ""
    if not public_url:
        # the link must not take its host from the request: a forged Host header would put the attacker's
        # site into the shop's mail
        log.warning("confirmation mails need AUSKUNFT_PUBLIC_URL (the link's address); transcript mail refused")
        raise MailRefused(*NOT_CONFIGURED)
    confirmation = Confirmation(conversation.id, email, secrets.token_urlsafe(12))
    link = public_url + CONFIRM_PATH + sign(outbox.secret_key, confirmation)
    session.commit()  # no transaction open while the mail goes out
    outbox.send(mail.build(smtp, email, outbox.subject(), CONFIRMATION_BODY.format(link=link)))
    note = states.system_note(session, conversation, "confirmation_sent")
    note.payload = {"confirmation_sent": True}
    session.commit()
    return note, False


def deliver(session: Session, conversation: Conversation, email: str, nonce: str | None, outbox: Outbox) -> Message:
    """The transcript to a proven address (`nonce`: the confirmation link that proves it now, which is used up);
    returns the note for the conversation (committed)."""
    smtp = outbox.smtp()
    messages = states.messages_after(session, conversation.id, 0)
    if _count(messages, "transcript_sent") >= outbox.max_per_conversation:
        raise MailRefused(*TOO_MANY_TRANSCRIPTS)
    body = TRANSCRIPT_INTRO + "\n" + transcript.for_customer(messages)
    session.commit()
    outbox.send(mail.build(smtp, email, outbox.subject(), body))
    if nonce is not None:
        confirmed_addresses.confirm(session, conversation, email)
    elif not conversation.contact.email:
        conversation.contact.email = email
    note = states.system_note(session, conversation, "transcript_sent", email=email)
    note.payload = {"transcript_sent": True, **({"confirmation": nonce} if nonce else {})}
    session.commit()
    return note
