"""The FAQ editor tests' gateway (its knowledge base on a temporary FAQ folder), logins by role, FAQ edits."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from bot import create_app
from bot.integrations.faq_search import KnowledgeBaseSearch
from bot.integrations.kb_reload import record_metrics
from bot.integrations.rasa_client import RasaClient
from bot.models import Role
from bot.web import auth
from knowledge_base.embedding import TextEmbedder
from knowledge_base.engine import KnowledgeBase
from knowledge_base.settings import Settings

PASSWORD = "geheim-genug-123"

NEW_ENTRY = """\
  - id: zahlung-bitcoin
    question: Kann ich mit Bitcoin bezahlen?
    alternatives:
      - Kryptowährung Zahlung
      - Bezahlung mit Krypto
    answer: Nein, Bitcoin und andere Kryptowährungen nehmen wir nicht an.
    updated: 2026-11-25
"""
BROKEN_ENTRY = """\
  - id: kaputt
    question: Diese Frage hat keine Antwort?
    updated: 2026-11-25
"""


def make_kb_app(
    tmp_path: Path,
    settings: Settings,
    embedder: TextEmbedder | None,
    actions_url: str = "",
    watch: bool = False,
    **config: Any,
) -> Flask:
    """A gateway with its own database; `actions_url=""` = no action server to reload (a scripted Rasa)."""
    search = KnowledgeBaseSearch(
        factory=lambda: KnowledgeBase(settings, embedder=embedder), watch=watch, on_reload=record_metrics
    )
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
            "RASA_CLIENT": config.pop("RASA_CLIENT", None) or RasaClient("http://127.0.0.1:9", timeout=1),
            "FAQ_SEARCH": search,
            "ACTIONS_URL": actions_url,
            "FEEDBACK_DB": tmp_path / "feedback.db",
            **config,
        }
    )


def add_account(app: Flask, email: str, role: Role) -> None:
    with app.app_context():
        auth.create_agent(email, email.split("@")[0].title(), PASSWORD, role)


class Login:
    """A browserless session logged in through the real form; `csrf` for POSTs."""

    def __init__(self, app: Flask, email: str, role: Role | None = None) -> None:
        if role is not None:
            add_account(app, email, role)
        self.client: FlaskClient = app.test_client()
        self.csrf = csrf_of(self.client.get("/agent/login").get_data(as_text=True))
        form = {"email": email, "password": PASSWORD, "csrf_token": self.csrf}
        response = self.client.post("/agent/login", data=form)
        assert response.status_code == 302, response.get_data(as_text=True)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def reload(self) -> Any:
        return self.client.post("/admin/kb/reload", headers={"X-CSRFToken": self.csrf, "Accept": "application/json"})


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf-token" content="([^"]+)"', page
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def append_entry(faq_file: Path, entry: str) -> None:
    faq_file.write_text(faq_file.read_text(encoding="utf-8") + entry, encoding="utf-8")


def replace_in(faq_file: Path, old: str, new: str) -> None:
    text = faq_file.read_text(encoding="utf-8")
    assert old in text
    faq_file.write_text(text.replace(old, new), encoding="utf-8")
