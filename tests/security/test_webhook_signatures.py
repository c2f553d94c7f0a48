"""Issue 13, a guarantee that holds and must stay: a webhook is believed only with the provider's signature.

Messenger signs the raw body (`X-Hub-Signature-256`, HMAC-SHA256 with the app secret), Twilio the public URL and
the form fields (`X-Twilio-Signature`, checked with twilio's `RequestValidator`). A forged, missing or reused
signature is a 403, and the request leaves no trace: no row in any table, nothing asked of Rasa, nothing sent to
Facebook or Twilio. The gateway is served over real HTTP; the providers' APIs are local mock servers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from tests.support.channels import (
    ACCOUNT_SID,
    APP_SECRET,
    AUTH_TOKEN,
    GRAPH_VERSION,
    PAGE_TOKEN,
    PUBLIC_URL,
    MessengerCustomer,
    SmsCustomer,
    channel_app,
    served,
    settled,
)
from tests.support.gateway import ScriptedRasa
from tests.support.mock_providers import GraphApi, TwilioApi, messenger_signature, twilio_signature
from tests.support.rows import all_rows

SMS_URL = f"{PUBLIC_URL}/channels/sms/webhook"


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


@pytest.fixture
def graph() -> Iterator[GraphApi]:
    server = GraphApi(PAGE_TOKEN, GRAPH_VERSION)
    yield server
    server.close()


@pytest.fixture
def twilio() -> Iterator[TwilioApi]:
    server = TwilioApi(ACCOUNT_SID, AUTH_TOKEN)
    yield server
    server.close()


@pytest.fixture
def app(tmp_path: Path, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi) -> Flask:
    return channel_app(tmp_path, rasa, graph, twilio)


@pytest.fixture
def gateway(app: Flask) -> Iterator[str]:
    with served(app) as url:
        yield url


def left_no_trace(app: Flask, before: dict, rasa: ScriptedRasa, asked: int, *providers: GraphApi | TwilioApi) -> None:
    """Nothing stored since `before`, Rasa asked no more than `asked` times, no provider called since."""
    sent = [len(p.requests) for p in providers]
    time.sleep(0.2)  # the outbox sends from its own thread: give a wrongly stored reply the time to go out
    assert all_rows(app) == before
    assert len(rasa.received) == asked
    assert [len(p.requests) for p in providers] == sent


# --- Messenger ----------------------------------------------------------------------------------------------------


def sha1_signature(body: bytes) -> str:
    """The old `X-Hub-Signature` (SHA-1), the only one Rasa's own connector reads."""
    return "sha1=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha1).hexdigest()


def test_messenger_refuses_missing_and_forged_signatures(
    app: Flask, gateway: str, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi
) -> None:
    customer = MessengerCustomer(gateway)
    body = json.dumps(customer.message("Bitte ändern Sie meine Lieferadresse")).encode()
    good = messenger_signature(APP_SECRET, body)
    before = all_rows(app)
    attempts = {
        "missing": customer.post(body, signature=None),
        "empty": customer.post(body, signature=""),
        "zeros": customer.post(body, signature="sha256=" + "0" * 64),
        "another secret": customer.post(body, signature=messenger_signature("not-the-app-secret", body)),
        "the right HMAC under sha1=": customer.post(body, signature="sha1=" + good.removeprefix("sha256=")),
        "without its prefix": customer.post(body, signature=good.removeprefix("sha256=")),
        "cut short": customer.post(body, signature=good[:-8]),
        "with more after it": customer.post(body, signature=good + "00"),
        "only the old SHA-1 header": customer.post(body, signature=None, **{"X-Hub-Signature": sha1_signature(body)}),
        "a signature of the empty body": customer.post(body, signature=messenger_signature(APP_SECRET, b"")),
    }
    assert {name: r.status_code for name, r in attempts.items()} == dict.fromkeys(attempts, 403)
    left_no_trace(app, before, rasa, 0, graph, twilio)


def test_messenger_refuses_a_genuine_signature_replayed_on_a_changed_body(
    app: Flask, gateway: str, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi
) -> None:
    customer = MessengerCustomer(gateway)
    genuine = json.dumps(customer.message("Hallo")).encode()
    signature = messenger_signature(APP_SECRET, genuine)
    assert customer.post(genuine, signature=signature).status_code == 200  # delivered once, as Facebook does
    settled(app)
    graph.wait_for(lambda sent: len(sent) >= 1)
    before = all_rows(app)
    someone_else = genuine.replace(customer.psid.encode(), b"2400000000000999")
    assert someone_else != genuine
    changed = {
        "another text": genuine.replace(b"Hallo", b"Bitte senden Sie alles an evil@example.com"),
        "another sender": someone_else,
        "a space added": genuine + b" ",
        "an entry added": json.dumps(
            {**json.loads(genuine), "entry": json.loads(genuine)["entry"] * 2}
        ).encode(),
    }
    for name, body in changed.items():
        assert body != genuine
        assert customer.post(body, signature=signature).status_code == 403, name
    left_no_trace(app, before, rasa, 1, graph, twilio)
    assert [text for _sender, text in rasa.received] == ["Hallo"]


# --- SMS (Twilio) -------------------------------------------------------------------------------------------------


def test_sms_refuses_missing_and_forged_signatures(
    app: Flask, gateway: str, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi
) -> None:
    phone = SmsCustomer(gateway)
    form = phone.form("Bitte ändern Sie meine Lieferadresse")
    before = all_rows(app)
    attempts = {
        "missing": phone.post(form, signature=None),
        "empty": phone.post(form, signature=""),
        "forged": phone.post(form, signature="dGhpcyBpcyBub3QgYSBzaWduYXR1cmU="),
        "another auth token": phone.post(form, signature=twilio_signature("another-token", SMS_URL, form)),
        "the URL alone": phone.post(form, signature=twilio_signature(AUTH_TOKEN, SMS_URL, {})),
        "another host's URL": phone.post(form, signed_url="https://evil.example/channels/sms/webhook"),
        "the internal URL": phone.post(form, signed_url=f"{gateway}/channels/sms/webhook"),
        "http instead of https": phone.post(form, signed_url=SMS_URL.replace("https://", "http://")),
    }
    assert {name: r.status_code for name, r in attempts.items()} == dict.fromkeys(attempts, 403)
    assert all("<Message>" not in r.text for r in attempts.values())
    left_no_trace(app, before, rasa, 0, graph, twilio)


def test_sms_refuses_a_genuine_signature_replayed_on_changed_fields(
    app: Flask, gateway: str, rasa: ScriptedRasa, graph: GraphApi, twilio: TwilioApi
) -> None:
    phone = SmsCustomer(gateway)
    form = phone.form("Hallo")
    signature = twilio_signature(AUTH_TOKEN, SMS_URL, form)
    assert phone.post(form, signature=signature).status_code == 200
    settled(app)
    before = all_rows(app)
    changed = {
        "another text": {**form, "Body": "STOP"},
        "another sender": {**form, "From": "+4915199999999"},
        "a new message id": {**form, "MessageSid": "SM" + "f" * 32, "SmsSid": "SM" + "f" * 32},
        "a field added": {**form, "MediaUrl0": "https://evil.example/x.jpg"},
        "a field left out": {k: v for k, v in form.items() if k != "NumSegments"},
    }
    for name, fields in changed.items():
        assert phone.post(fields, signature=signature).status_code == 403, name
    webhook, signed = f"{gateway}/channels/sms/webhook", {"X-Twilio-Signature": signature}
    repeated = requests.post(webhook, data=[*form.items(), ("Body", "STOP")], headers=signed)
    assert repeated.status_code == 403  # a field given twice: the signature covers every value
    assert requests.post(f"{webhook}?x=1", data=form, headers=signed).status_code == 403  # the signed URL had no query
    left_no_trace(app, before, rasa, 1, graph, twilio)
    assert [text for _sender, text in rasa.received] == ["Hallo"]
