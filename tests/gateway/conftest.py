"""A fresh gateway with its own SQLite file per test; a scripted Rasa for logic, the real one for the dialogue.

The real Rasa + action server run on their own ports (5205/5255) with temporary databases,
started once per session, so neither `make run` nor the bot tests' servers are disturbed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from gateway_helpers import AgentSession, Customer, ScriptedRasa

from bot import create_app
from bot.rasa_client import RasaClient
from rasa_runtime import training
from rasa_runtime.paths import RASA
from rasa_runtime.processes import Services, Settings

RASA_PORT = 5205
ACTIONS_PORT = 5255


def make_app(tmp_path: Path, rasa: RasaClient) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
            "RASA_CLIENT": rasa,
            "SSE_KEEPALIVE_SECONDS": 0.2,
        }
    )


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
    from bot import auth

    def make(email: str = "anna@example.com", name: str = "Anna") -> AgentSession:
        with app.app_context():
            auth.create_agent(email, name, "geheim-genug-123")
        return AgentSession(app, email, "geheim-genug-123")

    return make


@pytest.fixture(scope="session")
def rasa_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    if not RASA.exists():
        pytest.fail(f"{RASA} is missing: run `make setup` (it installs Rasa from constraints-rasa.txt)")
    training.ensure_trained()
    folder = tmp_path_factory.mktemp("gateway-rasa")
    settings = Settings(
        rasa_port=RASA_PORT,
        actions_port=ACTIONS_PORT,
        tracker_db=folder / "trackers.db",
        log_dir=folder,
        extra_env={
            "AUSKUNFT_USE_TRAINED_MODEL": "false",
            "AUSKUNFT_FEEDBACK_DB": str(folder / "feedback.db"),
            "AUSKUNFT_ORDERS_DB": str(folder / "orders.db"),
            "AUSKUNFT_ORDER_API_URL": "",
        },
    )
    with Services(settings) as running:
        running.wait_until_ready()
        yield running


@pytest.fixture
def live_app(tmp_path: Path, rasa_services: Services) -> Flask:
    return make_app(tmp_path, RasaClient(rasa_services.settings.rasa_url, timeout=120))
