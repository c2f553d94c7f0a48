"""Messenger webhook bodies in the shapes Meta documents (attachments, postbacks, echoes from the Page Inbox,
long texts) and a few it does not send, signed with the app secret, against the gateway over real HTTP with
the local Graph API and media stand-ins: what is stored, what is sent, what the agent sees."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from bot.channels.base import FILES_FOR_AGENT, TEXT_ONLY
from bot.channels.page_inbox import NOTE
from tests.support.channels import (
    PAGE_ID,
    MessengerCustomer,
    agent,
    channel_app,
    only_conversation,
    served,
    settled,
    stored,
)
from tests.support.gateway import ScriptedRasa
from tests.support.mock_providers import PNG, GraphApi, MediaHost, TwilioApi

APP_ID = "555000111"
PAGE_INBOX_APP_ID = "263902037430900"  # Meta's Page Inbox / Business Suite


@pytest.fixture
def app(tmp_path: Path, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi) -> Flask:
    return channel_app(tmp_path, rasa, graph, twilio, MESSENGER_APP_ID=APP_ID)


@pytest.fixture
def gateway(app: Flask) -> Iterator[str]:
    with served(app) as url:
        yield url


@pytest.fixture
def customer(gateway: str) -> MessengerCustomer:
    return MessengerCustomer(gateway)


@pytest.fixture
def media() -> Iterator[MediaHost]:
    host = MediaHost()
    yield host
    host.close()


# --- 3. attachments ------------------------------------------------------------------------------------------


def test_every_attachment_is_stored_the_text_answered_images_shown_through_the_gateway(
    app: Flask, rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer, gateway: str, media: MediaHost
) -> None:
    photo = f"{media.url}/scontent/parcel.png"
    message = {
        "text": "So kam das Paket an",
        "attachments": [
            {"type": "image", "payload": {"url": photo}},
            {"type": "file", "payload": {"url": f"{media.url}/lieferschein.pdf"}},
            {"type": "location", "payload": {"coordinates": {"lat": 48.137, "long": 11.575}}},
        ],
    }
    assert customer.post(customer.message(**message)).status_code == 200
    graph.wait_for(lambda r: graph.texts() == ["Echo: So kam das Paket an", FILES_FOR_AGENT])
    customer.post(customer.message(attachments=[{"type": "video", "payload": {"url": f"{media.url}/v.mp4"}}]))
    settled(app)
    assert graph.texts() == ["Echo: So kam das Paket an", FILES_FOR_AGENT]  # told once
    assert [r[1] for r in rasa.received] == ["So kam das Paket an"]
    first = stored(app)[0]
    assert first.payload["attachments"] == [
        {"kind": "image", "url": photo},
        {"kind": "file", "url": f"{media.url}/lieferschein.pdf"},
        {"kind": "location", "latitude": 48.137, "longitude": 11.575},
    ]
    assert [m.text for m in stored(app) if m.direction == "incoming"] == ["So kam das Paket an", "[Video]"]
    thumbnail = f"/agent/conversations/{first.conversation_id}/messages/{first.id}/attachments/0"
    assert requests.get(gateway + thumbnail, timeout=10, allow_redirects=False).status_code in (302, 401, 403)
    assert media.requests == []  # nobody logged in: the provider is not even asked
    anna = agent(app)
    page = anna.get(f"/agent/conversations/{first.conversation_id}").get_data(as_text=True)
    assert f'src="{thumbnail}"' in page and photo not in page and "Standort: 48.137, 11.575" in page
    (live,) = [m for m in anna.get(f"/agent/conversations/{first.conversation_id}/messages").json["messages"]
               if m["id"] == first.id]  # fmt: skip
    assert [a.get("src") for a in live["attachments"]] == [thumbnail, None, None]  # the inbox's live updates
    assert photo not in json.dumps(live)
    image = anna.get(thumbnail)
    assert (image.status_code, image.mimetype, image.data) == (200, "image/png", PNG)
    assert media.requests == [("/scontent/parcel.png", None)]  # no credentials to Meta's CDN
    assert anna.get(thumbnail.replace("/0", "/1")).status_code == 404  # a PDF is no image to inline


# --- 4. postbacks ----------------------------------------------------------------------------------------------


def test_postbacks_that_are_no_intent_start_with_the_greeting_and_are_processed_once(
    app: Flask, rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer
) -> None:
    started = customer.item(postback={"title": "Los geht's", "payload": "GET_STARTED"})
    assert customer.post(customer.envelope(started)).status_code == 200
    titleless = customer.item(postback={"payload": "SOMMER_AKTION_2025"})  # an old campaign button, no title, no mid
    for _ in range(2):  # redelivered
        assert customer.post(customer.envelope(titleless)).status_code == 200
    goodbye = customer.item(postback={"title": "Tschüss", "payload": "/goodbye"})  # a known intent stays itself
    customer.post(customer.envelope(goodbye))
    settled(app)
    assert [r[1] for r in rasa.received] == ["/greet", "/greet", "/goodbye"]
    incoming = [m for m in stored(app) if m.direction == "incoming"]
    assert [(m.text, {k: v for k, v in m.payload.items() if k != "rasa_metadata"}) for m in incoming] == [
        ("Los geht's", {"intent": "/greet"}),
        ("SOMMER_AKTION_2025", {"intent": "/greet"}),
        ("Tschüss", {"intent": "/goodbye"}),
    ]
    assert TEXT_ONLY not in graph.texts()


# --- 5. long texts ---------------------------------------------------------------------------------------------


def test_a_long_messenger_text_within_the_limit_reaches_the_bot_whole(
    rasa: ScriptedRasa, customer: MessengerCustomer
) -> None:
    text = "Ich habe eine lange Frage zu meiner Rücksendung. " * 40  # ~2 000 characters, under 4 000
    customer.say(text)
    assert rasa.received[0][1] == text.strip()


# --- 6. replies from Meta's Page Inbox ---------------------------------------------------------------------------


def echo(customer: MessengerCustomer, text: str, app_id: str, mid: str) -> dict:
    """What Meta sends when the page sent a message: sender = the page, recipient = the customer."""
    item = {
        "sender": {"id": PAGE_ID},
        "recipient": {"id": customer.psid},
        "timestamp": int(time.time() * 1000),
        "message": {"is_echo": True, "app_id": int(app_id), "mid": mid, "text": text},
    }
    return customer.envelope(item)


def test_page_inbox_replies_are_agent_messages_and_pause_the_bot_our_echoes_are_ignored(
    app: Flask, rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer
) -> None:
    customer.say("Hallo")
    graph.wait_for(lambda r: graph.texts() == ["Echo: Hallo"])
    assert customer.post(echo(customer, "Echo: Hallo", APP_ID, "m_ours")).status_code == 200
    assert len(stored(app)) == 2  # our own echo: nothing new
    for _ in range(2):  # redelivered once
        assert customer.post(echo(customer, "Hallo, hier ist Maria vom Team.", PAGE_INBOX_APP_ID, "m_maria")).ok
    customer.say("Danke Maria")
    settled(app)
    assert [r[1] for r in rasa.received] == ["Hallo"]  # the bot is paused
    assert graph.texts() == ["Echo: Hallo"]  # Maria's reply was sent by Meta already; nothing sent again
    texts = [(m.sender, m.text, m.delivery_status) for m in stored(app)]
    assert texts[2:] == [
        ("agent", "Hallo, hier ist Maria vom Team.", "sent"),
        ("system", NOTE, None),
        ("contact", "Danke Maria", None),
    ]
    conversation = only_conversation(app)
    assert (conversation.state, conversation.handoff_reason) == ("waiting_for_agent", "page_inbox")
    page = agent(app).get(f"/agent/conversations/{conversation.id}").get_data(as_text=True)
    assert "Hallo, hier ist Maria vom Team." in page and "Danke Maria" in page


# --- 7. bodies that do not parse -------------------------------------------------------------------------------


def test_signed_bodies_of_another_shape_are_200_with_nothing_processed(
    app: Flask, rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer
) -> None:
    def one(item: object) -> dict:
        return {"object": "page", "entry": [{"id": PAGE_ID, "messaging": [item]}]}

    me = {"id": customer.psid}
    where = {"coordinates": "52,13"}
    echo_item = {"sender": {"id": PAGE_ID}, "message": {"is_echo": True, "app_id": {"x": 1}, "text": 5}}
    bodies = [
        one({"sender": customer.psid, "message": {"mid": "m1", "text": "Hallo"}}),  # sender as a string
        one({"sender": me, "message": {"mid": "m2", "attachments": {"type": "image"}}}),  # attachments as an object
        one({"sender": me, "message": {"mid": "m3", "attachments": [{"type": "image", "payload": "x"}]}}),
        one({"sender": me, "message": {"mid": "m4", "attachments": [{"type": "location", "payload": where}]}}),
        one({"sender": me, "postback": {"payload": {"a": 1}, "title": ["x"]}}),
        one({"sender": {"id": PAGE_ID}, "recipient": "x", "message": {"is_echo": True, "app_id": 1}}),
        one({**echo_item, "recipient": me}),
        {"object": "page", "entry": "x"},
        {"object": "page", "entry": [{"messaging": {"sender": me}}]},
        [1, 2, 3],
    ]  # fmt: skip
    for body in bodies:
        response = customer.post(json.dumps(body).encode())
        assert response.status_code == 200, (body, response.text)
    settled(app)
    assert ([m.text for m in stored(app)], rasa.received, graph.requests) == ([], [], [])
