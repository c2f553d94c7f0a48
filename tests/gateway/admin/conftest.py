"""Fixtures of the FAQ editor tests: a gateway whose knowledge base reads a temporary FAQ folder, and logins.

Names start with `kb_` so they stay out of the way of the other /admin tests in this folder. The fake
embedder (tests/conftest.py) makes reloads instant; the tests that need the real model say so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from kb_admin_helpers import make_kb_app

from bot.integrations.faq_search import KnowledgeBaseSearch
from knowledge_base.settings import Settings


@pytest.fixture
def kb_settings(settings: Settings) -> Settings:
    """The small three-entry FAQ in a temporary folder, index and models there too; base model only."""
    return settings.model_copy(update={"use_trained_model": False})


@pytest.fixture
def kb_app(tmp_path: Path, kb_settings: Settings, fake_embedder) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    app = make_kb_app(tmp_path, kb_settings, fake_embedder)
    yield app
    search: KnowledgeBaseSearch = app.config["FAQ_SEARCH"]
    search.close()
