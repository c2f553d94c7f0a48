"""One real Rasa server and action server for the whole test session (training cached by hash).

They listen on their own ports with temporary tracker, feedback and order databases, so a
running `make run` is not disturbed; the knowledge base uses the base model for stable answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rest_chat import Chat

from rasa_runtime import training
from rasa_runtime.paths import RASA
from rasa_runtime.processes import Services, Settings

RASA_PORT = 5105
ACTIONS_PORT = 5155


@pytest.fixture(scope="session")
def bot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bot")


@pytest.fixture(scope="session")
def services(bot_dir: Path) -> Iterator[Services]:
    if not RASA.exists():
        pytest.fail(f"{RASA} is missing: run `make setup` (it installs Rasa from constraints-rasa.txt)")
    training.ensure_trained()
    settings = Settings(
        rasa_port=RASA_PORT,
        actions_port=ACTIONS_PORT,
        tracker_db=bot_dir / "trackers.db",
        log_dir=bot_dir,
        extra_env={
            "AUSKUNFT_USE_TRAINED_MODEL": "false",
            "AUSKUNFT_FEEDBACK_DB": str(bot_dir / "feedback.db"),
            "AUSKUNFT_ORDERS_DB": str(bot_dir / "orders.db"),
            "AUSKUNFT_ORDER_API_URL": "",
        },
    )
    with Services(settings) as running:
        running.wait_until_ready()
        yield running


@pytest.fixture
def chat(services: Services) -> Chat:
    return Chat(services.settings.rasa_url)
