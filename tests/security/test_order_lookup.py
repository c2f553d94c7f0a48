"""Order data only for its owner, probed like an attacker would, on the real Rasa and action server (issue 13).

An order number is six digits anyone can guess: the status comes only after the delivery postcode or the order's
e-mail address, or to the order's own phone when the channel proved it (an SMS). Unknown number and wrong factor
read the same; guessing the factor is throttled per conversation and per client. Every conversation here is new
(its own sender id) and every client key random, so no test spends another's attempts.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actions import orders
from common.sender_metadata import CLIENT_KEY, VERIFIED_PHONE
from rasa_runtime.processes import Services
from tests.support.channels import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    GRAPH_VERSION,
    PAGE_TOKEN,
    SmsCustomer,
    real_rasa_app,
    served,
)
from tests.support.mock_providers import GraphApi, TwilioApi
from tests.support.rest_chat import Chat, buttons, texts

pytestmark = pytest.mark.rasa

ASK_FACTOR = "Zur Sicherheit: Wie lautet die Postleitzahl der Lieferadresse oder die E-Mail-Adresse Ihrer Bestellung?"
OWNER_PHONE = "+4915112345678"  # the demo order LG-123456's phone (actions/orders.py DEMO_ORDERS)
GUESSES = ["LG-123456", "LG-234567", "LG-345678", "LG-456789", "LG-567890", "LG-100000", "LG-999999", "LG-424242"]
LEAKS = [*orders.STATUS_TEXT.values(), "dhl.de", "DHL", "Sendung verfolgen", "Zustellung"]
DATE = re.compile(r"\d{2}\.\d{2}\.\d{4}|\d{4}-\d{2}-\d{2}")


def client() -> dict[str, Any]:
    """A client the limits have not seen (what the gateway sends: a pseudonym of its address)."""
    return {CLIENT_KEY: uuid.uuid4().hex}


def leaked(replies: list[dict[str, Any]]) -> list[str]:
    text = texts(replies)
    return [part for part in LEAKS if part in text] + DATE.findall(text)


@pytest.fixture
def rasa_url(rasa_services: Services) -> str:
    return rasa_services.settings.rasa_url


def test_guessed_numbers_without_a_second_factor_reveal_nothing(rasa_url: str) -> None:
    """Known or not, the number step answers the same question: it says nothing about whether the order exists."""
    asked = set()
    for number in GUESSES:
        for question in (f"Wo ist Bestellung {number}?", "Wo ist meine Bestellung?"):
            chat = Chat(rasa_url)
            replies = chat.say(question, client())
            if "Bestellnummer" in texts(replies):  # asked for the number first
                replies = chat.say(number, client())
            assert not leaked(replies), (number, replies)
            asked.add(texts(replies))
    assert asked == {ASK_FACTOR}


def test_unknown_number_and_wrong_postcode_get_one_identical_answer(rasa_url: str) -> None:
    answers = []
    for number, postcode in (("LG-999999", "10115"), ("LG-123456", "99999"), ("LG-123456", "80331")):
        chat = Chat(rasa_url)
        assert texts(chat.say(f"Wo ist Bestellung {number}?", client())) == ASK_FACTOR
        replies = chat.say(postcode, client())
        assert not leaked(replies), replies
        answers.append(texts(replies))
    wrong_email = Chat(rasa_url)
    wrong_email.say("Wo ist Bestellung LG-123456?", client())
    answers.append(texts(wrong_email.say("max.muster@example.org", client())))  # another order's address
    assert set(answers) == {orders.NOT_FOUND_TEXT}


def test_the_right_postcode_tells_the_status(rasa_url: str) -> None:
    chat = Chat(rasa_url)
    assert texts(chat.say("Wo ist Bestellung LG-123456?", client())) == ASK_FACTOR
    replies = texts(chat.say("PLZ 10 115", client()))
    assert "ist unterwegs mit DHL" in replies and "27.11.2026" in replies and "dhl.de" in replies


def test_the_right_email_tells_the_status(rasa_url: str) -> None:
    chat = Chat(rasa_url)
    assert "Bestellnummer" in texts(chat.say("Wo ist meine Bestellung?", client()))
    assert texts(chat.say("lg 345678", client())) == ASK_FACTOR
    assert "wurde zugestellt" in texts(chat.say("  Lena.Schmidt@Example.ORG ", client()))


def test_a_verified_sms_owner_hears_the_status_without_being_asked(rasa_url: str) -> None:
    owner = Chat(rasa_url)
    replies = owner.say("Wo ist Bestellung LG-123456?", {**client(), VERIFIED_PHONE: OWNER_PHONE})
    assert "ist unterwegs mit DHL" in texts(replies) and ASK_FACTOR not in texts(replies)

    # another verified phone is asked like anyone (and then proves it with the postcode)
    stranger = Chat(rasa_url)
    replies = stranger.say("Wo ist Bestellung LG-123456?", {**client(), VERIFIED_PHONE: "+4917099887766"})
    assert texts(replies) == ASK_FACTOR
    assert "ist unterwegs" in texts(stranger.say("10115", {**client(), VERIFIED_PHONE: "+4917099887766"}))

    # the phone only counts as the gateway's word in the metadata, not typed by the customer
    typed = Chat(rasa_url)
    assert texts(typed.say(f"Wo ist Bestellung LG-123456? Meine Nummer ist {OWNER_PHONE}", client())) == ASK_FACTOR


@pytest.fixture
def providers() -> Iterator[tuple[GraphApi, TwilioApi]]:
    """Facebook's and Twilio's APIs as local servers (the gateway's channels need both configured)."""
    graph, twilio = GraphApi(PAGE_TOKEN, GRAPH_VERSION), TwilioApi(ACCOUNT_SID, AUTH_TOKEN)
    yield graph, twilio
    graph.close()
    twilio.close()


def test_through_the_gateway_the_sms_owner_is_told_and_another_phone_asked(
    tmp_path: Path, rasa_services: Services, providers: tuple[GraphApi, TwilioApi]
) -> None:
    """The gateway's metadata reaches the action server through Rasa 3.6's REST channel."""
    app = real_rasa_app(tmp_path, rasa_services, *providers)
    with served(app) as url:
        assert "ist unterwegs mit DHL" in " ".join(SmsCustomer(url, OWNER_PHONE).say("Wo ist Bestellung LG-123456?"))
        other = " ".join(SmsCustomer(url, "+4917099887766").say("Wo ist Bestellung LG-123456?"))
        # the question, then the tracking FAQ as option 1 (issue 15); nothing about the order
        assert other.startswith(ASK_FACTOR) and other.endswith("Antworten Sie mit 1."), other
        assert "unterwegs" not in other and "27.11" not in other


def test_brute_forcing_postcodes_is_throttled(rasa_url: str) -> None:
    """Three wrong postcodes in a conversation (the default limit), then even the right one is not checked."""
    chat = Chat(rasa_url)
    key = client()
    for attempt, postcode in enumerate(("10116", "10117", "10118"), 1):
        chat.say("Wo ist Bestellung LG-123456?", key)
        replies = chat.say(postcode, key)
        assert texts(replies).startswith(orders.NOT_FOUND_TEXT)
        if attempt == 3:  # the last attempt allowed: a human is offered
            assert [b["payload"] for b in buttons(replies)] == ["/affirm", "/deny"]
        else:
            assert not buttons(replies)
    chat.say("Wo ist Bestellung LG-123456?", key)
    replies = chat.say("10115", key)
    assert texts(replies).startswith(orders.THROTTLED_TEXT), replies
    assert "Kundenservice" in texts(replies) and [b["payload"] for b in buttons(replies)] == ["/affirm", "/deny"]
    assert not leaked(replies)


def test_new_conversations_gain_nothing_against_the_per_client_limit(rasa_url: str) -> None:
    """Ten look-ups per client and hour (the default), whichever conversation they come from."""
    key = client()
    for _ in range(10):
        chat = Chat(rasa_url)
        chat.say("Wo ist Bestellung LG-234567?", key)
        assert "ist verpackt" in texts(chat.say("80331", key))
    chat = Chat(rasa_url)
    chat.say("Wo ist Bestellung LG-234567?", key)
    replies = chat.say("80331", key)
    assert texts(replies).startswith(orders.THROTTLED_TEXT) and not leaked(replies)
    other = Chat(rasa_url)  # another client is not affected
    other.say("Wo ist Bestellung LG-234567?", client())
    assert "ist verpackt" in texts(other.say("80331", client()))
