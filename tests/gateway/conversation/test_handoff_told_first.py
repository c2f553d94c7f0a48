"""Around a handoff the customer is told first, honestly and in one message, whether someone is there and what
happens next — in the widget, on Messenger and by SMS (scripted Rasa, fixed clock).

Staffed: the queue position. Closed or nobody online: that nobody is there, how the answer comes, that the bot
still answers meanwhile; never "Einen Moment bitte" or "ein Mitarbeiter meldet sich". The bot's own text (a short
reason, none when the customer asked for a person) opens that message. The withdraw button and (widget) the
contact form come with it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bot.channels.text import sms_friendly, sms_segments
from bot.conversation import availability, states, waiting
from bot.conversation.receive import RASA_DOWN_TEXT
from tests.support.bot_replies import HANDOFF, handed_off
from tests.support.channels import (
    MessengerCustomer,
    SmsCustomer,
    agent,
    channel_app,
    only_conversation,
    served,
    settled,
)
from tests.support.gateway import Customer, ScriptedRasa
from tests.support.mock_providers import GraphApi, TwilioApi

BERLIN = availability.BERLIN
MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=BERLIN)
SUNDAY_NOON = datetime(2026, 11, 29, 12, 0, tzinfo=BERLIN)
HOURS = "Mo–Fr 08:00–20:00 Uhr, Sa 09:00–16:00 Uhr"
STILL_HELPS = "Bis dahin beantworte ich Ihnen gern weitere Fragen."
PROMISES = ("Moment", "meldet sich", "verbinde", "gleich")
STAFFED = (
    "Sie sind auf Platz 1 der Warteschlange unseres Kundenservice; ein Mitarbeiter meldet sich hier im Chat. "
    + STILL_HELPS
)
CLOSED_WEB = (
    f"Unser Kundenservice ist leider gerade nicht besetzt (Servicezeiten: {HOURS}). Ihre Anfrage bleibt "
    "gespeichert, und sobald das Team wieder da ist, antworten wir Ihnen hier. Wenn Sie möchten, hinterlassen Sie "
    "uns Ihre E-Mail-Adresse oder Telefonnummer, dann melden wir uns dort. " + STILL_HELPS
)
NOBODY_WEB = (
    "Gerade ist leider niemand aus unserem Kundenservice erreichbar. Ihre Anfrage bleibt gespeichert, und sobald "
    "jemand frei ist, antworten wir Ihnen hier. Wenn Sie möchten, hinterlassen Sie uns Ihre E-Mail-Adresse oder "
    "Telefonnummer, dann melden wir uns dort. " + STILL_HELPS
)
CLOSED_REACHABLE = (
    f"Unser Kundenservice ist leider gerade nicht besetzt (Servicezeiten: {HOURS}). Ihre Anfrage bleibt "
    "gespeichert; wir antworten Ihnen hier, sobald das Team wieder da ist. " + STILL_HELPS
)
NOBODY_REACHABLE = (
    "Gerade ist leider niemand aus unserem Kundenservice erreichbar. Ihre Anfrage bleibt gespeichert; wir "
    "antworten Ihnen hier, sobald jemand frei ist. " + STILL_HELPS
)
SITUATIONS = ["staffed", "closed", "nobody_online"]


def situation(app: Flask, which: str) -> None:
    """Fix the clock (Monday noon, or Sunday for `closed`) and log an agent in unless nobody is to be online."""
    moment = SUNDAY_NOON if which == "closed" else MONDAY_NOON
    app.extensions["clock"] = lambda: moment
    if which != "nobody_online":
        agent(app)  # seen now; on Sunday still nobody can take over


# --- the widget ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("which", "expected", "contact_form"),
    [("staffed", STAFFED, False), ("closed", CLOSED_WEB, True), ("nobody_online", NOBODY_WEB, True)],
)
def test_widget_one_message_after_the_request_says_who_is_there(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa, which: str, expected: str, contact_form: bool
) -> None:
    situation(app, which)
    rasa.replies.append(HANDOFF)  # the real bot sends no text of its own when a person was asked for
    customer = Customer(client)
    reply = customer.say("Ich möchte mit einem Mitarbeiter sprechen")
    assert reply["state"] == "waiting_for_agent"
    request, told = reply["messages"]
    assert request["sender"] == "contact" and told["sender"] == "system"
    assert told["text"] == expected
    assert told["buttons"] == [waiting.WITHDRAW_BUTTON]
    assert told.get("contact_form", False) is contact_form
    if which != "staffed":
        assert not any(p in told["text"] for p in PROMISES)
    assert customer.transcript()["messages"] == reply["messages"]  # nothing else was stored for the customer

    with app.app_context():  # the queue entry is as before: reason, payload, one note for analytics
        conversation = only_conversation(app)
        assert conversation.handoff_reason == "requested" and conversation.handoff["candidates"]

    if contact_form:
        left = client.post(f"{customer.base}/contact", json={"email": "kunde@example.de"})
        assert left.status_code == 201 and left.json["state"] == "waiting_for_agent"
    withdrawn = customer.say("Hat sich erledigt", waiting.WITHDRAW_INTENT)
    assert withdrawn["state"] == "bot" and withdrawn["messages"][-1]["text"] == states.TEXTS["withdrawn"]


@pytest.mark.parametrize(("which", "status"), [("staffed", STAFFED), ("closed", CLOSED_WEB)])
def test_widget_the_bots_reason_opens_the_same_message(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa, which: str, status: str
) -> None:
    situation(app, which)
    rasa.replies.append(handed_off("Wie wird das Wetter morgen?", [("versand-kosten", 0.31)]))
    reply = Customer(client).say("Wie wird das Wetter morgen?")
    assert [m["text"] for m in reply["messages"]] == [
        "Wie wird das Wetter morgen?",
        "Darauf habe ich leider keine sichere Antwort. " + status,
    ]


@pytest.mark.parametrize("which", ["staffed", "closed"])
def test_widget_rasa_down_the_outage_then_who_is_there_without_promising_the_bots_help(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa, which: str
) -> None:
    situation(app, which)
    rasa.down = True
    reply = Customer(client).say("Hallo?")
    assert reply["state"] == "waiting_for_agent"
    _, down, told = reply["messages"]
    assert down["sender"] == "bot" and down["text"] == RASA_DOWN_TEXT
    assert told["sender"] == "system" and STILL_HELPS not in told["text"]  # the bot cannot help: it is down
    if which == "staffed":
        assert told["text"] == STAFFED.removesuffix(" " + STILL_HELPS)
    else:
        assert told["text"] == CLOSED_WEB.removesuffix(" " + STILL_HELPS) and told["contact_form"] is True


# --- SMS and Messenger -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("which", "expected"),
    [("staffed", STAFFED), ("closed", CLOSED_REACHABLE), ("nobody_online", NOBODY_REACHABLE)],
)
def test_sms_one_short_message_says_who_is_there(
    tmp_path: Path, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi, which: str, expected: str
) -> None:
    app = channel_app(tmp_path, rasa, graph, twilio, BUSINESS_HOURS=availability.DEFAULT_HOURS)
    situation(app, which)
    rasa.replies = [HANDOFF]
    with served(app) as url:
        phone = SmsCustomer(url)
        (told,) = phone.say("Mitarbeiter")  # one SMS, in the webhook's answer
        assert told == sms_friendly(expected) + "\n1 = Hat sich erledigt\nAntworten Sie mit 1."
        assert sms_segments(told) <= 2 and "E-Mail" not in told  # the answer comes by SMS: no address asked
        assert only_conversation(app).state == "waiting_for_agent"
        assert phone.say("1") == [sms_friendly(states.TEXTS["withdrawn"])]  # the withdraw button still works
        settled(app)
    assert twilio.bodies() == []  # nothing more went out through the API


@pytest.mark.parametrize(
    ("which", "expected"),
    [("staffed", STAFFED), ("closed", CLOSED_REACHABLE), ("nobody_online", NOBODY_REACHABLE)],
)
def test_messenger_one_message_says_who_is_there(
    tmp_path: Path, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi, which: str, expected: str
) -> None:
    app = channel_app(tmp_path, rasa, graph, twilio, BUSINESS_HOURS=availability.DEFAULT_HOURS)
    situation(app, which)
    rasa.replies = [HANDOFF]
    with served(app) as url:
        MessengerCustomer(url).say("Mitarbeiter")
        graph.wait_for(lambda r: len(graph.messages()) >= 1)
        settled(app)
    (told,) = graph.messages()
    assert told["text"] == expected
    assert told["quick_replies"] == [
        {"content_type": "text", "title": "Hat sich erledigt", "payload": waiting.WITHDRAW_INTENT}
    ]
