"""Throttling, probed as an attacker would (issue 13): password guessing on the login, user enumeration by timing,
conversations, messages and transcript mails in bulk — and what must stay unthrottled: the agent inbox and the
providers' signed webhooks.

The gateway here is the test gateway with throttling as a real `create_app()` has it (on by default, the default
limits unless a test narrows one), all requests from one address as a script's would be.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from bot import config
from bot.web import auth, limits
from tests.support.app import make_app
from tests.support.bot_replies import HANDOFF
from tests.support.browser import chromium, serve, wait
from tests.support.channels import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    GRAPH_VERSION,
    PAGE_TOKEN,
    MessengerCustomer,
    channel_app,
    served,
    settled,
)
from tests.support.gateway import Customer, ScriptedRasa, conversation_id
from tests.support.login import PASSWORD, AgentSession, add_account, csrf_of, logged_in
from tests.support.mock_providers import GraphApi, TwilioApi
from tests.support.net import free_port
from tests.support.smtp import Inbox, smtp_server
from tests.support.widget_browser import open_chat, say

GERMAN = "Zu viele Anfragen"
STRANGER = "fremde@example.org"


@pytest.fixture
def production_switch(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Whether and how a real gateway throttles: the settings' defaults, not the test gateway's switch."""
    monkeypatch.delenv("AUSKUNFT_RATELIMIT_ENABLED", raising=False)
    settings = config.from_env()
    assert settings["RATELIMIT_ENABLED"] is True
    return {"RATELIMIT_ENABLED": settings["RATELIMIT_ENABLED"]}


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


@pytest.fixture
def gateway(tmp_path: Path, rasa: ScriptedRasa, production_switch: dict[str, Any]) -> Callable[..., Flask]:
    """`gateway(RATELIMIT_…="3 per minute")`: the test gateway, throttled as in production, a limit narrowed."""
    return lambda **narrowed: make_app(tmp_path, rasa, **production_switch, **narrowed)


def from_address(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def start(client: FlaskClient) -> Any:
    return client.post("/api/widget/conversations")


def assert_throttled_json(response: Any) -> None:
    assert response.status_code == 429, response.get_data(as_text=True)
    assert GERMAN in response.json["error"]
    assert int(response.headers["Retry-After"]) > 0


# --- the login ---------------------------------------------------------------------------------------------------


def try_login(client: FlaskClient, email: str, password: str) -> Any:
    token = csrf_of(client.get("/agent/login").get_data(as_text=True))
    return client.post("/agent/login", data={"email": email, "password": password, "csrf_token": token})


def test_twenty_wrong_passwords_then_the_right_one_is_refused(gateway: Callable[..., Flask]) -> None:
    app = gateway()
    add_account(app, "anna@example.com")
    client = from_address(app, "198.51.100.7")

    statuses = [try_login(client, "anna@example.com", f"falsch-{n}").status_code for n in range(20)]
    right = try_login(client, "anna@example.com", PASSWORD)

    assert statuses[0] == 401 and statuses[-1] == 429
    assert statuses.count(401) <= 10  # the default: 10 failed logins per account in 15 minutes
    assert right.status_code == 429  # not logged in: no redirect into the inbox
    assert GERMAN in right.get_data(as_text=True)  # the login page says why
    assert 'name="password"' in right.get_data(as_text=True)
    assert client.get("/agent/").status_code == 302  # still not logged in
    # the account's count, not the address's: from elsewhere the right password is refused as well
    assert try_login(from_address(app, "203.0.113.9"), "Anna@Example.com ", PASSWORD).status_code == 429


def test_wrong_passwords_for_many_accounts_from_one_address_are_refused_there(gateway: Callable[..., Flask]) -> None:
    app = gateway(RATELIMIT_LOGIN_PER_IP="5 per 15 minutes")
    add_account(app, "anna@example.com")
    guesser = from_address(app, "198.51.100.7")

    statuses = [try_login(guesser, f"person{n}@example.com", "passwort-raten").status_code for n in range(8)]

    assert statuses == [401] * 5 + [429] * 3
    assert try_login(guesser, "anna@example.com", PASSWORD).status_code == 429
    assert try_login(from_address(app, "203.0.113.9"), "anna@example.com", PASSWORD).status_code == 302


def test_successful_logins_use_up_no_limit(gateway: Callable[..., Flask]) -> None:
    app = gateway(RATELIMIT_LOGIN_PER_IP="3 per 15 minutes", RATELIMIT_LOGIN_PER_ACCOUNT="3 per 15 minutes")
    add_account(app, "anna@example.com")

    assert [try_login(app.test_client(), "anna@example.com", PASSWORD).status_code for _ in range(6)] == [302] * 6


def test_an_unknown_account_costs_the_same_password_check_as_a_known_one(
    gateway: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timing told known from unknown addresses (196 ms vs 7 ms): both must run one hash check of the same kind."""
    app = gateway()
    add_account(app, "anna@example.com")
    checked: list[str] = []
    real_check = auth.check_password_hash

    def recording(stored: str, password: str) -> bool:
        checked.append(stored)
        return real_check(stored, password)

    monkeypatch.setattr(auth, "check_password_hash", recording)

    assert try_login(app.test_client(), "anna@example.com", "falsch-falsch").status_code == 401
    assert try_login(app.test_client(), "niemand@example.com", "falsch-falsch").status_code == 401

    known, unknown = checked
    assert unknown == auth.dummy_hash()  # the dummy hash is checked when there is no account
    method = known.split("$")[0]  # e.g. "scrypt:32768:8:1": the same algorithm and cost, so the same work
    assert unknown.split("$")[0] == method
    with app.app_context():
        assert not auth.password_matches(None, "")  # no password opens the dummy


# --- the widget API ---------------------------------------------------------------------------------------------


def test_a_real_gateway_refuses_conversations_in_bulk(gateway: Callable[..., Flask]) -> None:
    """Today's finding: 200 conversations in 2.3 s from one address."""
    app = gateway()
    client = from_address(app, "198.51.100.7")

    responses = [start(client) for _ in range(200)]

    assert sum(r.status_code == 201 for r in responses) == 10  # the default: 10 per minute per address
    assert_throttled_json(responses[-1])
    assert start(from_address(app, "203.0.113.9")).status_code == 201  # another customer is not affected


def test_conversation_starts_beyond_the_configured_limit_get_429_in_german(gateway: Callable[..., Flask]) -> None:
    app = gateway(RATELIMIT_STARTS_PER_IP="3 per minute")
    client = app.test_client()

    assert [start(client).status_code for _ in range(3)] == [201] * 3
    refused = start(client)
    assert_throttled_json(refused)
    assert refused.json == {"error": limits.TOO_MANY}


def test_messages_into_one_conversation_beyond_the_limit_get_429(
    gateway: Callable[..., Flask], rasa: ScriptedRasa
) -> None:
    """Today's finding: 100 messages into one conversation, each through Rasa and the knowledge base."""
    app = gateway()
    customer = Customer(app.test_client())

    responses = [customer.client.post(f"{customer.base}/messages", json={"text": f"Frage {n}"}) for n in range(100)]

    assert sum(r.status_code == 201 for r in responses) == 10  # the default: 10 per minute per conversation
    assert_throttled_json(responses[-1])
    assert len(rasa.received) == 10  # the refused ones cost Rasa nothing


def test_the_message_limit_counts_per_conversation_and_per_address(gateway: Callable[..., Flask]) -> None:
    app = gateway(RATELIMIT_MESSAGES_PER_CONVERSATION="2 per minute", RATELIMIT_MESSAGES_PER_IP="6 per minute")
    first, second, third = (Customer(app.test_client()) for _ in range(3))

    def say(customer: Customer) -> int:
        return customer.client.post(f"{customer.base}/messages", json={"text": "Hallo"}).status_code

    assert [say(first), say(first), say(first)] == [201, 201, 429]  # this conversation's limit
    assert [say(second), say(second)] == [201, 201]  # another conversation has its own
    assert say(third) == 201  # the address's sixth (a refused request counts for its address too)
    assert say(third) == 429  # the address's limit, though this conversation sent one only
    other_address = from_address(app, "203.0.113.9")
    assert other_address.post(f"{third.base}/messages", json={"text": "Hallo"}).status_code == 201


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, dict[str, Any]]]:
    with smtp_server() as inbox:
        yield inbox, inbox.settings


def test_transcript_mails_to_a_stranger_in_bulk_are_refused(
    gateway: Callable[..., Flask], smtp: tuple[Inbox, dict[str, Any]]
) -> None:
    """Today's finding: 12 mails to a stranger's address, one fresh conversation after another. Each is now only a
    confirmation of fixed text (tests/security/test_transcript_mail.py), and still at most 5 per address."""
    inbox, mail_settings = smtp
    app = gateway(RATELIMIT_STARTS_PER_IP="100 per minute", **mail_settings)
    client = app.test_client()

    responses = []
    for _ in range(12):
        customer = Customer(client)
        responses.append(client.post(f"{customer.base}/transcript", json={"email": STRANGER}))

    assert [r.status_code for r in responses] == [202] * 5 + [429] * 7  # the default: 5 per hour per address
    assert_throttled_json(responses[-1])
    assert len(inbox.envelopes) == 5


def test_transcript_mails_per_conversation_and_only_sent_ones_count(
    gateway: Callable[..., Flask], smtp: tuple[Inbox, dict[str, Any]]
) -> None:
    inbox, mail_settings = smtp
    app = gateway(RATELIMIT_TRANSCRIPTS_PER_CONVERSATION="1 per hour", **mail_settings)
    customer = Customer(app.test_client())

    def mail(email: str) -> int:
        return customer.client.post(f"{customer.base}/transcript", json={"email": email}).status_code

    assert mail("kein-gueltiges-ziel") == 400  # refused, sends nothing: uses up nothing
    assert mail("kunde@example.de") == 202  # the confirmation mail counts as a mail sent
    assert mail("kunde@example.de") == 429  # under the three per conversation in all, but within the hour
    assert len(inbox.envelopes) == 1
    other = Customer(app.test_client())
    assert other.client.post(f"{other.base}/transcript", json={"email": "kunde@example.de"}).status_code == 202


# --- what is not throttled -----------------------------------------------------------------------------------------

TIGHT = {
    "RATELIMIT_LOGIN_PER_IP": "1 per hour",
    "RATELIMIT_LOGIN_PER_ACCOUNT": "1 per hour",
    "RATELIMIT_STARTS_PER_IP": "1 per hour",
    "RATELIMIT_MESSAGES_PER_IP": "1 per hour",
    "RATELIMIT_MESSAGES_PER_CONVERSATION": "1 per hour",
    "RATELIMIT_TRANSCRIPTS_PER_IP": "1 per hour",
    "RATELIMIT_TRANSCRIPTS_PER_CONVERSATION": "1 per hour",
}


def test_the_agent_inbox_is_not_throttled_by_customer_limits(
    gateway: Callable[..., Flask], rasa: ScriptedRasa
) -> None:
    app = gateway(**TIGHT)
    customer = Customer(app.test_client())
    rasa.replies.append(HANDOFF)
    customer.say("Ich will einen Menschen")
    assert start(app.test_client()).status_code == 429  # the customers' limits are spent
    agent: AgentSession = logged_in(app, "anna@example.com")
    cid = conversation_id(app, customer.token)

    assert agent.post(f"/agent/conversations/{cid}/take").status_code == 200
    pages = [agent.get("/agent/").status_code for _ in range(30)]
    polls = [agent.get(f"/agent/conversations/{cid}/messages").status_code for _ in range(30)]
    replies = [agent.post(f"/agent/conversations/{cid}/reply", {"text": f"Antwort {n}"}).status_code for n in range(30)]

    assert pages == [200] * 30 and polls == [200] * 30 and replies == [201] * 30


def test_signed_provider_webhooks_are_not_throttled_by_customer_limits(
    tmp_path: Path, rasa: ScriptedRasa, production_switch: dict[str, Any]
) -> None:
    graph, twilio = GraphApi(PAGE_TOKEN, GRAPH_VERSION), TwilioApi(ACCOUNT_SID, AUTH_TOKEN)
    try:
        app = channel_app(tmp_path, rasa, graph, twilio, **production_switch, **TIGHT)
        with served(app) as url:
            assert [MessengerCustomer(url).say(f"Frage {n}").status_code for n in range(15)] == [200] * 15
            settled(app)
        assert len(rasa.received) == 15
    finally:
        graph.close()
        twilio.close()


@pytest.mark.browser
def test_the_widget_shows_the_throttled_message(gateway: Callable[..., Flask], rasa: ScriptedRasa) -> None:
    app = gateway(RATELIMIT_MESSAGES_PER_CONVERSATION="1 per minute")
    with chromium() as browser, serve(app) as url:
        open_chat(browser, url)
        say(browser, "Was kostet der Versand?")
        browser.find_element(By.ID, "input").send_keys("Und nach Österreich?", Keys.ENTER)
        notes = lambda: [n.text for n in browser.find_elements(By.CSS_SELECTOR, "#log .msg.system")]  # noqa: E731
        wait(browser, lambda: any(GERMAN in note for note in notes()))
        assert not any("konnte nicht gesendet werden" in note for note in notes())  # not the network error
    assert [text for _, text in rasa.received] == ["Was kostet der Versand?"]


def test_with_redis_the_gateway_processes_share_the_counts(tmp_path: Path, production_switch: dict[str, Any]) -> None:
    """`AUSKUNFT_REDIS_URL`: two gateway processes (here two apps) count one address together."""
    redis = pytest.importorskip("redis")
    url = os.environ.get("AUSKUNFT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {url}")
    settings = {**production_switch, "RATELIMIT_STORAGE_URI": url, "RATELIMIT_STARTS_PER_IP": "3 per minute"}
    first = make_app(tmp_path / "first", ScriptedRasa(), **settings)
    second = make_app(tmp_path / "second", ScriptedRasa(), **settings)
    address = f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"  # fresh counts on a shared Redis

    statuses = [start(from_address(app, address)).status_code for app in (first, second, first, second)]

    assert statuses == [201, 201, 201, 429]


def test_behind_a_proxy_the_forwarded_address_counts_and_a_forged_one_never(gateway: Callable[..., Flask]) -> None:
    def starts(app: Flask, forwarded: list[str]) -> list[int]:
        client = from_address(app, "127.0.0.1")  # the proxy
        return [client.post("/api/widget/conversations", headers={"X-Forwarded-For": f}).status_code for f in forwarded]

    direct = gateway(RATELIMIT_STARTS_PER_IP="2 per minute")
    # without proxies the header is the client's own word: a new address per request gains nothing
    assert starts(direct, ["1.1.1.1", "2.2.2.2", "3.3.3.3"]) == [201, 201, 429]

    proxied = gateway(RATELIMIT_STARTS_PER_IP="2 per minute", RATELIMIT_PROXY_HOPS=1)
    customers = ["198.51.100.7", "198.51.100.7", "203.0.113.9", "forged, 198.51.100.7"]
    assert starts(proxied, customers) == [201, 201, 201, 429]  # nginx appends the real address last


def test_with_redis_down_the_gateway_still_answers_and_counts_in_memory(
    tmp_path: Path, production_switch: dict[str, Any]
) -> None:
    pytest.importorskip("redis")
    nothing_there = f"redis://127.0.0.1:{free_port()}/0"
    settings = {**production_switch, "RATELIMIT_STORAGE_URI": nothing_there, "RATELIMIT_STARTS_PER_IP": "2 per minute"}
    client = make_app(tmp_path, ScriptedRasa(), **settings).test_client()

    assert [start(client).status_code for _ in range(3)] == [201, 201, 429]
