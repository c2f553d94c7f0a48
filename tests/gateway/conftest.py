"""A fresh gateway with its own SQLite file per test; a scripted Rasa for logic, the real one for the dialogue.

The real Rasa + action server are the session's shared pair (`rasa_services` in tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from gateway_helpers import AgentSession, Customer, ScriptedRasa, gateway_config

from bot import create_app
from bot.integrations.rasa_client import RasaClient
from rasa_runtime.processes import Services


def make_app(tmp_path: Path, rasa: RasaClient) -> Flask:
    return create_app(gateway_config(tmp_path, rasa))


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
    from bot.web import auth

    def make(email: str = "anna@example.com", name: str = "Anna") -> AgentSession:
        with app.app_context():
            auth.create_agent(email, name, "geheim-genug-123")
        return AgentSession(app, email, "geheim-genug-123")

    return make


@pytest.fixture
def live_app(tmp_path: Path, rasa_services: Services) -> Flask:
    return make_app(tmp_path, RasaClient(rasa_services.settings.rasa_url, timeout=120))
