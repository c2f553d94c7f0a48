"""Messenger end to end: signed webhooks over real HTTP into the gateway, replies to a local Graph API stand-in.

The scripted Rasa checks the channel's logic; one conversation runs against the real Rasa + action server.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from bot.channels.base import FILES_FOR_AGENT
from bot.conversation import states, waiting
from bot.conversation.receive import RASA_DOWN_TEXT
from bot.db import session_factory
from bot.models import ContactIdentifier, Conversation, DeliveryStatus, Message, WebhookReceipt
from rasa_runtime.processes import Services
from tests.support.channels import (
    APP_SECRET,
    HANDOFF_REPLIES,
    VERIFY_TOKEN,
    MessengerCustomer,
    agent,
    answer_replies,
    channel_app,
    handed_to_anna,
    only_conversation,
    real_rasa_app,
    served,
    settled,
    stored,
    until,
)
from tests.support.gateway import ScriptedRasa
from tests.support.mock_providers import GraphApi, TwilioApi, is_message, messenger_signature


@pytest.fixture
def app(tmp_path: Path, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi) -> Flask:
    return channel_app(tmp_path, rasa, graph, twilio)


@pytest.fixture
def gateway(app: Flask) -> Iterator[str]:
    with served(app) as url:
        yield url


@pytest.fixture
def customer(gateway: str) -> MessengerCustomer:
    return MessengerCustomer(gateway)


# --- the verification handshake ---------------------------------------------------------------------------


def test_verification_handshake_echoes_the_challenge_only_for_the_right_token(customer: MessengerCustomer) -> None:
    import requests

    ok = requests.get(
        customer.url, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = requests.get(
        customer.url, params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"}
    )
    assert wrong.status_code == 403 and "1158201444" not in wrong.text
    assert requests.get(customer.url, params={"hub.challenge": "x"}).status_code == 403


# --- a whole conversation -----------------------------------------------------------------------------------


def test_question_answer_no_handoff_agent_reply_give_back(
    app: Flask, rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer
) -> None:
    rasa.replies = [answer_replies(), HANDOFF_REPLIES]
    customer.say("Was kostet der Versand?")
    sent = graph.wait_for(lambda r: sum("message" in x.json for x in r) >= 2)
    answer, feedback = graph.messages()
    # Markdown became plain text; the link stays readable with its address
    assert answer["text"].startswith("Der Standardversand innerhalb Deutschlands kostet 4,95 €")
    assert "**" not in answer["text"] and "Versand (https://shop.example.com/versand)" in answer["text"]
    assert feedback == {
        "text": "Hat Ihnen das geholfen?",
        "quick_replies": [
            {"content_type": "text", "title": "Ja", "payload": "/feedback_helpful"},
            {"content_type": "text", "title": "Nein", "payload": "/feedback_not_helpful"},
        ],
    }
    assert sent[0].json == {"recipient": {"id": customer.psid}, "sender_action": "typing_on"}
    assert all(r.json["recipient"]["id"] == customer.psid for r in sent)
    assert all(r.json.get("messaging_type") == "RESPONSE" for r in sent if "message" in r.json)

    customer.say("Nein", quick_reply="/feedback_not_helpful")
    assert rasa.received[-1][1] == "/feedback_not_helpful"  # the payload, not the title, went to Rasa
    graph.wait_for(lambda r: len([x for x in r if "message" in x.json]) >= 3)
    # one message: the bot's reason, then honestly that nobody is online (no agent logged in yet), what happens next
    (handoff,) = graph.messages()[2:]
    assert handoff["text"].startswith(
        "Es tut mir leid, dass ich Ihnen nicht weiterhelfen konnte. Gerade ist leider niemand aus unserem "
    ) and handoff["text"].endswith("Bis dahin beantworte ich Ihnen gern weitere Fragen.")
    assert [q["title"] for q in handoff["quick_replies"]] == ["Hat sich erledigt"]

    conversation = only_conversation(app)
    assert conversation.state == "waiting_for_agent" and conversation.channel == "messenger"
    assert conversation.channel_address == customer.psid
    anna = agent(app)
    queue = anna.client.get("/agent/").get_data(as_text=True)
    assert "Messenger" in queue  # the agent sees the channel
    page = anna.client.get(f"/agent/conversations/{conversation.id}").get_data(as_text=True)
    assert "Messenger" in page
    assert anna.post(f"/agent/conversations/{conversation.id}/take").status_code == 200
    assert (
        anna.post(
            f"/agent/conversations/{conversation.id}/reply", {"text": "Guten Tag, hier ist Anna. **Hallo**"}
        ).status_code
        == 201
    )
    graph.wait_for(lambda r: "Guten Tag, hier ist Anna. **Hallo**" in graph.texts())
    assert graph.texts()[-2:] == ["Anna vom Kundenservice ist jetzt im Chat.", "Guten Tag, hier ist Anna. **Hallo**"]

    customer.say("Danke, wann kommt das Paket?")  # with the agent: the bot stays silent
    assert rasa.received[-1][1] == "/feedback_not_helpful"
    assert anna.post(f"/agent/conversations/{conversation.id}/give-back").status_code == 200
    graph.wait_for(lambda r: "Anna hat das Gespräch an den digitalen Assistenten zurückgegeben." in graph.texts())
    customer.say("Wie lange dauert die Lieferung?")
    graph.wait_for(lambda r: "Echo: Wie lange dauert die Lieferung?" in graph.texts())
    assert rasa.resumed == [conversation.rasa_sender_id]
    settled(app)
    messages = stored(app)
    assert all(m.delivery_status == DeliveryStatus.SENT for m in messages if m.direction != "incoming")
    assert all(m.provider_message_id for m in messages if m.direction != "incoming")
    with app.app_context(), session_factory()() as session:
        identifier = session.scalar(select(ContactIdentifier))
        assert (identifier.kind, identifier.value, identifier.verified) == ("messenger_psid", customer.psid, True)


def test_the_same_psid_writes_into_its_open_conversation_and_after_close_into_a_new_one(
    app: Flask, graph: GraphApi, customer: MessengerCustomer
) -> None:
    customer.say("Hallo")
    customer.say("Noch etwas")
    first = only_conversation(app)
    anna = agent(app)
    with app.app_context(), session_factory()() as session:
        assert len(session.scalars(select(Message).where(Message.conversation_id == first.id)).all()) == 4
    assert anna.post(f"/agent/conversations/{first.id}/close").status_code == 200
    customer.say("Neue Frage")
    with app.app_context(), session_factory()() as session:
        conversations = session.scalars(select(Conversation).order_by(Conversation.id)).all()
        assert [c.state for c in conversations] == ["closed", "bot"]
        assert conversations[0].contact_id == conversations[1].contact_id  # the same customer


def test_with_the_human_agent_tag_agents_messages_carry_it(
    tmp_path: Path, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi
) -> None:
    app = channel_app(tmp_path, rasa, graph, twilio, MESSENGER_HUMAN_AGENT_TAG=True)
    with served(app) as url:
        conversation, anna = handed_to_anna(app, rasa, MessengerCustomer(url))
        anna.post(f"/agent/conversations/{conversation.id}/take")
        anna.post(f"/agent/conversations/{conversation.id}/reply", {"text": "Hallo, hier ist Anna."})
        sent = graph.wait_for(lambda r: "Hallo, hier ist Anna." in graph.texts())
    kinds = {r.json["message"]["text"]: (r.json["messaging_type"], r.json.get("tag")) for r in sent if is_message(r)}
    (handoff,) = [text for text in kinds if text.startswith("Es tut mir leid, dass ich Ihnen nicht weiterhelfen")]
    assert kinds[handoff] == ("RESPONSE", None)  # the answer to the customer's message, no human's
    assert kinds["Hallo, hier ist Anna."] == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert kinds["Anna vom Kundenservice ist jetzt im Chat."] == ("MESSAGE_TAG", "HUMAN_AGENT")


# --- signatures ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        None,  # missing
        "sha256=" + "0" * 64,  # forged
        "sha1=" + "0" * 40,  # the old header's format
        messenger_signature("not-the-app-secret", b"{}"),
        "",
    ],
)
def test_missing_or_forged_signature_is_403_and_nothing_is_processed(
    app: Flask, rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer, signature: str | None
) -> None:
    response = customer.post(customer.message("Was kostet der Versand?"), signature=signature)
    assert response.status_code == 403
    assert stored(app) == [] and rasa.received == []
    time.sleep(0.2)
    assert graph.requests == []


def test_a_stale_signature_replayed_onto_another_body_is_403(
    app: Flask, rasa: ScriptedRasa, customer: MessengerCustomer
) -> None:
    genuine = json.dumps(customer.message("Hallo")).encode()
    customer.post(genuine)  # delivered once, properly signed
    tampered = genuine.replace(b"Hallo", b"Gib mir alle Daten")
    response = customer.post(tampered, signature=messenger_signature(APP_SECRET, genuine))
    assert response.status_code == 403
    assert [text for _s, text in rasa.received] == ["Hallo"]


# --- redelivery ---------------------------------------------------------------------------------------------


def test_a_redelivered_message_id_is_processed_once(
    app: Flask, rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer
) -> None:
    body = customer.message("Was kostet der Versand?", mid="m_redelivered")
    for _ in range(3):
        assert customer.post(body).status_code == 200
    graph.wait_for(lambda r: len(graph.texts()) >= 1)
    time.sleep(0.3)
    assert rasa.received == [(only_conversation(app).rasa_sender_id, "Was kostet der Versand?")]
    assert graph.texts() == ["Echo: Was kostet der Versand?"]
    with app.app_context(), session_factory()() as session:
        assert session.scalars(select(WebhookReceipt.external_id)).all() == ["m_redelivered"]


def test_redeliveries_arriving_at_the_same_time_are_processed_once(
    app: Flask, rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    body = customer.message("Gleichzeitig", mid="m_race")
    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda _: customer.post(body).status_code, range(6)))
    assert statuses == [200] * 6
    graph.wait_for(lambda r: len(graph.texts()) >= 1)
    time.sleep(0.3)
    assert [text for _s, text in rasa.received] == ["Gleichzeitig"]
    assert [m.text for m in stored(app)] == ["Gleichzeitig", "Echo: Gleichzeitig"]


def test_the_customer_is_told_when_the_bot_has_nothing_to_say(
    rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer
) -> None:
    rasa.replies = [[]]  # no model loaded, an action that failed: an outage, not an answer
    customer.say("…")
    graph.wait_for(lambda r: len(graph.texts()) >= 1)
    assert graph.actions() == ["typing_on"] and graph.texts()[0] == RASA_DOWN_TEXT  # a message ends the typing


# --- buttons, long texts ------------------------------------------------------------------------------------


def test_long_clarification_titles_become_a_numbered_list_and_a_typed_number_chooses(
    app: Flask, rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer
) -> None:
    options = [
        {"title": "Wie lange dauert die Lieferung innerhalb Deutschlands?", "payload": '/choose_faq{"faq_id":"a"}'},
        {"title": "Kann ich meine Lieferadresse nachträglich ändern?", "payload": '/choose_faq{"faq_id":"b"}'},
        {"title": "Nichts davon", "payload": "/none_of_these"},
    ]
    rasa.replies = [[{"text": "Meinten Sie …?", "buttons": options}]]
    customer.say("lieferung")
    (message,) = graph.wait_for(lambda r: len(graph.messages()) == 1) and graph.messages()
    assert message["text"] == (
        "Meinten Sie …?\n\n1. Wie lange dauert die Lieferung innerhalb Deutschlands?\n"
        "2. Kann ich meine Lieferadresse nachträglich ändern?\n3. Nichts davon"
    )
    assert [(q["title"], q["payload"]) for q in message["quick_replies"]] == [
        ("1", '/choose_faq{"faq_id":"a"}'),
        ("2", '/choose_faq{"faq_id":"b"}'),
        ("3", "/none_of_these"),
    ]
    customer.say("2")  # typed instead of tapped
    assert rasa.received[-1][1] == '/choose_faq{"faq_id":"b"}'
    assert stored(app)[-2].text == "Kann ich meine Lieferadresse nachträglich ändern?"


def test_texts_over_2000_characters_are_split_at_paragraphs_with_the_buttons_on_the_last(
    rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer
) -> None:
    paragraphs = [f"Absatz {i}: " + "Lorem ipsum dolor sit amet. " * 25 for i in range(1, 5)]  # ~700 each
    rasa.replies = [[{"text": "\n\n".join(paragraphs), "buttons": [{"title": "Ja", "payload": "/affirm"}]}]]
    customer.say("Erzählen Sie mir alles")
    graph.wait_for(lambda r: len(graph.messages()) >= 2)
    time.sleep(0.2)
    parts = graph.messages()
    assert len(parts) == 2 and all(len(p["text"]) <= 2000 for p in parts)
    assert parts[0]["text"].startswith("Absatz 1") and parts[1]["text"].startswith("Absatz 3")
    assert "quick_replies" not in parts[0] and parts[1]["quick_replies"][0]["title"] == "Ja"
    assert "\n\n".join(p["text"] for p in parts) == "\n\n".join(p.strip() for p in paragraphs)


# --- bad input ----------------------------------------------------------------------------------------------


def test_deliveries_reads_echoes_and_other_objects_are_accepted_and_ignored(
    app: Flask, rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer
) -> None:
    bodies = [
        customer.envelope(customer.item(delivery={"mids": ["m_1"], "watermark": 1})),
        customer.envelope(customer.item(read={"watermark": 1})),
        customer.envelope(customer.item(reaction={"mid": "m_1", "action": "react", "emoji": "👍"})),
        customer.envelope(customer.item(message={"mid": "m_echo", "is_echo": True, "text": "von uns"})),
        {"object": "instagram", "entry": []},
        {"object": "page"},
        {"object": "page", "entry": ["kaputt", {"messaging": "auch kaputt"}]},
        [1, 2, 3],
    ]
    for body in bodies:
        response = customer.post(json.dumps(body).encode())
        assert response.status_code == 200, (body, response.text)
    for raw in (b"not json at all", b"", b"\xff\xfe"):
        assert customer.post(raw).status_code == 200
    time.sleep(0.2)
    assert stored(app) == [] and rasa.received == [] and graph.requests == []


@pytest.mark.parametrize(
    ("message", "label", "attachment"),
    [
        (
            {"attachments": [{"type": "image", "payload": {"url": "https://cdn.example/x.jpg"}}]},
            "[Bild]",
            {"kind": "image", "url": "https://cdn.example/x.jpg"},
        ),
        (
            {
                "sticker_id": 369239263222822,
                "attachments": [
                    {"type": "image", "payload": {"url": "https://cdn.example/s.png", "sticker_id": 369239263222822}}
                ],
            },
            "[Sticker]",
            {"kind": "sticker", "url": "https://cdn.example/s.png"},
        ),
        (
            {"attachments": [{"type": "location", "payload": {"coordinates": {"lat": 52.5, "long": 13.4}}}]},
            "[Standort]",
            {"kind": "location", "latitude": 52.5, "longitude": 13.4},
        ),
        ({"attachments": [{"type": "audio", "payload": {"url": "https://cdn.example/a.mp4"}}]}, "[Audio]",
         {"kind": "audio", "url": "https://cdn.example/a.mp4"}),
    ],
)  # fmt: skip
def test_attachments_stickers_and_locations_are_kept_and_the_customer_told(
    app: Flask, rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer, message: dict, label: str,
    attachment: dict,
) -> None:  # fmt: skip
    body = customer.envelope(customer.item(message={"mid": "m_file", **message}))
    assert customer.post(body).status_code == 200
    graph.wait_for(lambda r: graph.texts() == [FILES_FOR_AGENT])
    assert rasa.received == []
    incoming = stored(app)[0]
    assert (incoming.text, incoming.payload) == (label, {"attachments": [attachment]})


def test_a_postback_sends_its_payload(rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer) -> None:
    body = customer.envelope(customer.item(postback={"mid": "m_pb", "title": "Los geht's", "payload": "/greet"}))
    assert customer.post(body).status_code == 200
    assert rasa.received[-1][1] == "/greet"
    forged = customer.envelope(customer.item(postback={"mid": "m_pb2", "title": "Hallo", "payload": "DROP TABLE"}))
    assert customer.post(forged).status_code == 200
    assert rasa.received[-1][1] == "/greet"  # a payload that is no known intent starts with the greeting


# --- the Graph API failing ----------------------------------------------------------------------------------


def test_graph_api_errors_are_retried_with_backoff_in_order(
    app: Flask, rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer
) -> None:
    graph.fail(2, status=500, when=is_message)
    rasa.replies = [[{"text": "eins"}, {"text": "zwei"}]]
    customer.say("Hallo")
    graph.wait_for(lambda r: graph.texts() == ["eins", "zwei"])
    settled(app)
    failed = [r for r in graph.requests if r.status == 500]
    assert len(failed) == 2
    # the first attempt failed twice; the retries waited (0.05 s, then 0.1 s) and "zwei" did not overtake
    attempts = [r for r in graph.requests if "message" in r.json and r.json["message"]["text"] == "eins"]
    assert len(attempts) == 3 and attempts[2].at - attempts[1].at >= 0.09
    first = next(m for m in stored(app) if m.text == "eins")
    assert (first.delivery_status, first.delivery_attempts) == ("sent", 3)


def test_a_message_that_failed_for_good_does_not_hold_back_the_next(
    app: Flask, rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer
) -> None:
    graph.fail(1, status=400, when=is_message)  # a 4xx: retrying cannot help
    rasa.replies = [[{"text": "eins"}, {"text": "zwei"}]]
    customer.say("Hallo")
    graph.wait_for(lambda r: graph.texts() == ["zwei"])
    settled(app)
    first = next(m for m in stored(app) if m.text == "eins")
    assert (first.delivery_status, first.delivery_attempts) == ("failed", 1)


def test_a_timeout_is_retried(app: Flask, rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer) -> None:
    graph.slow(1, seconds=1.5, when=is_message)  # longer than CHANNEL_TIMEOUT (1 s)
    customer.say("Hallo")
    graph.wait_for(lambda r: graph.texts() == ["Echo: Hallo"], timeout=15)
    assert [r.status for r in graph.requests if is_message(r)] == [504, 200]
    settled(app)
    message = next(m for m in stored(app) if m.text == "Echo: Hallo")
    assert (message.delivery_status, message.delivery_attempts) == ("sent", 2)
    assert message.delivery_error is None


def test_after_the_last_attempt_the_message_is_failed_shown_to_agents_and_can_be_sent_again(
    app: Flask, rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer
) -> None:
    graph.fail(3, status=503, when=is_message)
    customer.say("Hallo")
    until(lambda: any(m.delivery_status == "failed" for m in stored(app)))
    message = next(m for m in stored(app) if m.text == "Echo: Hallo")
    assert (message.delivery_status, message.delivery_attempts) == ("failed", 3)
    assert "Graph API 503" in message.delivery_error
    conversation = only_conversation(app)
    anna = agent(app)
    page = anna.client.get(f"/agent/conversations/{conversation.id}").get_data(as_text=True)
    assert "nicht zugestellt" in page and "Graph API 503" in page
    queue = anna.client.get("/agent/").get_data(as_text=True)
    assert "Nicht zugestellt" in queue and f"Gespräch {conversation.id}" in queue and "Echo: Hallo" in queue
    polled = anna.client.get(f"/agent/conversations/{conversation.id}/messages").json["messages"]
    assert [m["delivery"]["status"] for m in polled if m["text"] == "Echo: Hallo"] == ["failed"]
    retry = anna.client.post(
        f"/agent/conversations/{conversation.id}/messages/{message.id}/retry", data={"csrf_token": anna.csrf}
    )
    assert retry.status_code == 303
    graph.wait_for(lambda r: graph.texts() == ["Echo: Hallo"])
    settled(app)
    assert [m.delivery_status for m in stored(app) if m.text == "Echo: Hallo"] == ["sent"]
    again = anna.client.post(
        f"/agent/conversations/{conversation.id}/messages/{message.id}/retry", data={"csrf_token": anna.csrf}
    )
    assert again.status_code == 409


def test_a_wrong_page_token_fails_at_once_without_retries(
    tmp_path: Path, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi
) -> None:
    app = channel_app(tmp_path, rasa, graph, twilio, MESSENGER_PAGE_TOKEN="expired-token")
    with served(app) as url:
        MessengerCustomer(url).say("Hallo")
        until(lambda: any(m.delivery_status == "failed" for m in stored(app)))
    message = next(m for m in stored(app) if m.text == "Echo: Hallo")
    assert (message.delivery_status, message.delivery_attempts) == ("failed", 1)
    assert "OAuthException" in message.delivery_error


def test_without_secrets_the_webhook_is_off(
    tmp_path: Path, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi
) -> None:
    app = channel_app(tmp_path, rasa, graph, twilio, MESSENGER_APP_SECRET="", TWILIO_AUTH_TOKEN="")
    client = app.test_client()
    response = client.post("/channels/messenger/webhook", data=b"{}", headers={"X-Hub-Signature-256": "x"})
    assert response.status_code == 404 and "nicht eingerichtet" in response.get_data(as_text=True)
    assert client.get("/channels/messenger/webhook?hub.mode=subscribe").status_code == 404
    assert client.post("/channels/sms/webhook", data={"From": "+491"}).status_code == 404
    assert "outbox" in app.extensions and app.extensions["outbox"]._thread is None  # nothing to push: no thread


def test_the_sending_thread_starts_with_the_first_request_not_with_the_app(
    tmp_path: Path, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi
) -> None:
    app = channel_app(tmp_path, rasa, graph, twilio)  # what `flask --app bot create-agent` builds, too
    outbox = app.extensions["outbox"]
    assert outbox._thread is None
    app.test_client().get("/channels/messenger/webhook?hub.mode=subscribe")
    assert outbox._thread is not None and outbox._thread.is_alive()
    outbox.stop()
    assert not outbox._thread.is_alive()


# --- the real Rasa ------------------------------------------------------------------------------------------


@pytest.mark.rasa
def test_full_conversation_with_the_real_rasa(
    tmp_path: Path, rasa_services: Services, graph: GraphApi, twilio: TwilioApi
) -> None:
    app = real_rasa_app(tmp_path, rasa_services, graph, twilio)
    with served(app) as url:
        customer = MessengerCustomer(url, psid="2400000000000099")
        customer.say("Was kostet der Versand?")
        graph.wait_for(lambda r: any("quick_replies" in m for m in graph.messages()), timeout=60)
        assert "4,95" in graph.texts()[0] and "**" not in graph.texts()[0]
        assert [q["title"] for q in graph.messages()[-1]["quick_replies"]] == ["Ja", "Nein"]
        customer.say("Nein", quick_reply="/feedback_not_helpful")
        customer.say("Ich möchte mit einem Mitarbeiter sprechen")
        conversation = only_conversation(app)
        assert conversation.state == "waiting_for_agent", graph.texts()
        graph.wait_for(lambda r: any("Kundenservice" in t for t in graph.texts()[2:]), timeout=30)
        anna = agent(app)
        assert anna.post(f"/agent/conversations/{conversation.id}/take").status_code == 200
        assert (
            anna.post(f"/agent/conversations/{conversation.id}/reply", {"text": "Wie kann ich helfen?"}).status_code
            == 201
        )
        graph.wait_for(lambda r: "Wie kann ich helfen?" in graph.texts())
        assert anna.post(f"/agent/conversations/{conversation.id}/give-back").status_code == 200
        count = len(graph.texts())
        customer.say("Wie lange dauert die Lieferung?")
        graph.wait_for(lambda r: len(graph.texts()) > count + 1, timeout=60)
        assert only_conversation(app).state == "bot"


# --- while waiting for an agent -------------------------------------------------------------------------------


def test_while_waiting_an_unclear_message_is_acknowledged_and_the_quick_reply_withdraws(
    app: Flask, rasa: ScriptedRasa, graph: GraphApi, customer: MessengerCustomer
) -> None:
    """Nobody online (the channels' test gateway is always open): the acknowledgement says so."""
    rasa.replies = [HANDOFF_REPLIES, [{"text": "Das habe ich nicht verstanden."}]]
    customer.say("Mitarbeiter")
    customer.say("und sonst so")
    graph.wait_for(lambda r: waiting.TEXTS["noted_unstaffed"] in graph.texts())
    (acknowledgement,) = [m for m in graph.messages() if m["text"] == waiting.TEXTS["noted_unstaffed"]]
    assert acknowledgement["quick_replies"][0]["payload"] == waiting.WITHDRAW_INTENT
    assert "Das habe ich nicht verstanden." not in graph.texts()
    assert "„und sonst so“" in only_conversation(app).handoff["summary"]
    customer.say("Hat sich erledigt", quick_reply=waiting.WITHDRAW_INTENT)
    graph.wait_for(lambda r: states.TEXTS["withdrawn"] in graph.texts())
    assert only_conversation(app).state == "bot"


@pytest.mark.rasa
def test_where_is_my_parcel_leads_to_the_order_look_up_and_an_overdue_delivery_to_a_person(
    tmp_path: Path, rasa_services: Services, graph: GraphApi, twilio: TwilioApi
) -> None:
    """Issue 15 on Messenger: the number and the postcode asked at once, the tracking FAQ as a quick reply; the demo
    order LG-123456 was due on 27.11.2026, so the answer says so and offers the Nachforschung by a person."""
    app = real_rasa_app(tmp_path, rasa_services, graph, twilio)
    with served(app) as url:
        customer = MessengerCustomer(url, psid="2400000000000150")
        customer.say("Wo ist mein Paket?")
        graph.wait_for(lambda r: len(graph.messages()) >= 1, timeout=60)
        (asked,) = graph.messages()
        assert asked["text"].startswith("Ich sehe gern nach, wo Ihre Bestellung ist.")
        assert "Bestellnummer" in asked["text"] and "Postleitzahl der Lieferadresse" in asked["text"]
        assert asked["text"].endswith("1. Wie kann ich meine Sendung verfolgen?")  # too long for a quick reply title
        assert [q["payload"] for q in asked["quick_replies"]] == ['/choose_faq{"faq_id":"versand-sendungsverfolgung"}']
        assert "Meinten Sie" not in asked["text"]

        customer.say("LG-123456 / 10115")
        graph.wait_for(lambda r: any("quick_replies" in m for m in graph.messages()[1:]), timeout=60)
        told = " ".join(graph.texts()[1:])
        assert "27.11.2026 angekündigt; das ist leider schon vorbei" in told and "Nachforschungsauftrag" in told
        customer.say("Ja, bitte", quick_reply="/affirm")
        until(lambda: only_conversation(app).state == "waiting_for_agent", timeout=60)
        conversation = only_conversation(app)
        assert conversation.state == "waiting_for_agent" and conversation.handoff_reason == "delivery_overdue"
