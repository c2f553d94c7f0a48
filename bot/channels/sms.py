"""SMS through Twilio: the inbound webhook (`X-Twilio-Signature`, checked with twilio's `RequestValidator`),
replies as TwiML in the webhook's response or through the Messages API (`AUSKUNFT_SMS_REPLY_MODE`).

An FAQ answer goes out as the entry's `short_answer`; any other long text is cut to three SMS segments with a
link (`AUSKUNFT_SMS_MORE_URL`), an agent's text is split into several SMS instead. Buttons become numbered
options ("Antworten Sie mit 1, 2 oder 3"); a reply "2" presses the second (`inbound.numbered_choice`).
STOP/START/HILFE are answered as carriers expect; an opted-out number gets nothing more.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import requests
from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels import delivery, inbound, twilio_form
from bot.channels.base import Channel, DeliveryError, Inbound, buttons_of, is_markdown
from bot.channels.short_answers import ShortAnswers
from bot.channels.text import fit_sms, is_gsm, markdown_to_plain, sms_friendly, split_text
from bot.channels.twilio_form import OPT_IN, OPT_OUT
from bot.conversation import states
from bot.customers import identities
from bot.db import get_session
from bot.models import (
    ChannelOptOut,
    Conversation,
    DeliveryStatus,
    Direction,
    IdentifierKind,
    Message,
    Sender,
)

NAME = "sms"
LABEL = "SMS"
MAX_SEGMENTS = 3
TEXTS = {
    "opted_out": "Sie sind abgemeldet und erhalten keine SMS mehr von uns. Mit START melden Sie sich wieder an.",
    "opted_in": "Sie sind wieder angemeldet. Schreiben Sie uns einfach Ihre Frage.",
    "help": "Kundenservice per SMS: Schreiben Sie Ihre Frage, unser digitaler Assistent antwortet. "
    'Mit "Mitarbeiter" erreichen Sie einen Menschen. STOP zum Abmelden, START zum Anmelden.',
}
SID = re.compile(r"^(SM|MM)[0-9a-f]{32}$")
STATUSES = {
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "failed": DeliveryStatus.FAILED,
    "undelivered": DeliveryStatus.FAILED,
}
"""The callback statuses that change what agents see; queued/sending/sent add nothing to our `sent`."""
REFUSED = {
    identities.AddressKind.WHATSAPP_NUMBER: "WhatsApp über Twilio ist nicht eingerichtet",
    identities.AddressKind.WHATSAPP_USER: "WhatsApp über Twilio ist nicht eingerichtet",
    identities.AddressKind.OTHER: "weder Telefonnummer, Kurzwahl noch Absendername",
}
log = logging.getLogger("auskunft.sms")
bp = Blueprint("sms", __name__, url_prefix="/channels/sms")


def options_text(buttons: list[dict[str, Any]]) -> str:
    """`1 = Ja` / `2 = Nein` / `Antworten Sie mit 1 oder 2.`"""
    lines = [f"{i} = {_short(str(b['title']))}" for i, b in enumerate(buttons, 1)]
    numbers = [str(i) for i in range(1, len(buttons) + 1)]
    choice = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " oder " + numbers[-1]
    return "\n" + "\n".join(lines) + f"\nAntworten Sie mit {choice}."


def _short(title: str, limit: int = 60) -> str:
    return title if len(title) <= limit else title[: limit - 3].rstrip() + "..."


class Sms(Channel):
    name = NAME
    label = LABEL
    identifier = IdentifierKind.PHONE

    def __init__(self, config: dict[str, Any]) -> None:
        self.account_sid: str = config["TWILIO_ACCOUNT_SID"]
        self.auth_token: str = config["TWILIO_AUTH_TOKEN"]
        self.from_number: str = config.get("TWILIO_FROM_NUMBER") or ""
        self.messaging_service_sid: str = config.get("TWILIO_MESSAGING_SERVICE_SID") or ""
        self.reply_mode: str = config.get("SMS_REPLY_MODE") or "twiml"
        if self.reply_mode not in ("twiml", "api"):
            raise ValueError(f"AUSKUNFT_SMS_REPLY_MODE must be 'twiml' or 'api', not {self.reply_mode!r}")
        self.public_url: str = config.get("PUBLIC_URL") or ""
        self.more_url: str = config.get("SMS_MORE_URL") or ""
        self.validator = RequestValidator(self.auth_token)
        self.client = Client(
            self.account_sid, self.auth_token, http_client=TwilioHttpClient(timeout=config["CHANNEL_TIMEOUT"])
        )
        # twilio builds every URL from its domain's base_url; pointing it elsewhere (a test stand-in, a proxy)
        # is supported by setting it, the rest of the client stays as it is
        self.client.api.base_url = config.get("TWILIO_API_URL") or "https://api.twilio.com"
        self.short_answers = ShortAnswers(Path(config["FAQ_DIR"]))

    def signed_url(self) -> str:
        """The URL Twilio signed: the public one (behind a reverse proxy the gateway sees another)."""
        query = request.query_string.decode()
        if self.public_url:
            return self.public_url + request.path + (f"?{query}" if query else "")
        return request.url

    def signature_ok(self) -> bool:
        signature = request.headers.get("X-Twilio-Signature")
        return bool(signature) and self.validator.validate(self.signed_url(), request.form, signature)

    def render(self, session: Session, message: Message) -> list[str]:
        """The SMS bodies (each at most three segments) for one stored message."""
        buttons = buttons_of(message)
        suffix = sms_friendly(options_text(buttons)) if buttons else ""
        if (entry := self.short_answers.entry_for(session, message)) is not None and entry.short_answer:
            return [fit_sms(sms_friendly(markdown_to_plain(entry.short_answer)), MAX_SEGMENTS, self.more_url, suffix)]
        if message.sender == Sender.AGENT:  # what a person wrote is never cut: several SMS instead
            text = sms_friendly(markdown_to_plain(message.text) if is_markdown(message) else message.text.strip())
            return split_text(text, 440 if is_gsm(text) else 200) or [""]  # 3 × 153 septets, 3 × 67 UCS-2
        text = sms_friendly(markdown_to_plain(message.text) if is_markdown(message) else message.text.strip())
        return [fit_sms(text, MAX_SEGMENTS, self.more_url, suffix).strip()]

    def media_auth(self, url: str) -> tuple[str, str] | None:
        """Twilio's media URLs may require the account's Basic auth; no other host gets the credentials."""
        api = str(self.client.api.base_url).rstrip("/")
        return (self.account_sid, self.auth_token) if url.startswith(api + "/") else None

    def blocked(self, session: Session, conversation: Conversation, message: Message) -> bool:
        return not (message.payload or {}).get("sms_keyword") and opted_out(session, str(conversation.channel_address))

    def send(self, session: Session, conversation: Conversation, message: Message) -> str | None:
        sender = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": self.from_number}
        )
        sids = []
        for body in self.render(session, message):
            try:
                sent = self.client.messages.create(to=conversation.channel_address, body=body, **sender)
            except TwilioRestException as error:
                permanent = 400 <= error.status < 500 and error.status != 429
                raise DeliveryError(f"Twilio {error.status}: {error.msg}", permanent) from error
            except (TwilioException, requests.RequestException) as error:
                raise DeliveryError(f"Twilio nicht erreichbar: {error}") from error
            sids.append(str(sent.sid))
        return ",".join(sids)[:200] or None


def opted_out(session: Session, address: str) -> bool:
    return (
        session.scalar(select(ChannelOptOut.id).where(ChannelOptOut.channel == NAME, ChannelOptOut.address == address))
        is not None
    )


def from_config(config: dict[str, Any]) -> Sms | None:
    if not (config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN")):
        return None
    return Sms(config)


def configured() -> Sms:
    channel = current_app.extensions["channels"].get(NAME)
    if channel is None:
        abort(404, "SMS ist hier nicht eingerichtet (AUSKUNFT_TWILIO_ACCOUNT_SID und _AUTH_TOKEN fehlen)")
    return channel


def twiml(bodies: list[str]) -> Response:
    response = MessagingResponse()
    for body in bodies:
        response.message(body)
    return Response(str(response), mimetype="text/xml")


@bp.post("/webhook")
def webhook():  # type: ignore[no-untyped-def]
    """Verified first (403 otherwise); anything Twilio sends that is not a usable SMS is answered with an
    empty TwiML response (200), so Twilio does not report errors or retry."""
    channel = configured()
    if not channel.signature_ok():
        abort(403, "Signatur fehlt oder stimmt nicht")
    form = request.form
    session = get_session()
    if twilio_form.is_status_callback(form, {channel.from_number} - {""}):
        record_status(session, form)  # a report on one of ours: never a conversation, never a reply
        return twiml([])
    sender, sid = form.get("From", "").strip(), form.get("MessageSid") or form.get("SmsSid")
    if not sender or not sid:
        log.info("sms webhook without sender or MessageSid ignored")
        return twiml([])
    typed = identities.channel_address(sender)
    if typed.kind in REFUSED:
        log.warning("sms webhook from a %s address refused (MessageSid %s): %s", typed.kind, sid, REFUSED[typed.kind])
        return twiml([])
    address = typed.value
    text = form.get("Body", "")
    event = Inbound(
        address, sid, text, attachments=twilio_form.media(form), linkable=typed.kind == identities.AddressKind.PHONE
    )
    outbox = current_app.extensions["outbox"]
    with outbox.hold(NAME, address), inbound.address_lock(NAME, address):
        authority = twilio_form.opt_out_type(form)
        if authority or (keyword := twilio_form.keyword(text)):
            conversation = handle_keyword(session, channel, event, authority or keyword, answer=authority is None)
        elif opted_out(session, address):
            conversation = store_silently(session, channel, event)
        else:
            conversation, _new = inbound.handle_locked(session, channel, event)
        if channel.reply_mode != "twiml" or conversation is None:
            return twiml([])
        return twiml(take_pending(session, channel, conversation))


def take_pending(session: Session, channel: Sms, conversation: Conversation) -> list[str]:
    """The conversation's pending messages as this response's TwiML (the outbox is held off meanwhile)."""
    bodies: list[str] = []
    pending = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.delivery_status == DeliveryStatus.PENDING)
        .order_by(Message.id)
    ).all()
    for message in pending:
        if not delivery.claim(session, message):
            break  # an outbox is sending it right now: the later ones follow it through the outbox, in order
        if channel.blocked(session, conversation, message):
            message.delivery_status = DeliveryStatus.OPTED_OUT
            continue
        bodies.extend(channel.render(session, message))
        message.delivery_status = DeliveryStatus.SENT
        message.provider_message_id = "twiml"
        message.delivery_attempts += 1
    session.commit()
    return bodies


def record_status(session: Session, form: Any) -> None:
    """A status callback: the delivery status of our outgoing message with that `MessageSid`, nothing else."""
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not SID.match(sid) or status not in STATUSES:
        log.info("sms status callback %r for %r ignored", status, sid)
        return
    message = session.scalar(
        select(Message).where(Message.provider_message_id.contains(sid, autoescape=True)).limit(1)
    )
    if message is None or message.delivery_status not in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED):
        return
    if STATUSES[status] == DeliveryStatus.FAILED:
        message.delivery_error = f"Twilio: {status} (Fehlercode {form.get('ErrorCode') or '–'})"
    message.delivery_status = STATUSES[status]
    session.commit()
    current_app.extensions["hub"].notify(message.conversation_id)


def handle_keyword(
    session: Session, channel: Sms, event: Inbound, keyword: str, answer: bool = True
) -> Conversation | None:
    """STOP/START/HILFE: stored in the conversation (agents see it), answered once, never sent to the bot.
    Without `answer` Twilio's Advanced Opt-Out has acted and answered already (`OptOutType`): recorded only."""
    if inbound.is_redelivery(session, NAME, event.external_id):
        return None
    conversation = inbound.conversation_for(session, channel, event, None)
    states.add_message(session, conversation, Direction.INCOMING, Sender.CONTACT, event.text.strip())
    reply: str | None
    if keyword in OPT_OUT:
        already = opted_out(session, event.address)
        if not already:
            session.add(ChannelOptOut(channel=NAME, address=event.address))
        reply = None if already else "opted_out"  # confirmed once; a second STOP gets nothing
    elif keyword in OPT_IN:
        session.execute(
            delete(ChannelOptOut).where(ChannelOptOut.channel == NAME, ChannelOptOut.address == event.address)
        )
        reply = "opted_in"
    else:
        reply = "help"
    if reply is not None and answer:
        states.add_message(
            session, conversation, Direction.OUTGOING, Sender.BOT, TEXTS[reply], {"sms_keyword": keyword.lower()}
        )
    try:
        session.commit()
    except IntegrityError:  # two STOPs at once: the other one answered
        session.rollback()
        return None
    current_app.extensions["hub"].notify(conversation.id)
    return conversation


def store_silently(session: Session, channel: Sms, event: Inbound) -> Conversation | None:
    """An opted-out number writes: kept for the agents, no answer (the carrier would block it anyway)."""
    if inbound.is_redelivery(session, NAME, event.external_id):
        return None
    conversation = inbound.conversation_for(session, channel, event, None)
    files = {"attachments": list(event.attachments)} if event.attachments else None
    states.add_message(session, conversation, Direction.INCOMING, Sender.CONTACT, event.text.strip() or "[MMS]", files)
    session.commit()
    current_app.extensions["hub"].notify(conversation.id)
    return conversation
