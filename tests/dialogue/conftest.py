"""The real Rasa server and action server of the session (tests/conftest.py), under this folder's names."""

from __future__ import annotations

from pathlib import Path

import pytest

from rasa_runtime.processes import Services
from tests.support.rest_chat import Chat


@pytest.fixture(scope="session")
def bot_dir(rasa_dir: Path) -> Path:
    """Where the shared Rasa keeps its feedback and order databases."""
    return rasa_dir


@pytest.fixture(scope="session")
def services(rasa_services: Services) -> Services:
    return rasa_services


@pytest.fixture
def chat(services: Services) -> Chat:
    return Chat(services.settings.rasa_url)
