"""Issue 13, guarantees that hold and must stay: every staff route wears its role check and its CSRF check.

The routes come from `app.url_map` (tests/support/routes.py), not from a list: a route added later without
`role_required`, or exempted from CSRF, fails here unless it is put on the short public allow-list on purpose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from bot.db import session_factory
from bot.models import ContactIdentifier, Conversation, Message, Role
from bot.web import access
from knowledge_base.settings import Settings
from tests.support.app import faq_search, make_app
from tests.support.bot_replies import HANDOFF
from tests.support.gateway import Customer, ScriptedRasa
from tests.support.login import AgentSession, add_account, csrf_of
from tests.support.routes import ADMIN_ONLY, CHANGES, PUBLIC, TOKEN_OR_SIGNATURE, Route, routes, staff_routes
from tests.support.rows import all_rows

JSON = {"Accept": "application/json"}


@pytest.fixture
def app(tmp_path: Path, settings: Settings, fake_embedder) -> Any:  # type: ignore[no-untyped-def]
    rasa = ScriptedRasa()
    kb = faq_search(settings.model_copy(update={"use_trained_model": False}), fake_embedder)
    app = make_app(tmp_path, rasa, FAQ_SEARCH=kb)
    yield app
    kb.close()


@pytest.fixture
def values(app: Flask) -> dict[str, Any]:
    """Real ids for every URL variable: a handed-off widget conversation whose customer left an e-mail address."""
    rasa: ScriptedRasa = app.config["RASA_CLIENT"]
    rasa.replies.append(HANDOFF)
    customer = Customer(app.test_client())
    customer.say("Mensch bitte")
    assert customer.client.post(f"{customer.base}/contact", json={"email": "kunde@example.com"}).status_code == 201
    with app.app_context(), session_factory()() as session:
        conversation = session.scalars(select(Conversation)).one()
        return {
            "conversation_id": conversation.id,
            "message_id": session.scalars(select(Message.id)).first(),
            "contact_id": conversation.contact_id,
            "identifier_id": session.scalars(select(ContactIdentifier.id)).one(),
            "token": customer.token,
            "faq_id": "versand-kosten",
            "fmt": "json",
            "filename": "loader.js",
            "library": "purify.min.js",
            "index": 0,  # a message's first attachment (none here: a 404, but behind the same checks)
            "snippet_id": 1,  # a Textbaustein (none here: a 404, but behind the same checks)
        }


def anonymous(app: Flask) -> tuple[Any, str]:
    """A client without login, and the CSRF token of its session (so a refusal is the role check's, not CSRF's)."""
    client = app.test_client()
    return client, csrf_of(client.get("/agent/login").get_data(as_text=True))


def call(client: Any, route: Route, csrf: str | None, **headers: str) -> Any:
    if route.method == "GET":
        return client.get(route.url, headers=headers)
    if csrf is not None:
        headers["X-CSRFToken"] = csrf
    return client.open(route.url, method=route.method, json={}, headers=headers)


def as_role(app: Flask, email: str, role: Role) -> AgentSession:
    add_account(app, email, role)
    return AgentSession(app, email)


# --- the allow-list itself ----------------------------------------------------------------------------------------


def test_every_route_is_staff_only_unless_allow_listed(app: Flask, values: dict[str, Any]) -> None:
    outside = sorted({r.rule for r in staff_routes(app, values) if not r.rule.startswith(("/agent", "/admin"))})
    assert outside == [], "a public route must be allow-listed in tests/support/routes.py on purpose"
    # the allow-list names only endpoints that exist (a renamed endpoint must not leave a stale entry behind)
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints >= PUBLIC
    for name in TOKEN_OR_SIGNATURE:
        assert any(e == name or (name.endswith(".") and e.startswith(name)) for e in endpoints), name


# --- roles --------------------------------------------------------------------------------------------------------


def role_problems(app: Flask, values: dict[str, Any]) -> list[str]:
    """What is wrong with the role checks of `app`'s staff routes; [] when every one holds."""
    problems = []
    client, token = anonymous(app)
    agent = as_role(app, "agent@example.com", Role.AGENT)
    editor = as_role(app, "editor@example.com", Role.EDITOR)
    for route in staff_routes(app, values):
        name = f"{route.method} {route.rule}"
        response = call(client, route, token)
        if route.method == "GET":
            location = response.headers.get("Location", "")
            target = urlsplit(location)
            if response.status_code != 302 or target.path != "/agent/login" or target.netloc:
                problems.append(f"{name}: anonymous got {response.status_code} {location!r}, not the login page")
            elif parse_qs(target.query).get("next") != [urlsplit(route.url).path]:
                problems.append(f"{name}: the login page does not lead back ({location!r})")
            if call(client, route, token, **JSON).status_code != 401:
                problems.append(f"{name}: anonymous JSON request not 401")
        elif response.status_code != 401:
            problems.append(f"{name}: anonymous got {response.status_code}, not 401")
        if route.endpoint == "auth.logout":
            continue  # any logged-in account may log out
        # agents may not reach /admin, editors not the inbox, nor the admins' pages about customers' data
        refused = [agent] if route.rule.startswith("/admin") else [editor]
        if route.rule.startswith(ADMIN_ONLY):
            refused.append(editor)
        for who in refused:
            if (status := call(who.client, route, who.csrf).status_code) != 403:
                problems.append(f"{name}: {who.email} got {status}, not 403")
    return problems


def test_every_staff_route_checks_login_and_role(app: Flask, values: dict[str, Any]) -> None:
    assert role_problems(app, values) == []


def test_an_admin_reaches_every_staff_route(app: Flask, values: dict[str, Any]) -> None:
    admin = as_role(app, "root@example.com", Role.ADMIN)
    # changes last, and the erasure of the customer at the very end, so every page finds its data
    found = sorted(
        (r for r in staff_routes(app, values) if r.endpoint != "auth.logout"),  # it would end the session
        key=lambda r: (r.method != "GET", r.endpoint == "admin_privacy.erase"),
    )
    assert len(found) > 30
    for route in found:
        response = call(admin.client, route, admin.csrf)
        assert response.status_code not in (401, 403), (route, response.status_code)
        assert response.status_code < 500, (route, response.get_data(as_text=True)[:300])
        assert "/agent/login" not in response.headers.get("Location", ""), route


CHANGED: list[str] = []


@pytest.fixture
def careless(app: Flask) -> Flask:
    """`app` with what a later change could add: views that forget `role_required`, one exempt from CSRF."""

    def secrets() -> str:
        return "alle Kundendaten"

    def stats() -> str:
        return "{}"

    def new_action() -> str:
        CHANGED.append("new_action")
        return "ok"

    def webhook_like() -> str:
        CHANGED.append("webhook_like")
        return "ok"

    app.add_url_rule("/admin/secrets", "admin_secrets", secrets)
    app.add_url_rule("/agent/stats", "agent_stats", stats, methods=["POST"])
    app.add_url_rule("/export", "export", secrets)
    app.add_url_rule("/agent/new-action", "new_action", new_action, methods=["POST"])
    app.add_url_rule("/agent/webhook-like", "webhook_like", access.csrf.exempt(webhook_like), methods=["POST"])
    return app


def test_the_role_check_finds_a_new_unguarded_route(careless: Flask, values: dict[str, Any]) -> None:
    app = careless
    assert "/export" in {r.rule for r in staff_routes(app, values)}  # outside /agent and /admin: caught too
    problems = role_problems(app, values)
    assert any(p.startswith("GET /admin/secrets: anonymous got 200") for p in problems), problems
    assert any(p.startswith("GET /admin/secrets: agent@example.com got 200") for p in problems), problems
    assert any(p.startswith("POST /agent/stats: anonymous got 200") for p in problems), problems


# --- CSRF ---------------------------------------------------------------------------------------------------------


def faq_files(settings: Settings) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(settings.faq_dir.rglob("*.yml"))}


def changing_routes(app: Flask, values: dict[str, Any]) -> list[Route]:
    """Every POST/PUT/PATCH/DELETE that a browser with a staff session could be tricked into sending."""
    found = [r for r in routes(app, values, CHANGES) if not any(
        r.endpoint == name or (name.endswith(".") and r.endpoint.startswith(name)) for name in TOKEN_OR_SIGNATURE
    )]
    assert {"auth.login", "auth.logout", "inbox.reply", "admin_privacy.erase", "admin_faq.reload"} <= {
        r.endpoint for r in found
    }
    return found


def admins(app: Flask) -> tuple[AgentSession, AgentSession]:
    """Two logged-in admins (every role, so a view would act): the victim, and one whose token is valid elsewhere."""
    return as_role(app, "root@example.com", Role.ADMIN), as_role(app, "other@example.com", Role.ADMIN)


def csrf_problems(app: Flask, values: dict[str, Any], admin: AgentSession, other: AgentSession) -> list[str]:
    """Changes `admin`'s browser could be tricked into; [] when every one needs the session's own token."""
    attempts = {
        "no token": {},
        "another session's token": {"X-CSRFToken": other.csrf},
        "a made-up token": {"X-CSRFToken": "IjEyMyI.forged.token"},
    }
    problems = []
    for route in changing_routes(app, values):
        for kind, headers in attempts.items():
            for body in ({"json": {"text": "Hallo"}}, {"data": {"text": "Hallo", "faq_id": "versand-kosten"}}):
                response = admin.client.open(route.url, method=route.method, headers=headers, **body)
                if response.status_code != 400 or "CSRF" not in response.get_data(as_text=True):
                    problems.append(f"{route.method} {route.rule} with {kind}: {response.status_code}")
    # the session still works with its token: the refusals were CSRF's alone
    assert admin.get("/admin/privacy/").status_code == 200
    return problems


def test_every_change_needs_the_csrf_token_of_its_session(
    app: Flask, values: dict[str, Any], settings: Settings
) -> None:
    admin, other = admins(app)
    before, files = all_rows(app), faq_files(settings)
    assert csrf_problems(app, values, admin, other) == []
    assert all_rows(app) == before and faq_files(settings) == files  # nothing changed, not even half
    assert admin.post(f"/agent/conversations/{values['conversation_id']}/take").status_code == 200  # with it: acts


def test_the_csrf_check_finds_a_new_route_exempted_from_it(careless: Flask, values: dict[str, Any]) -> None:
    CHANGED.clear()
    problems = csrf_problems(careless, values, *admins(careless))
    assert any(p.startswith("POST /agent/webhook-like with no token: 200") for p in problems), problems
    assert not any("/agent/new-action" in p for p in problems)  # a new route is protected without being exempt
    assert "new_action" not in CHANGED and "webhook_like" in CHANGED
