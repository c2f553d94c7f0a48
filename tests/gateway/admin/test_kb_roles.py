"""Who reaches what: anonymous users nothing, agents the inbox but no /admin route, editors /admin but no
/agent route, admins both. Every route the app has is checked, so new pages are covered without a test edit."""

from __future__ import annotations

import re

from flask import Flask

from bot.models import Role
from tests.support.login import csrf_of, logged_in

PUBLIC_AGENT_ROUTES = {"/agent/login", "/agent/logout"}
"""Reachable without the agent role: the login form, and logout (any logged-in account)."""


def routes(app: Flask, prefix: str) -> list[tuple[str, str]]:
    """(method, url) of every route under `prefix`, with 1 / "x" for its parameters."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix) or rule.rule in PUBLIC_AGENT_ROUTES:
            continue
        url = re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", _value, rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, url))
    assert found, f"no routes under {prefix}"
    return found


def _value(match: re.Match[str]) -> str:
    """A value each converter accepts: the roles are checked before the value is looked up."""
    return {"int": "1", "any": "json"}.get(match.group(1) or "", "x")


def call(client, method: str, url: str, csrf: str | None):  # type: ignore[no-untyped-def]
    headers = {"X-CSRFToken": csrf} if csrf else {}
    return client.open(url, method=method, headers=headers, json={} if method != "GET" else None)


def test_anonymous_reaches_nothing_under_admin(kb_app: Flask) -> None:
    client = kb_app.test_client()
    csrf = csrf_of(client.get("/agent/login").get_data(as_text=True))  # a session, but nobody logged in
    for method, url in routes(kb_app, "/admin"):
        response = call(client, method, url, csrf)
        if method == "GET":
            assert response.status_code == 302 and "/agent/login" in response.location, (method, url)
        else:
            assert response.status_code == 401, (method, url, response.status_code)
    # without even a CSRF token the reload is refused too
    assert kb_app.test_client().post("/admin/kb/reload").status_code in (400, 401)


def test_agent_gets_403_on_every_admin_route(kb_app: Flask) -> None:
    agent = logged_in(kb_app, "anna@example.com", Role.AGENT)
    for method, url in routes(kb_app, "/admin"):
        response = call(agent.client, method, url, agent.csrf)
        assert response.status_code == 403, (method, url, response.status_code)
    assert agent.get("/agent/").status_code == 200


def test_editor_gets_403_on_every_agent_route(kb_app: Flask) -> None:
    editor = logged_in(kb_app, "eva@example.com", Role.EDITOR)
    for method, url in routes(kb_app, "/agent"):
        response = call(editor.client, method, url, editor.csrf)
        assert response.status_code == 403, (method, url, response.status_code)
    assert editor.get("/admin/faq/").status_code == 200
    assert editor.reload().status_code == 200


def test_admin_reaches_both(kb_app: Flask) -> None:
    admin = logged_in(kb_app, "root@example.com", Role.ADMIN)
    assert admin.get("/agent/").status_code == 200
    assert admin.get("/admin/").status_code == 200
    assert admin.get("/admin/faq/").status_code == 200
    assert admin.get("/admin/faq/try.json", query_string={"q": "Versandkosten"}).status_code == 200
    assert admin.reload().status_code == 200
