"""The transcript to the customer's e-mail address, through a real SMTP conversation with a local aiosmtpd sink.

A new address confirms first (double opt-in, tests/security/test_transcript_mail.py probes it as an attacker
would); here the customer's journey: ask, confirm in the mail, get the transcript, ask again and get it at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.support.bot_replies import HANDOFF
from tests.support.gateway import Customer, ScriptedRasa, conversation_id
from tests.support.net import free_port
from tests.support.smtp import Inbox, confirmation_path, smtp_server

ASKED = (
    "Wir haben Ihnen eine E-Mail geschickt. Bitte bestätigen Sie darin Ihre Adresse – dann senden wir Ihnen den "
    "Verlauf."
)


@pytest.fixture
def smtp(app: Flask) -> Iterator[Inbox]:
    with smtp_server() as inbox:
        app.config.update(inbox.settings)
        yield inbox


def test_customer_gets_the_transcript_by_email(
    app: Flask, customer: Customer, rasa: ScriptedRasa, smtp: Inbox, make_agent
) -> None:  # type: ignore[no-untyped-def]
    rasa.replies.append(HANDOFF)
    customer.say("Ich will einen Menschen")
    agent = make_agent()
    cid = conversation_id(app, customer.token)
    assert agent.post(f"/agent/conversations/{cid}/take").status_code == 200
    assert agent.post(f"/agent/conversations/{cid}/reply", {"text": "Hallo, hier Anna."}).status_code == 201

    asked = customer.client.post(f"{customer.base}/transcript", json={"email": "kunde@example.de"})
    assert asked.status_code == 202, asked.json
    assert asked.json["messages"][0]["text"] == ASKED
    (confirmation,) = smtp.mails()
    assert app.test_client().post(confirmation_path(confirmation)).status_code == 200

    assert len(smtp.envelopes) == 2
    envelope = smtp.envelopes[1]
    assert envelope.mail_from == "shop@example.de" and envelope.rcpt_tos == ["kunde@example.de"]
    mail = smtp.mails()[1]
    assert mail["Subject"] == "Ihr Chatverlauf mit Lindgrün"
    body = mail.get_content()
    assert "Sie: Ich will einen Menschen" in body and "Kundenservice (Anna): Hallo, hier Anna." in body
    assert "versand-kosten" not in body and "0.42" not in body  # the bot's candidates stay internal
    notes = [m["text"] for m in customer.transcript()["messages"]]
    assert notes[-2:] == [ASKED, "Wir haben Ihnen den Gesprächsverlauf an kunde@example.de geschickt."]
    # the address is kept and proven: a second copy needs no address and no confirmation
    assert customer.client.post(f"{customer.base}/transcript").status_code == 201
    assert len(smtp.envelopes) == 3 and smtp.envelopes[2].rcpt_tos == ["kunde@example.de"]
    export = agent.client.get(f"/agent/conversations/{cid}/transcript.json").json
    assert export["contact"]["email"] == "kunde@example.de"


def test_mail_limits_and_errors(app: Flask, client, customer: Customer, smtp: Inbox) -> None:  # type: ignore[no-untyped-def]
    customer.say("Hallo")
    url = f"{customer.base}/transcript"
    assert client.post(url).status_code == 400  # no address known yet
    assert client.post(url, json={"email": "kein-mail"}).status_code == 400
    assert client.post(url, json={"email": "a@b.de\r\nBcc: x@y.de"}).status_code == 400
    for _ in range(3):  # a lost confirmation mail may be asked for again, three times per conversation
        assert client.post(url, json={"email": "a@b.de"}).status_code == 202
    limited = client.post(url, json={"email": "a@b.de"})
    assert limited.status_code == 429 and "error" in limited.json
    assert len(smtp.envelopes) == 3


def test_at_most_three_transcripts_per_conversation(app: Flask, client, customer: Customer, smtp: Inbox) -> None:  # type: ignore[no-untyped-def]
    customer.say("Hallo")
    url = f"{customer.base}/transcript"
    assert client.post(url, json={"email": "a@b.de"}).status_code == 202
    assert client.post(confirmation_path(smtp.mails()[0])).status_code == 200
    assert [client.post(url).status_code for _ in range(3)] == [201, 201, 429]
    assert len(smtp.envelopes) == 4  # the confirmation and three transcripts


def test_mail_not_configured_or_server_down(app: Flask, client, customer: Customer) -> None:  # type: ignore[no-untyped-def]
    url = f"{customer.base}/transcript"
    assert client.post(url, json={"email": "a@b.de"}).status_code == 503
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False)
    not_public = client.post(url, json={"email": "a@b.de"})  # no AUSKUNFT_PUBLIC_URL: no link to put in the mail
    assert not_public.status_code == 503
    app.config.update(PUBLIC_URL="https://chat.example.test")  # and nothing listens at the SMTP port
    down = client.post(url, json={"email": "a@b.de"})
    assert down.status_code == 502 and "später" in down.json["error"]
    assert customer.transcript()["messages"] == []  # nothing stored half-way
