"""Twilio's webhook bodies in the shapes Twilio documents (inbound SMS/MMS, status callbacks, Advanced Opt-Out,
WhatsApp senders), signed as Twilio signs them, against the gateway over real HTTP with the local Twilio
stand-in: what is stored, what is sent (nothing, where nothing must be), what the agent sees."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from bot.channels import twilio_form
from bot.channels.base import FILES_FOR_AGENT
from bot.channels.sms import TEXTS
from bot.customers.identities import AddressKind, channel_address
from bot.db import session_factory
from bot.models import ChannelOptOut, ContactIdentifier, Conversation
from tests.support.channels import (
    ACCOUNT_SID,
    FROM_NUMBER,
    SmsCustomer,
    agent,
    channel_app,
    only_conversation,
    served,
    settled,
    stored,
    twiml_messages,
    until,
)
from tests.support.gateway import ScriptedRasa
from tests.support.mock_providers import TwilioApi

CUSTOMER = "+4915112345678"


@pytest.fixture
def reply_mode() -> str:
    return "twiml"


@pytest.fixture
def app(tmp_path: Path, rasa: ScriptedRasa, graph, twilio: TwilioApi, reply_mode: str) -> Flask:  # type: ignore[no-untyped-def]
    return channel_app(tmp_path, rasa, graph, twilio, SMS_REPLY_MODE=reply_mode, MAX_MESSAGE_CHARS=1000)


@pytest.fixture
def gateway(app: Flask) -> Iterator[str]:
    with served(app) as url:
        yield url


@pytest.fixture
def phone(gateway: str) -> SmsCustomer:
    return SmsCustomer(gateway, CUSTOMER)


def count(app: Flask, model: type) -> int:
    with app.app_context(), session_factory()() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def opted_out(app: Flask, address: str) -> bool:
    with app.app_context(), session_factory()() as session:
        return session.scalar(select(ChannelOptOut.id).where(ChannelOptOut.address == address)) is not None


def status_callback(sid: str, status: str, sender: str = FROM_NUMBER, to: str = CUSTOMER, **extra: str) -> dict:
    """Twilio's status callback for a message we sent (its documented fields)."""
    return {
        "AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "From": sender, "To": to,
        "MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status, **extra,
    }  # fmt: skip


# --- 1. status callbacks and opt-out ---------------------------------------------------------------------------


@pytest.mark.parametrize("reply_mode", ["api"])
def test_status_callbacks_only_update_the_delivery_of_our_message(
    app: Flask, rasa: ScriptedRasa, twilio: TwilioApi, phone: SmsCustomer
) -> None:
    phone.say("Hallo")
    twilio.wait_for(lambda r: twilio.bodies(CUSTOMER) == ["Echo: Hallo"])
    settled(app)
    (reply,) = [m for m in stored(app) if m.direction == "outgoing"]
    sid = reply.provider_message_id
    before = (len(stored(app)), len(twilio.requests), list(rasa.received))
    callbacks = [
        status_callback(sid, "sent"),
        status_callback(sid, "delivered"),  # From: our own number
        status_callback(sid, "delivered", sender=CUSTOMER, to=FROM_NUMBER),  # a proxy swapping From/To
        status_callback("SM" + "f" * 32, "undelivered", ErrorCode="30003"),  # not ours: nothing to update
        {**status_callback("SM" + "e" * 32, "received"), "Body": "", "From": FROM_NUMBER},  # our own number writing
    ]
    for form in callbacks:
        response = phone.post(form)
        assert response.status_code == 200 and twiml_messages(response.text) == []
    settled(app)
    assert (len(stored(app)), len(twilio.requests), rasa.received) == before  # no message, no SMS, no bot
    assert count(app, Conversation) == 1
    assert next(m for m in stored(app) if m.id == reply.id).delivery_status == "delivered"
    phone.post(status_callback(sid, "undelivered", ErrorCode="30005"))
    failed = next(m for m in stored(app) if m.id == reply.id)
    assert (failed.delivery_status, failed.delivery_error) == ("failed", "Twilio: undelivered (Fehlercode 30005)")
    conversation = only_conversation(app)
    page = agent(app).get(f"/agent/conversations/{conversation.id}").get_data(as_text=True)
    assert "nicht zugestellt" in page and "30005" in page


@pytest.mark.parametrize(
    "text",
    ["STOP", "stopall", "Unsubscribe", "cancel", "END", "quit", "REVOKE", "optout", "Stop bitte", "Bitte STOPP!",
     "abmelden.", "STOPP!!"],
)  # fmt: skip
def test_every_opt_out_keyword_opts_out(app: Flask, rasa: ScriptedRasa, phone: SmsCustomer, text: str) -> None:
    assert phone.say(text) == [TEXTS["opted_out"]]
    assert opted_out(app, CUSTOMER) and rasa.received == []
    assert phone.say("Wann kommt mein Paket?") == []  # stored for agents, nothing sent
    assert rasa.received == [] and stored(app)[-1].text == "Wann kommt mein Paket?"


def test_a_keyword_inside_a_sentence_is_no_keyword() -> None:
    assert [twilio_form.keyword(t) for t in ("Bitte nicht stoppen", "Stop the parcel please", "stop, bitte.")] == [
        None,
        None,
        "STOP",
    ]


@pytest.mark.parametrize("reply_mode", ["twiml", "api"])
def test_opt_out_type_is_the_authority_and_nothing_reaches_a_blocked_number(
    app: Flask, rasa: ScriptedRasa, twilio: TwilioApi, phone: SmsCustomer, reply_mode: str
) -> None:
    phone.say("Hallo")
    settled(app)
    sent_before = len(twilio.sent(CUSTOMER))
    # Twilio's Advanced Opt-Out blocked the number already (a custom keyword) and answered itself
    blocked = phone.post(phone.form("Lasst mich in Ruhe", OptOutType="STOP"))
    assert blocked.status_code == 200 and twiml_messages(blocked.text) == []
    assert opted_out(app, CUSTOMER)
    assert phone.say("Noch eine Frage") == []
    conversation = only_conversation(app)
    anna = agent(app)
    rasa.replies = []
    anna.post(f"/agent/conversations/{conversation.id}/take")
    anna.post(f"/agent/conversations/{conversation.id}/messages", {"text": "Hallo, hier Anna."})
    settled(app)
    assert len(twilio.sent(CUSTOMER)) == sent_before  # neither the bot, nor the agent, nor the outbox
    assert rasa.received == [(rasa.received[0][0], "Hallo")]
    assert {m.delivery_status for m in stored(app) if m.id > 2 and m.direction != "incoming"} <= {"opted_out"}
    allowed = phone.post(phone.form("START", OptOutType="START"))
    assert allowed.status_code == 200 and twiml_messages(allowed.text) == []  # Twilio confirmed it itself
    assert not opted_out(app, CUSTOMER)


# --- 2. addresses keep their kind ------------------------------------------------------------------------------


def test_sender_addresses_are_typed_not_squeezed() -> None:
    assert [(a.kind, a.value) for a in map(channel_address, [
        "+49 151 12345678", "whatsapp:+4915112345678", "whatsapp:IN.2081234567890", "33669", "Paket-Info",
    ])] == [
        (AddressKind.PHONE, "+4915112345678"),
        (AddressKind.WHATSAPP_NUMBER, "whatsapp:+4915112345678"),
        (AddressKind.WHATSAPP_USER, "whatsapp:IN.2081234567890"),
        (AddressKind.SHORT_CODE, "33669"),
        (AddressKind.ALPHANUMERIC, "Paket-Info"),
    ]  # fmt: skip


@pytest.mark.parametrize("reply_mode", ["api"])
def test_whatsapp_is_refused_and_short_codes_link_nobody(
    app: Flask, rasa: ScriptedRasa, twilio: TwilioApi, gateway: str, phone: SmsCustomer
) -> None:
    phone.say("Hallo")
    settled(app)
    for sender in ("whatsapp:+4915112345678", "whatsapp:IN.2081234567890"):
        response = SmsCustomer(gateway, sender).post(SmsCustomer(gateway, sender).form("Wo ist LG-123456?"))
        assert response.status_code == 200 and twiml_messages(response.text) == []
    assert count(app, Conversation) == 1 and len(stored(app)) == 2  # nothing merged into the SMS conversation
    short = SmsCustomer(gateway, "33669")
    short.post(short.form("Ihr Code lautet 1234"))
    settled(app)
    with app.app_context(), session_factory()() as session:
        conversation = session.scalars(select(Conversation).where(Conversation.channel_address == "33669")).one()
        identifiers = session.scalars(select(ContactIdentifier)).all()
        assert [(i.value, i.contact_id) for i in identifiers] == [(CUSTOMER, identifiers[0].contact_id)]
        assert conversation.contact_id != identifiers[0].contact_id  # a short code is nobody's phone
    assert [r.form["To"] for r in twilio.accepted()] == [CUSTOMER, "33669"]  # the reply went back to the code
    assert [r[1] for r in rasa.received] == ["Hallo", "Ihr Code lautet 1234"]


# --- 3. MMS media reach the agent --------------------------------------------------------------------------------


def test_mms_media_are_stored_the_text_goes_to_the_bot_the_customer_is_told_once(
    app: Flask, rasa: ScriptedRasa, phone: SmsCustomer
) -> None:
    media = {
        "NumMedia": "2",
        "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        "MediaContentType0": "image/jpeg",
        "MediaUrl1": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2",
        "MediaContentType1": "application/pdf",
    }
    response = phone.post(phone.form("Das Paket kam so an", **media))
    assert twiml_messages(response.text) == ["Echo: Das Paket kam so an", FILES_FOR_AGENT]
    incoming = stored(app)[0]
    assert incoming.text == "Das Paket kam so an"
    assert incoming.payload["attachments"] == [
        {"kind": "image", "url": media["MediaUrl0"], "content_type": "image/jpeg"},
        {"kind": "file", "url": media["MediaUrl1"], "content_type": "application/pdf"},
    ]
    again = phone.post(phone.form("", NumMedia="1", MediaUrl0=media["MediaUrl0"], MediaContentType0="image/png"))
    assert twiml_messages(again.text) == []  # told once per conversation
    assert [r[1] for r in rasa.received] == ["Das Paket kam so an"]
    page = agent(app).get(f"/agent/conversations/{incoming.conversation_id}").get_data(as_text=True)
    assert f"/agent/conversations/{incoming.conversation_id}/messages/{incoming.id}/attachments/0" in page
    assert "api.twilio.com" not in page and "Datei" in page and "application/pdf" in page


def test_a_whatsapp_location_is_read_with_its_coordinates() -> None:
    form = {"Latitude": "52.520008", "Longitude": "13.404954", "Address": "Berlin", "NumMedia": "0"}
    assert twilio_form.media(form) == (
        {"kind": "location", "latitude": 52.520008, "longitude": 13.404954, "address": "Berlin"},
    )


# --- 5. long texts ---------------------------------------------------------------------------------------------


def test_a_text_longer_than_the_gateway_reads_is_kept_whole_and_marked_cut(
    app: Flask, rasa: ScriptedRasa, phone: SmsCustomer
) -> None:
    text = ("Meine Bestellung LG-123456 kam beschädigt an. " * 35).strip()  # 1 609 characters: Twilio's 1 600 limit
    phone.say(text)
    assert len(rasa.received[0][1]) == 1000  # AUSKUNFT_MAX_MESSAGE_CHARS
    incoming = stored(app)[0]
    assert incoming.payload["cut"] == {"length": len(text), "kept": 1000, "full_text": text}
    page = agent(app).get(f"/agent/conversations/{incoming.conversation_id}").get_data(as_text=True)
    assert "gekürzt: der Bot hat die ersten 1000 von" in page and text in page


# --- 7. bodies that do not parse -------------------------------------------------------------------------------


def test_odd_twilio_bodies_are_answered_200_and_never_crash(app: Flask, rasa: ScriptedRasa, phone: SmsCustomer) -> None:
    for extra in (
        {"NumMedia": "abc"},
        {"NumMedia": "3"},  # no MediaUrlN
        {"NumMedia": "1", "MediaUrl0": "javascript:alert(1)"},
        {"Latitude": "x", "Longitude": "13.4"},
        {"OptOutType": "WHATEVER"},
        {"SmsStatus": "", "MessageStatus": ""},
    ):
        response = phone.post(phone.form("Hallo", **extra))
        assert response.status_code == 200, (extra, response.text)
    until(lambda: len(rasa.received) == 6)
    assert all(m.payload is None or "attachments" not in m.payload for m in stored(app))
