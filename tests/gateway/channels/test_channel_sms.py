"""SMS end to end: Twilio's signed form posts over real HTTP into the gateway, replies as TwiML or through a
local Twilio API stand-in (the real `twilio` client pointed at it).

The scripted Rasa checks the channel's logic; one conversation runs against the real Rasa + action server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from bot.channels.base import FILES_FOR_AGENT
from bot.channels.sms import TEXTS
from bot.channels.text import sms_friendly, sms_segments
from bot.conversation import states
from bot.conversation.receive import RASA_DOWN_TEXT
from bot.db import session_factory
from bot.models import ChannelOptOut, ContactIdentifier
from rasa_runtime.processes import Services
from tests.support.channels import (
    ACCOUNT_SID,
    ANSWER_TEXT,
    AUTH_TOKEN,
    FROM_NUMBER,
    HANDOFF_REPLIES,
    MORE_URL,
    PUBLIC_URL,
    SmsCustomer,
    agent,
    answer_replies,
    channel_app,
    handed_to_anna,
    only_conversation,
    real_rasa_app,
    served,
    settled,
    stored,
    twiml_messages,
    until,
)
from tests.support.gateway import ScriptedRasa
from tests.support.mock_providers import GraphApi, TwilioApi, twilio_signature


@pytest.fixture
def reply_mode() -> str:
    return "twiml"


@pytest.fixture
def app(tmp_path: Path, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi, reply_mode: str) -> Flask:
    return channel_app(tmp_path, rasa, graph, twilio, SMS_REPLY_MODE=reply_mode)


@pytest.fixture
def gateway(app: Flask) -> Iterator[str]:
    with served(app) as url:
        yield url


@pytest.fixture
def phone(gateway: str) -> SmsCustomer:
    return SmsCustomer(gateway)


# --- a whole conversation -----------------------------------------------------------------------------------


def test_question_short_answer_no_handoff_agent_reply_give_back(
    app: Flask, rasa: ScriptedRasa, twilio: TwilioApi, phone: SmsCustomer
) -> None:
    rasa.replies = [answer_replies(), HANDOFF_REPLIES]
    answer, feedback = phone.say("Was kostet der Versand?")
    assert answer == "Versand 4,95 €, ab 50 € kostenlos. Express 9,95 €."  # the FAQ's short_answer
    assert feedback == "Hat Ihnen das geholfen?\n1 = Ja\n2 = Nein\nAntworten Sie mit 1 oder 2."

    replies = phone.say("2")  # "Nein"
    assert rasa.received[-1][1] == "/feedback_not_helpful"
    assert stored(app)[-len(replies) - 1].text == "Nein"  # stored as the button's title, as in the widget
    (handoff,) = replies  # one SMS: the bot's reason, then honestly that nobody is online, and what happens next
    assert handoff.startswith("Es tut mir leid, dass ich Ihnen nicht weiterhelfen konnte. Gerade ist leider niemand")
    assert handoff.endswith("\n1 = Hat sich erledigt\nAntworten Sie mit 1.") and sms_segments(handoff) <= 2
    conversation = only_conversation(app)
    assert (conversation.state, conversation.channel, conversation.channel_address) == (
        "waiting_for_agent",
        "sms",
        phone.phone,
    )

    anna = agent(app)
    assert "SMS" in anna.client.get("/agent/").get_data(as_text=True)
    assert "SMS" in anna.client.get(f"/agent/conversations/{conversation.id}").get_data(as_text=True)
    assert anna.post(f"/agent/conversations/{conversation.id}/take").status_code == 200
    reply = anna.post(f"/agent/conversations/{conversation.id}/reply", {"text": "Guten Tag, hier ist Anna."})
    assert reply.status_code == 201
    # an agent's messages go out through the Messages API (no webhook is waiting for them)
    twilio.wait_for(lambda r: "Guten Tag, hier ist Anna." in twilio.bodies())
    assert twilio.bodies() == ["Anna vom Kundenservice ist jetzt im Chat.", "Guten Tag, hier ist Anna."]
    assert all(s["To"] == phone.phone and s["From"] == FROM_NUMBER for s in twilio.sent())

    assert phone.say("Danke, und wann kommt es?") == []  # with the agent: no bot answer, nothing in TwiML
    assert anna.post(f"/agent/conversations/{conversation.id}/give-back").status_code == 200
    twilio.wait_for(lambda r: len(twilio.bodies()) == 3)
    assert twilio.bodies()[-1] == "Anna hat das Gespräch an den digitalen Assistenten zurückgegeben."
    assert phone.say("Wie lange dauert die Lieferung?") == ["Echo: Wie lange dauert die Lieferung?"]
    assert rasa.resumed == [conversation.rasa_sender_id]
    settled(app)
    outgoing = [m for m in stored(app) if m.direction != "incoming"]
    assert {m.delivery_status for m in outgoing} == {"sent"}
    with app.app_context(), session_factory()() as session:
        identifier = session.scalar(select(ContactIdentifier))
        assert (identifier.kind, identifier.value, identifier.verified, identifier.source) == (
            "phone",
            phone.phone,
            True,
            "sms",
        )


@pytest.mark.parametrize("reply_mode", ["api"])
def test_api_reply_mode_answers_through_the_messages_api(
    app: Flask, rasa: ScriptedRasa, twilio: TwilioApi, phone: SmsCustomer
) -> None:
    rasa.replies = [answer_replies()]
    assert phone.say("Was kostet der Versand?") == []  # empty TwiML: the answers go through the API
    twilio.wait_for(lambda r: len(twilio.bodies()) == 2)
    assert twilio.bodies()[0] == "Versand 4,95 €, ab 50 € kostenlos. Express 9,95 €."
    assert twilio.bodies()[1].endswith("Antworten Sie mit 1 oder 2.")
    settled(app)
    assert [m.provider_message_id for m in stored(app) if m.direction == "outgoing"] == [
        f"SM{1:032d}",
        f"SM{2:032d}",
    ]


def test_a_long_answer_without_short_answer_is_cut_to_three_segments_with_a_link(
    rasa: ScriptedRasa, phone: SmsCustomer
) -> None:
    long_answer = " ".join(f"Satz {i} erklärt die **Rückgabe** ausführlich – mit allen Details." for i in range(30))
    rasa.replies = [answer_replies(faq_id="unbekannt", text=long_answer)]
    text, _feedback = phone.say("Rückgabe?")
    assert sms_segments(text) <= 3 and text.endswith(f"Mehr: {MORE_URL}")
    assert text.startswith("Satz 0 erklärt die Rückgabe ausführlich - mit allen Details.")  # GSM-7 dash
    assert "**" not in text and "–" not in text


def test_a_clarification_becomes_numbered_options_and_the_number_chooses(
    app: Flask, rasa: ScriptedRasa, phone: SmsCustomer
) -> None:
    options = [
        {"title": "Wie lange dauert die Lieferung?", "payload": '/choose_faq{"faq_id":"versand-lieferzeit"}'},
        {"title": "Was kostet der Versand?", "payload": '/choose_faq{"faq_id":"versand-kosten"}'},
        {"title": "Nichts davon", "payload": "/none_of_these"},
    ]
    rasa.replies = [[{"text": "Meinten Sie …?", "buttons": options}]]
    (question,) = phone.say("Versand")
    assert question == (
        "Meinten Sie ...?\n1 = Wie lange dauert die Lieferung?\n2 = Was kostet der Versand?\n"
        "3 = Nichts davon\nAntworten Sie mit 1, 2 oder 3."
    )
    assert sms_segments(question) == 1
    phone.say("3")
    assert rasa.received[-1][1] == "/none_of_these"
    phone.say("7")  # no such option: an ordinary text
    assert rasa.received[-1][1] == "7"


def test_an_agents_long_text_is_split_into_several_sms_not_cut(
    app: Flask, rasa: ScriptedRasa, twilio: TwilioApi, phone: SmsCustomer
) -> None:
    conversation, anna = handed_to_anna(app, rasa, phone)
    anna.post(f"/agent/conversations/{conversation.id}/take")
    text = " ".join(f"Punkt {i}: Bitte senden Sie die Ware mit dem beiliegenden Schein zurück." for i in range(12))
    anna.post(f"/agent/conversations/{conversation.id}/reply", {"text": text})
    twilio.wait_for(lambda r: len(twilio.bodies()) >= 3)
    time.sleep(0.2)
    parts = twilio.bodies()[1:]
    assert len(parts) == 2 and all(sms_segments(p) <= 3 for p in parts)
    assert " ".join(parts) == text


class FaqAnswers:
    """The inbox's FAQ lookup (the real one loads the embedding model): the answers of channel_helpers.FAQ."""

    def answer(self, faq_id: str) -> str | None:
        return {"versand-kosten": ANSWER_TEXT + "\n", "versand-lieferzeit": "Wir liefern in **2–3 Werktagen**."}.get(
            faq_id
        )


def test_an_faq_answer_sent_by_the_agent_goes_out_short_and_without_markdown(
    tmp_path: Path, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi
) -> None:
    app = channel_app(tmp_path, rasa, graph, twilio, FAQ_SEARCH=FaqAnswers())
    with served(app) as url:
        conversation, anna = handed_to_anna(app, rasa, SmsCustomer(url))
        anna.post(f"/agent/conversations/{conversation.id}/take")
        assert anna.post(f"/agent/conversations/{conversation.id}/faq", {"faq_id": "versand-kosten"}).status_code == 201
        assert (
            anna.post(f"/agent/conversations/{conversation.id}/faq", {"faq_id": "versand-lieferzeit"}).status_code
            == 201
        )
        twilio.wait_for(lambda r: len(twilio.bodies()) == 3)
    assert twilio.bodies()[1:] == [
        "Versand 4,95 €, ab 50 € kostenlos. Express 9,95 €.",
        "Wir liefern in 2-3 Werktagen.",
    ]


# --- signatures ---------------------------------------------------------------------------------------------


def test_missing_forged_and_stale_signatures_are_403_and_nothing_is_processed(
    app: Flask, rasa: ScriptedRasa, twilio: TwilioApi, phone: SmsCustomer
) -> None:
    form = phone.form("Was kostet der Versand?")
    other = phone.form("Hallo")
    url = f"{PUBLIC_URL}/channels/sms/webhook"
    attempts = {
        "missing": phone.post(form, signature=None),
        "forged": phone.post(form, signature="dGhpcyBpcyBub3QgYSBzaWduYXR1cmU="),
        "wrong token": phone.post(form, signature=twilio_signature("another-token", url, form)),
        "another body's signature": phone.post(form, signature=twilio_signature(AUTH_TOKEN, url, other)),
        "another URL's signature": phone.post(form, signed_url="https://evil.example.com/channels/sms/webhook"),
        "a changed field": phone.post({**form, "Body": "Geändert"}, signature=twilio_signature(AUTH_TOKEN, url, form)),
    }
    assert {name: r.status_code for name, r in attempts.items()} == dict.fromkeys(attempts, 403)
    assert stored(app) == [] and rasa.received == [] and twilio.requests == []


def test_the_signed_url_is_the_public_one_with_its_query(app: Flask, rasa: ScriptedRasa, gateway: str) -> None:
    import requests

    form = SmsCustomer(gateway).form("Hallo")
    public = f"{PUBLIC_URL}/channels/sms/webhook?tenant=shop"
    ok = requests.post(
        f"{gateway}/channels/sms/webhook?tenant=shop",
        data=form,
        headers={"X-Twilio-Signature": twilio_signature(AUTH_TOKEN, public, form)},
    )
    assert ok.status_code == 200 and twiml_messages(ok.text) == ["Echo: Hallo"]
    internal = requests.post(
        f"{gateway}/channels/sms/webhook",
        data=form,
        headers={"X-Twilio-Signature": twilio_signature(AUTH_TOKEN, f"{gateway}/channels/sms/webhook", form)},
    )
    assert internal.status_code == 403  # signed for the internal address, not the public one


# --- redelivery, keywords -----------------------------------------------------------------------------------


def test_a_redelivered_message_sid_is_processed_once(app: Flask, rasa: ScriptedRasa, phone: SmsCustomer) -> None:
    assert phone.say("Hallo", sid="SM" + "a" * 32) == ["Echo: Hallo"]
    assert phone.say("Hallo", sid="SM" + "a" * 32) == []
    assert len(rasa.received) == 1 and len(stored(app)) == 2


def test_stop_opts_out_then_nothing_is_sent_and_start_opts_in(
    app: Flask, rasa: ScriptedRasa, twilio: TwilioApi, phone: SmsCustomer
) -> None:
    assert phone.say("Hallo") == ["Echo: Hallo"]
    assert phone.say("STOP") == [TEXTS["opted_out"]]  # confirmed once
    with app.app_context(), session_factory()() as session:
        assert session.scalars(select(ChannelOptOut.address)).all() == [phone.phone]
    assert phone.say("Noch eine Frage") == []  # kept for the agents, not answered, not sent to the bot
    assert phone.say("stopp") == []  # already out: no second confirmation
    assert [text for _s, text in rasa.received] == ["Hallo"]
    conversation = only_conversation(app)
    anna = agent(app)
    assert anna.post(f"/agent/conversations/{conversation.id}/close").status_code == 200
    settled(app)
    assert twilio.requests == []  # not even the closing note
    closing = stored(app)[-1]
    assert closing.delivery_status == "opted_out"
    page = anna.client.get(f"/agent/conversations/{conversation.id}").get_data(as_text=True)
    assert "abbestellt" in page
    assert phone.say("Start") == [TEXTS["opted_in"]]
    assert phone.say("Hallo again") == ["Echo: Hallo again"]


def test_stop_is_honoured_by_the_api_mode_as_well(
    tmp_path: Path, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi
) -> None:
    app = channel_app(tmp_path, rasa, graph, twilio, SMS_REPLY_MODE="api")
    with served(app) as url:
        phone = SmsCustomer(url)
        phone.say("ABMELDEN")
        twilio.wait_for(lambda r: twilio.bodies() == [TEXTS["opted_out"]])
        phone.say("Hallo?")
        time.sleep(0.3)
        assert twilio.bodies() == [TEXTS["opted_out"]] and rasa.received == []


def test_hilfe_answers_with_the_help_text(rasa: ScriptedRasa, phone: SmsCustomer) -> None:
    assert phone.say("HILFE") == [TEXTS["help"]]
    assert phone.say("help") == [TEXTS["help"]]
    assert rasa.received == []


def test_rasa_down_the_customer_is_told_and_the_conversation_waits_for_an_agent(
    app: Flask, rasa: ScriptedRasa, phone: SmsCustomer
) -> None:
    rasa.down = True
    replies = phone.say("Was kostet der Versand?")
    assert replies[0] == RASA_DOWN_TEXT and replies[1].startswith("Gerade ist leider niemand")
    assert len(replies) == 2 and "beantworte ich" not in replies[1]  # the bot is down: it cannot help meanwhile
    assert only_conversation(app).state == "waiting_for_agent"
    assert stored(app)[0].text == "Was kostet der Versand?"  # kept for the agent


# --- bad input ----------------------------------------------------------------------------------------------


def test_bodies_that_are_not_sms_are_accepted_and_ignored(
    app: Flask, rasa: ScriptedRasa, gateway: str, phone: SmsCustomer
) -> None:
    import requests

    url = f"{PUBLIC_URL}/channels/sms/webhook"
    # a JSON body: no form fields, so the signature covers the URL alone (as Twilio would compute it)
    json_post = requests.post(
        f"{gateway}/channels/sms/webhook",
        data=b'{"Body": "Hallo"}',
        headers={"Content-Type": "application/json", "X-Twilio-Signature": twilio_signature(AUTH_TOKEN, url, {})},
    )
    assert json_post.status_code == 200 and twiml_messages(json_post.text) == []
    status_callback = {"MessageSid": "SM" + "b" * 32, "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID}
    assert phone.post(status_callback).status_code == 200  # a delivery receipt: no From
    assert stored(app) == [] and rasa.received == []


def test_an_mms_without_text_is_kept_for_the_agent(app: Flask, rasa: ScriptedRasa, phone: SmsCustomer) -> None:
    form = phone.form("", NumMedia="1", MediaUrl0="https://api.twilio.com/media/x", MediaContentType0="image/jpeg")
    response = phone.post(form)
    assert response.status_code == 200 and twiml_messages(response.text) == [FILES_FOR_AGENT]
    assert rasa.received == [] and stored(app)[0].text == "[Bild]"
    image = {"kind": "image", "url": "https://api.twilio.com/media/x", "content_type": "image/jpeg"}
    assert stored(app)[0].payload == {"attachments": [image]}


def test_twilio_api_failures_are_retried_and_then_shown_to_agents(
    app: Flask, rasa: ScriptedRasa, twilio: TwilioApi, phone: SmsCustomer
) -> None:
    conversation, anna = handed_to_anna(app, rasa, phone)
    twilio.fail(2, status=500)
    anna.post(f"/agent/conversations/{conversation.id}/take")  # "Anna … ist jetzt im Chat" fails twice, then goes
    twilio.wait_for(lambda r: len(twilio.bodies()) == 1)
    twilio.fail(3, status=503)
    anna.post(f"/agent/conversations/{conversation.id}/reply", {"text": "Sind Sie noch da?"})
    until(lambda: stored(app)[-1].delivery_status == "failed")
    failed = stored(app)[-1]
    assert (failed.text, failed.delivery_status, failed.delivery_attempts) == ("Sind Sie noch da?", "failed", 3)
    assert "Twilio 503" in failed.delivery_error
    assert "nicht zugestellt" in anna.client.get(f"/agent/conversations/{conversation.id}").get_data(as_text=True)


# --- the real Rasa ------------------------------------------------------------------------------------------


@pytest.mark.rasa
def test_full_conversation_with_the_real_rasa(
    tmp_path: Path, rasa_services: Services, graph: GraphApi, twilio: TwilioApi
) -> None:
    app = real_rasa_app(tmp_path, rasa_services, graph, twilio)
    with served(app) as url:
        phone = SmsCustomer(url, phone="+4917099887766")
        replies = phone.say("Was kostet der Versand?")
        assert replies[0].startswith("Standardversand in Deutschland 4,95 €"), replies  # the real short_answer
        assert replies[-1].endswith("Antworten Sie mit 1 oder 2.")
        offer = phone.say("2")  # "Nein"
        assert offer[-1].endswith("Antworten Sie mit 1 oder 2."), offer  # "Soll ich Sie … verbinden?" [Ja, bitte | …]
        handed = phone.say("1")  # "Ja, bitte"
        conversation = only_conversation(app)
        assert conversation.state == "waiting_for_agent", handed
        anna = agent(app)
        assert anna.post(f"/agent/conversations/{conversation.id}/take").status_code == 200
        anna.post(f"/agent/conversations/{conversation.id}/reply", {"text": "Wie kann ich helfen?"})
        twilio.wait_for(lambda r: "Wie kann ich helfen?" in twilio.bodies())
        assert anna.post(f"/agent/conversations/{conversation.id}/give-back").status_code == 200
        again = phone.say("Wie lange dauert die Lieferung?")
        assert again and only_conversation(app).state == "bot", again


# --- while waiting for an agent -------------------------------------------------------------------------------


def test_while_waiting_the_bot_answers_and_1_withdraws(app: Flask, rasa: ScriptedRasa, phone: SmsCustomer) -> None:
    """Nobody online: the honest notice first, then an answer with the note that the request stays open; "1"
    presses the note's button and the customer is back with the bot."""
    rasa.replies = [HANDOFF_REPLIES]
    assert "niemand" in phone.say("Mitarbeiter bitte")[-1]
    rasa.replies = [answer_replies()]
    replies = phone.say("Was kostet der Versand?")
    assert replies[0] == "Versand 4,95 €, ab 50 € kostenlos. Express 9,95 €."
    assert replies[-1].startswith("Ihre Anfrage an unseren Kundenservice bleibt bestehen.")  # „“ become "" in SMS
    assert replies[-1].endswith("1 = Hat sich erledigt\nAntworten Sie mit 1.")
    assert only_conversation(app).state == "waiting_for_agent"
    assert phone.say("1") == [sms_friendly(states.TEXTS["withdrawn"])]
    assert only_conversation(app).state == "bot"


@pytest.mark.rasa
def test_where_is_my_parcel_from_the_orders_phone_needs_only_the_number(
    tmp_path: Path, rasa_services: Services, graph: GraphApi, twilio: TwilioApi
) -> None:
    """Issue 15 by SMS: the order's own phone (the gateway vouches for it) is asked the number only, with the
    tracking FAQ as option 1; the overdue demo order is said plainly and "1" hands it to a person with its reason."""
    app = real_rasa_app(tmp_path, rasa_services, graph, twilio)
    with served(app) as url:
        phone = SmsCustomer(url, phone="+4915112345678")  # the demo order LG-123456's phone
        asked = " ".join(phone.say("Wo ist mein Paket?"))
        assert asked.startswith("Ich sehe gern nach, wo Ihre Bestellung ist. Wie lautet Ihre Bestellnummer")
        assert "Postleitzahl" not in asked and "Meinten Sie" not in asked
        assert "1 = Wie kann ich meine Sendung verfolgen?" in asked and asked.endswith("Antworten Sie mit 1.")
        told = " ".join(phone.say("LG-123456"))
        assert "27.11.2026 angekündigt; das ist leider schon vorbei" in told and "Nachforschungsauftrag" in told
        assert told.endswith("Antworten Sie mit 1 oder 2.")
        phone.say("1")  # "Ja, bitte"
        conversation = only_conversation(app)
        assert conversation.state == "waiting_for_agent" and conversation.handoff_reason == "delivery_overdue"
