"""What the gateway tells Rasa about a message's sender: a pseudonymous client key always, a phone only where the
channel proved it (SMS). The order look-up counts attempts by the key and tells an order's own phone its status."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from bot.conversation import sender_identity
from common.sender_metadata import CHANNEL_GREETED, CLIENT_KEY, VERIFIED_PHONE
from tests.support.channels import MessengerCustomer, SmsCustomer, channel_app, served, until
from tests.support.gateway import Customer, ScriptedRasa
from tests.support.mock_providers import GraphApi, TwilioApi

SECRET = "test-secret"  # tests/support/app.py's SECRET_KEY


def expected(kind: str, value: str) -> str:
    return hmac.new(SECRET.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def test_the_pseudonym_is_stable_keyed_and_never_the_address() -> None:
    key = sender_identity.pseudonym(SECRET, "ip", "203.0.113.7")
    assert key == sender_identity.pseudonym(SECRET, "ip", "203.0.113.7") == expected("ip", "203.0.113.7")
    assert "203.0.113.7" not in key and len(key) == 64
    assert key != sender_identity.pseudonym("another-secret", "ip", "203.0.113.7")  # nobody can precompute it
    assert key != sender_identity.pseudonym(SECRET, "ip", "203.0.113.8")
    pseudonym = sender_identity.pseudonym
    assert pseudonym(SECRET, "sms", "+49151") != pseudonym(SECRET, "messenger", "+49151")


def test_a_widget_message_carries_the_client_key_of_its_address_and_no_phone(app: Flask, rasa: ScriptedRasa) -> None:
    client = app.test_client()
    first, second = Customer(client), Customer(client)  # two conversations from one address
    first.say("Wo ist Bestellung LG-123456?")
    second.say("Mein Telefon ist +4915112345678")
    assert rasa.metadata == [{CLIENT_KEY: expected("ip", "127.0.0.1"), CHANNEL_GREETED: "widget"}] * 2


def test_a_message_answered_after_an_outage_carries_the_same(app: Flask, rasa: ScriptedRasa) -> None:
    customer = Customer(app.test_client())
    rasa.down = True
    customer.say("Wo ist Bestellung LG-123456?")
    rasa.down = False
    app.extensions["pending"].run_once()
    assert rasa.metadata == [{CLIENT_KEY: expected("ip", "127.0.0.1"), CHANNEL_GREETED: "widget"}]


@pytest.fixture
def channels(tmp_path: Path, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi) -> Iterator[str]:
    with served(channel_app(tmp_path, rasa, graph, twilio)) as url:
        yield url


def test_an_sms_carries_the_verified_phone(channels: str, rasa: ScriptedRasa) -> None:
    SmsCustomer(channels, "+4915112345678").say("Wo ist Bestellung LG-123456?")
    assert rasa.metadata == [{CLIENT_KEY: expected("sms", "+4915112345678"), VERIFIED_PHONE: "+4915112345678"}]


def test_a_messenger_message_carries_no_phone(channels: str, rasa: ScriptedRasa) -> None:
    MessengerCustomer(channels, "2400000000000001").say("Wo ist Bestellung LG-123456? +4915112345678")
    until(lambda: rasa.metadata)
    assert rasa.metadata == [{CLIENT_KEY: expected("messenger", "2400000000000001")}]
