"""A fresh gateway with its own SQLite file per test; a scripted Rasa for logic, the real one for the dialogue.

The real Rasa + action server are the session's shared pair (`rasa_services` in tests/conftest.py). The `kb_`
fixtures: a gateway whose knowledge base reads the small FAQ in a temporary folder (the editors' pages and the
live reload); the fake embedder (tests/conftest.py) makes reloads instant, the tests that need the real model
say so. `browser` and `live_url`: one Chromium per module, and the test's `app` served over real HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from selenium.webdriver.remote.webdriver import WebDriver

from bot.integrations.rasa_client import RasaClient
from knowledge_base.settings import Settings
from rasa_runtime.processes import Services
from tests.support.app import faq_search, make_app
from tests.support.browser import chromium, serve
from tests.support.channels import ACCOUNT_SID, AUTH_TOKEN, GRAPH_VERSION, PAGE_TOKEN
from tests.support.gateway import Customer, ScriptedRasa
from tests.support.login import AgentSession, logged_in
from tests.support.mock_providers import GraphApi, TwilioApi


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


@pytest.fixture
def app(tmp_path: Path, rasa: ScriptedRasa) -> Flask:
    return make_app(tmp_path, rasa)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def customer(client: FlaskClient) -> Customer:
    return Customer(client)


@pytest.fixture
def make_agent(app: Flask):  # type: ignore[no-untyped-def]
    """Log in a new agent: `make_agent()` is Anna, `make_agent("ben@example.com", "Ben")` another."""

    def make(email: str = "anna@example.com", name: str = "Anna") -> AgentSession:
        return logged_in(app, email, name=name)

    return make


@pytest.fixture
def live_app(tmp_path: Path, rasa_services: Services) -> Flask:
    return make_app(tmp_path, RasaClient(rasa_services.settings.rasa_url, timeout=120))


@pytest.fixture
def kb_settings(settings: Settings) -> Settings:
    """The small three-entry FAQ in a temporary folder, index and models there too; base model only."""
    return settings.model_copy(update={"use_trained_model": False})


@pytest.fixture
def kb_app(tmp_path: Path, kb_settings: Settings, fake_embedder) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    app = make_app(tmp_path, FAQ_SEARCH=faq_search(kb_settings, fake_embedder))
    yield app
    app.config["FAQ_SEARCH"].close()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """One Chromium for the module (starting it costs a second); each test gets a fresh origin, so fresh storage."""
    with chromium() as driver:
        yield driver


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """The test's `app` served over real HTTP (threaded, for the SSE stream) on a free port."""
    with serve(app) as url:
        yield url


@pytest.fixture
def graph() -> Iterator[GraphApi]:
    """Facebook's Graph API as a local server: records what the gateway sends, can fail on purpose."""
    server = GraphApi(PAGE_TOKEN, GRAPH_VERSION)
    yield server
    server.close()


@pytest.fixture
def twilio() -> Iterator[TwilioApi]:
    """Twilio's Messages API as a local server, for the test account of `tests.support.channels`."""
    server = TwilioApi(ACCOUNT_SID, AUTH_TOKEN)
    yield server
    server.close()
