"""Logging in over HTTP, as the browser does: the real login form, its CSRF token kept for later posts."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from werkzeug.test import TestResponse

from bot.models import Role
from bot.web import auth

PASSWORD = "geheim-genug-123"
"""Every test account's password (long enough for the password rule)."""


def add_account(app: Flask, email: str, role: Role = Role.AGENT, name: str | None = None) -> None:
    """An account with `PASSWORD`; the name defaults to the e-mail's local part ("eva@…" → "Eva")."""
    with app.app_context():
        auth.create_agent(email, name or email.split("@")[0].title(), PASSWORD, role)


class AgentSession:
    """A test client logged in through the real form as an existing account; `csrf` for its posts."""

    def __init__(self, app: Flask, email: str, password: str = PASSWORD) -> None:
        self.email = email
        self.client = app.test_client()
        self.csrf = csrf_of(self.client.get("/agent/login").get_data(as_text=True))
        form = {"email": email, "password": password, "csrf_token": self.csrf}
        response = self.client.post("/agent/login", data=form)
        assert response.status_code == 302, response.get_data(as_text=True)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, **kwargs)

    def post(self, path: str, body: dict[str, Any] | None = None) -> TestResponse:
        """A JSON post, the token in the header (as the inbox's script sends it)."""
        return self.client.post(path, json=body or {}, headers={"X-CSRFToken": self.csrf})

    def reload(self) -> TestResponse:
        """The FAQ page's "Neu laden" button: POST /admin/kb/reload, the report as JSON."""
        return self.client.post("/admin/kb/reload", headers={"X-CSRFToken": self.csrf, "Accept": "application/json"})


def logged_in(app: Flask, email: str, role: Role = Role.AGENT, name: str | None = None) -> AgentSession:
    """A new account with `role`, logged in."""
    add_account(app, email, role, name)
    return AgentSession(app, email)


def csrf_of(page: str) -> str:
    """The CSRF token of a page: its form's hidden field, else its `<meta name="csrf-token">`."""
    match = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page) or re.search(
        r'name="csrf-token" content="([^"]+)"', page
    )
    assert match, "no CSRF token on the page"
    return match.group(1)
