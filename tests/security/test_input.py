"""Bad input is a clear 400 (or an ignored webhook), never a 500; Messenger postbacks are stored once.

Each probe is what a review sent to the running stack (issue 13): deeply nested JSON, a lone surrogate, a 30-digit
`after` or id, CR/LF in the login's `next`, correctly signed Messenger bodies of an unexpected shape.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bot.customers import identities
from bot.models import Conversation, IdentifierKind, Message, Role, WebhookReceipt
from tests.support.app import make_app
from tests.support.channels import APP_SECRET, PAGE_ID, PAGE_TOKEN, VERIFY_TOKEN
from tests.support.gateway import Customer, ScriptedRasa
from tests.support.login import PASSWORD, add_account, csrf_of, logged_in
from tests.support.mock_providers import messenger_signature

NESTED = "[" * 10_000 + "]" * 10_000
HUGE = "9" * 30
PSID = "2400000000000001"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(
        tmp_path,
        ScriptedRasa(),
        MESSENGER_APP_SECRET=APP_SECRET,
        MESSENGER_PAGE_TOKEN=PAGE_TOKEN,
        MESSENGER_VERIFY_TOKEN=VERIFY_TOKEN,
        GRAPH_API_URL="http://127.0.0.1:9",  # replies are stored; their delivery fails fast, which is fine here
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def german_400(response: Any) -> str:
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True)[:300])
    return str(response.json["error"])


def raw_json(client: FlaskClient, url: str, text: str) -> Any:
    return client.post(url, data=text.encode("utf-8"), content_type="application/json")


def test_deeply_nested_json_is_a_400_also_on_the_anonymous_start(client: FlaskClient) -> None:
    assert "verschachtelt" in german_400(raw_json(client, "/api/widget/conversations", NESTED))
    customer = Customer(client)
    for url in (f"{customer.base}/messages", f"{customer.base}/contact", f"{customer.base}/typing"):
        assert "verschachtelt" in german_400(raw_json(client, url, '{"text": ' + NESTED + "}"))
    # depth is counted however deep the parser itself would go: 40 levels of objects are refused too
    assert "verschachtelt" in german_400(raw_json(client, f"{customer.base}/messages", '{"a":' * 40 + "1" + "}" * 40))


def test_a_lone_surrogate_is_a_400(client: FlaskClient) -> None:
    customer = Customer(client)
    for body in ('{"text": "Hallo \\ud800"}', '{"text": "x", "client_id": "\\udfff"}', '{"\\ud800": 1, "text": "x"}'):
        assert "Unicode" in german_400(raw_json(client, f"{customer.base}/messages", body))
    assert customer.transcript()["messages"] == []


def test_an_after_beyond_any_message_number_is_a_400(client: FlaskClient) -> None:
    customer = Customer(client)
    german_400(client.get(f"{customer.base}/messages?after={HUGE}"))
    german_400(client.get(f"{customer.base}/messages", headers={"Last-Event-ID": HUGE}))
    german_400(client.get(f"{customer.base}/messages?after=%D9%A3"))  # "٣": a digit to str.isdigit, not to us
    assert client.get(f"{customer.base}/messages?after=9223372036854775807").status_code == 200


def test_the_inbox_refuses_the_same_bodies_and_huge_ids(app: Flask) -> None:
    agent = logged_in(app, "anna@example.com", name="Anna")
    customer = Customer(app.test_client())
    customer.say("Hallo")
    url = "/agent/conversations/1/reply"
    headers = {"X-CSRFToken": agent.csrf}
    response = agent.client.post(url, data='{"text": ' + NESTED + "}", content_type="application/json", headers=headers)
    assert "verschachtelt" in german_400(response)
    response = agent.client.post(url, data='{"text": "\\ud800"}', content_type="application/json", headers=headers)
    assert "Unicode" in german_400(response)
    german_400(agent.get(f"/agent/conversations/1/messages?after={HUGE}", headers={"Accept": "application/json"}))
    assert agent.get(f"/agent/conversations/{HUGE}").status_code == 404  # no such conversation, no SQL overflow
    assert agent.post(f"/agent/conversations/{HUGE}/reply", {"text": "x"}).status_code == 404


@pytest.mark.parametrize("target", ["/agent/%0D%0ASet-Cookie:%20x=1", "/agent/x%0Ay", "/agent/%5Cevil.example"])
def test_crlf_or_a_backslash_in_next_is_ignored_not_a_500(app: Flask, target: str) -> None:
    add_account(app, "anna@example.com")
    client = app.test_client()
    csrf = csrf_of(client.get("/agent/login").get_data(as_text=True))
    form = {"email": "anna@example.com", "password": PASSWORD, "csrf_token": csrf}
    response = client.post(f"/agent/login?next={target}", data=form)
    assert response.status_code == 302
    assert response.headers["Location"] == "/agent/"
    assert "Set-Cookie: x" not in str(response.headers)


def test_a_valid_next_is_still_followed(app: Flask) -> None:
    add_account(app, "anna@example.com")
    client = app.test_client()
    csrf = csrf_of(client.get("/agent/login").get_data(as_text=True))
    form = {"email": "anna@example.com", "password": PASSWORD, "csrf_token": csrf}
    response = client.post("/agent/login?next=/agent/conversations/3%3Fx", data=form)
    assert response.headers["Location"] == "/agent/conversations/3?x"


def signed_post(client: FlaskClient, body: bytes | dict[str, Any], content_type: str = "application/json") -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        "/channels/messenger/webhook",
        data=raw,
        content_type=content_type,
        headers={"X-Hub-Signature-256": messenger_signature(APP_SECRET, raw)},
    )


def envelope(*items: dict[str, Any]) -> dict[str, Any]:
    return {"object": "page", "entry": [{"id": PAGE_ID, "time": 1764835200000, "messaging": list(items)}]}


def stored(app: Flask) -> list[Message]:
    with app.extensions["db_sessions"]() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


ODD_BODIES = [
    NESTED.encode(),
    b'{"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, '
    b'"message": {"mid": "m", "text": "\\ud800"}}]}]}',
    json.dumps(envelope({"sender": "2400000000000001", "message": {"mid": "m_1", "text": "Hallo"}})).encode(),
    json.dumps(envelope({"sender": {"id": ["x"]}, "message": {"mid": "m_2", "text": "Hallo"}})).encode(),
    json.dumps(envelope({"sender": {"id": "1" * 5000}, "message": {"mid": "m_3", "text": "Hallo"}})).encode(),
    json.dumps({"object": "page", "entry": {"messaging": "x"}}).encode(),
    json.dumps({"object": "page", "entry": [{"messaging": {"sender": {"id": "1"}}}]}).encode(),
    b"\xff\xfe not even UTF-8",
]


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
@pytest.mark.parametrize("body", ODD_BODIES, ids=[f"body{i}" for i in range(len(ODD_BODIES))])
def test_signed_messenger_bodies_of_another_shape_are_ignored_not_a_500(
    app: Flask, client: FlaskClient, body: bytes, content_type: str
) -> None:
    """Signed, so Facebook's (or the app secret's holder's): 200 and ignored, so no redelivery, nothing stored."""
    response = signed_post(client, body, content_type)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.json == {"received": 0}
    assert stored(app) == []


def test_signed_messenger_fields_of_another_type_are_read_as_text_or_skipped(app: Flask, client: FlaskClient) -> None:
    item = {"sender": {"id": PSID}, "timestamp": 1764835200000}
    body = envelope(
        {**item, "message": {"mid": {"x": 1}, "text": ["Hallo"], "attachments": "x"}},
        {**item, "message": {"mid": "m_ok", "text": "Was kostet der Versand?", "quick_reply": {"payload": ["x"]}}},
        {**item, "postback": {"payload": {"a": 1}, "title": ["t"]}},
    )
    response = signed_post(client, body)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    texts = [m.text for m in stored(app) if m.sender == "contact"]
    assert "Was kostet der Versand?" in texts
    assert not any("{" in (text or "") or "['" in (text or "") for text in texts), texts


def test_the_same_signed_postback_twice_is_stored_once(app: Flask, client: FlaskClient) -> None:
    """Facebook redelivers a postback it got no 200 for; a postback often has no `mid`."""
    postback = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1764835200123,
        "postback": {"title": "Los geht's", "payload": "/greet"},
    }
    for _ in range(2):
        assert signed_post(client, envelope(postback)).status_code == 200
    assert [m.text for m in stored(app) if m.sender == "contact"] == ["Los geht's"]
    with app.extensions["db_sessions"]() as session:
        assert len(session.scalars(select(WebhookReceipt)).all()) == 1
    # the same button pressed again later is a new event
    later = {**postback, "timestamp": 1764835260123}
    assert signed_post(client, envelope(later)).status_code == 200
    assert [m.text for m in stored(app) if m.sender == "contact"] == ["Los geht's", "Los geht's"]


SMUGGLING = "kunde@x?cc=angreifer%40evil.example&subject=Ihr%20Konto"


@pytest.mark.parametrize(
    "address", [SMUGGLING, "kunde@x.de?cc=a@evil.example", "a&b@x.de", "a=b@x.de", "kunde @x.de", "kunde@x .de"]
)
def test_the_contact_form_refuses_an_address_with_url_parameters(client: FlaskClient, address: str) -> None:
    customer = Customer(client)
    response = client.post(f"{customer.base}/contact", json={"email": address})
    assert "E-Mail-Adresse" in german_400(response)
    response = client.post(f"{customer.base}/transcript", json={"email": address})
    assert response.status_code == 400


def test_an_agent_cannot_link_such_an_address_either(app: Flask) -> None:
    with app.app_context(), pytest.raises(identities.InvalidIdentifier):
        identities.parse(IdentifierKind.EMAIL, SMUGGLING)
    assert identities.EMAIL.match("anna.müller+shop@bäckerei-müller.de")  # what people really type still passes


def test_the_inbox_mailto_link_is_the_address_and_nothing_else(app: Flask) -> None:
    agent = logged_in(app, "anna@example.com", name="Anna")
    customer = Customer(app.test_client())
    customer.say("Hallo")
    assert app.test_client().post(f"{customer.base}/contact", json={"email": "o'brien+shop@x.de"}).status_code == 201
    page = agent.get("/agent/conversations/1").get_data(as_text=True)
    assert 'href="mailto:o%27brien%2Bshop@x.de"' in page
    # an address stored before this check (or by other means) is encoded: still one recipient, no subject
    with app.extensions["db_sessions"]() as session:
        session.get(Conversation, 1).contact.email = SMUGGLING
        session.commit()
    page = agent.get("/agent/conversations/1").get_data(as_text=True)
    links = re.findall(r'href="(mailto:[^"]*)"', page)
    assert links == ["mailto:kunde@x%3Fcc%3Dangreifer%2540evil.example%26subject%3DIhr%2520Konto"]
    assert not any(parse_qs(urlsplit(link).query) for link in links)


def test_a_form_with_a_huge_number_is_a_400(app: Flask) -> None:
    editor = logged_in(app, "eva@example.com", role=Role.EDITOR)
    for ids in (HUGE, "-1", "1e3"):
        form = {"action": "ignore", "ids": ids, "csrf_token": editor.csrf}
        assert editor.client.post("/admin/unanswered/mark", data=form).status_code == 400
