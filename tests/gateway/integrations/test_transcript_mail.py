"""The transcript to the customer's e-mail address, through a real SMTP conversation with a local aiosmtpd sink."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from tests.support.bot_replies import HANDOFF
from tests.support.gateway import Customer, ScriptedRasa, conversation_id
from tests.support.net import free_port
from tests.support.smtp import Inbox


@pytest.fixture
def smtp(app: Flask) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(
        SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_STARTTLS=False, MAIL_FROM="shop@example.de"
    )
    yield inbox
    controller.stop()


def test_customer_gets_the_transcript_by_email(
    app: Flask, customer: Customer, rasa: ScriptedRasa, smtp: Inbox, make_agent
) -> None:  # type: ignore[no-untyped-def]
    rasa.replies.append(HANDOFF)
    customer.say("Ich will einen Menschen")
    agent = make_agent()
    cid = conversation_id(app, customer.token)
    assert agent.post(f"/agent/conversations/{cid}/take").status_code == 200
    assert agent.post(f"/agent/conversations/{cid}/reply", {"text": "Hallo, hier Anna."}).status_code == 201

    response = customer.client.post(f"{customer.base}/transcript", json={"email": "kunde@example.de"})
    assert response.status_code == 201, response.json
    assert response.json["messages"][0]["text"] == "Wir haben Ihnen den Gesprächsverlauf an kunde@example.de geschickt."
    (envelope,) = smtp.envelopes
    assert envelope.mail_from == "shop@example.de" and envelope.rcpt_tos == ["kunde@example.de"]
    mail = message_from_bytes(envelope.original_content, policy=policy.default)
    assert mail["Subject"] == "Ihr Chat mit unserem Kundenservice"
    body = mail.get_content()
    assert "Sie: Ich will einen Menschen" in body and "Kundenservice (Anna): Hallo, hier Anna." in body
    assert "versand-kosten" not in body and "0.42" not in body  # the bot's candidates stay internal
    # the address is kept: a second copy needs no address, and the agent sees it in the transcript
    assert customer.client.post(f"{customer.base}/transcript").status_code == 201
    assert len(smtp.envelopes) == 2
    export = agent.client.get(f"/agent/conversations/{cid}/transcript.json").json
    assert export["contact"]["email"] == "kunde@example.de"


def test_mail_limits_and_errors(app: Flask, client, customer: Customer, smtp: Inbox) -> None:  # type: ignore[no-untyped-def]
    customer.say("Hallo")
    url = f"{customer.base}/transcript"
    assert client.post(url).status_code == 400  # no address known yet
    assert client.post(url, json={"email": "kein-mail"}).status_code == 400
    assert client.post(url, json={"email": "a@b.de\r\nBcc: x@y.de"}).status_code == 400
    for _ in range(3):
        assert client.post(url, json={"email": "a@b.de"}).status_code == 201
    limited = client.post(url, json={"email": "a@b.de"})
    assert limited.status_code == 429 and "error" in limited.json
    assert len(smtp.envelopes) == 3


def test_mail_not_configured_or_server_down(app: Flask, client, customer: Customer) -> None:  # type: ignore[no-untyped-def]
    url = f"{customer.base}/transcript"
    assert client.post(url, json={"email": "a@b.de"}).status_code == 503
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False)  # nothing listens there
    down = client.post(url, json={"email": "a@b.de"})
    assert down.status_code == 502 and "später" in down.json["error"]
    assert customer.transcript()["messages"] == []  # nothing stored half-way
