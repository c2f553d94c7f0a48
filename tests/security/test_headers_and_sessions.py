"""Issue 13, items 5 and 6: security headers on every kind of page, and staff sessions that really end.

Probed as an attacker would: the response headers a framing page or a sniffing browser meets, a session cookie
copied before logout and replayed after it, a session left idle or kept alive past its lifetime, the cookie's
flags with an https public URL; and Chromium showing that the inbox and the widget still work under the CSP.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from bot import config, create_app
from bot.models import Role
from tests.support import databases
from tests.support.app import make_app
from tests.support.browser import chromium, log_in, serve, wait
from tests.support.gateway import ScriptedRasa
from tests.support.login import AgentSession, add_account, logged_in
from tests.support.widget_browser import HANDOFF, ask_for_a_person, open_chat, say


class Clock:
    """The sessions' clock (`SESSION_CLOCK`), moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(tmp_path: Path, rasa: ScriptedRasa, clock: Clock) -> Flask:
    return make_app(tmp_path, rasa, SESSION_CLOCK=clock)


def policy(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The Content-Security-Policy as {directive: sources}."""
    header = response.headers.get("Content-Security-Policy", "")
    assert header, f"no Content-Security-Policy on {response.request.path}"
    return {part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2] for part in header.split(";") if part.strip()}


def assert_common_headers(response) -> None:  # type: ignore[no-untyped-def]
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") == "strict-origin-when-cross-origin"


def assert_no_inline_scripts(csp: dict[str, str]) -> None:
    scripts = csp.get("script-src", csp.get("default-src", ""))
    assert scripts and "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert "'unsafe-inline'" not in csp.get("default-src", "")


# --- headers ------------------------------------------------------------------------------------------------------


def test_staff_pages_forbid_inline_scripts_and_any_frame(app: Flask) -> None:
    admin = logged_in(app, "root@example.com", Role.ADMIN)
    for path in ("/agent/", "/admin/", "/admin/privacy/", "/agent/login"):
        response = admin.get(path)
        assert response.status_code == 200, path
        csp = policy(response)
        assert_no_inline_scripts(csp)
        assert csp["frame-ancestors"] == "'none'", path
        assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
        assert response.headers.get("X-Frame-Options") == "DENY"
        assert_common_headers(response)


def test_a_same_site_page_may_not_frame_the_privacy_delete_form(app: Flask) -> None:
    # the review framed /admin/privacy/ of a logged-in admin from a page of the same site: 'self' would allow that
    admin = logged_in(app, "root@example.com", Role.ADMIN)
    response = admin.get("/admin/privacy/", headers={"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "same-origin"})
    assert "'self'" not in policy(response)["frame-ancestors"]
    assert response.headers["X-Frame-Options"] == "DENY"  # not SAMEORIGIN


def test_the_widget_frame_may_be_framed_by_the_shop_origins_only(tmp_path: Path) -> None:
    default = make_app(tmp_path / "a").test_client().get("/widget/chat.html")
    assert default.status_code == 200
    csp = policy(default)
    assert csp["frame-ancestors"] == "'self'"
    assert_no_inline_scripts(csp)
    assert "X-Frame-Options" not in default.headers  # DENY would hide the chat from the shop
    assert_common_headers(default)

    shop = make_app(tmp_path / "b", WIDGET_FRAME_ANCESTORS="'self' https://shop.example")
    assert policy(shop.test_client().get("/widget/chat.html"))["frame-ancestors"] == "'self' https://shop.example"


def test_the_widget_frame_origins_come_from_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(config, "VAR", tmp_path / "var")
    monkeypatch.delenv("AUSKUNFT_CONFIG_FILE", raising=False)
    monkeypatch.setenv("AUSKUNFT_WIDGET_FRAME_ANCESTORS", "https://shop.example")
    assert config.from_env()["WIDGET_FRAME_ANCESTORS"] == "https://shop.example"


def test_the_api_and_the_demo_shop_have_the_headers_too(client_app: Flask) -> None:
    client = client_app.test_client()
    started = client.post("/api/widget/conversations")
    assert started.status_code == 201
    assert_common_headers(started)
    assert policy(started)["frame-ancestors"] == "'none'"
    shop = client.get("/")
    assert_common_headers(shop)
    assert_no_inline_scripts(policy(shop))
    assert "<script>" not in shop.get_data(as_text=True) and "<style>" not in shop.get_data(as_text=True)


@pytest.fixture
def client_app(tmp_path: Path) -> Flask:
    return make_app(tmp_path / "api")


def test_no_template_or_widget_page_has_inline_code() -> None:
    root = Path(__file__).resolve().parents[2]
    pages = [*root.joinpath("bot", "templates").rglob("*.html"), root / "web_widget" / "chat.html"]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "<script>" not in text and "<style>" not in text, page
        assert " onclick=" not in text and " onload=" not in text and " onsubmit=" not in text, page


# --- sessions -----------------------------------------------------------------------------------------------------


def replay(app: Flask, cookie: str):  # type: ignore[no-untyped-def]
    """A fresh client that only has the copied session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def test_a_session_cookie_copied_before_logout_is_worthless_after_it(app: Flask) -> None:
    admin = logged_in(app, "root@example.com", Role.ADMIN)
    cookie = admin.client.get_cookie("session").value
    assert replay(app, cookie).get("/admin/privacy/").status_code == 200  # the copy works while logged in

    assert admin.client.post("/agent/logout", data={"csrf_token": admin.csrf}).status_code == 302

    thief = replay(app, cookie)
    for path in ("/agent/", "/admin/privacy/"):
        response = thief.get(path)
        assert response.status_code == 302 and "/agent/login" in response.headers["Location"], path
    assert thief.get("/agent/", headers={"Accept": "application/json"}).status_code in (302, 401)

    # logging in again works, with a new cookie; the old one stays dead
    again = AgentSession(app, "root@example.com")
    assert again.get("/admin/privacy/").status_code == 200
    assert replay(app, cookie).get("/admin/privacy/").status_code == 302


def test_a_session_ends_after_the_idle_time(app: Flask, clock: Clock) -> None:
    anna = logged_in(app, "anna@example.com")
    clock.now += 119 * 60
    assert anna.get("/agent/").status_code == 200  # within two hours: still in, and seen again now
    clock.now += 119 * 60
    assert anna.get("/agent/").status_code == 200
    clock.now += 2 * 3600 + 1
    response = anna.get("/agent/")
    assert response.status_code == 302 and "/agent/login" in response.headers["Location"]


def test_a_session_ends_after_its_lifetime_however_active(app: Flask, clock: Clock) -> None:
    anna = logged_in(app, "anna@example.com")
    for _ in range(11):
        clock.now += 3600
        assert anna.get("/agent/").status_code == 200
    clock.now += 3601  # 12 h and a second after the login
    response = anna.get("/agent/")
    assert response.status_code == 302 and "/agent/login" in response.headers["Location"]


def test_lifetime_and_idle_time_are_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(config, "VAR", tmp_path / "var")
    monkeypatch.delenv("AUSKUNFT_CONFIG_FILE", raising=False)
    defaults = config.from_env()
    assert defaults["PERMANENT_SESSION_LIFETIME"].total_seconds() == 12 * 3600
    assert defaults["SESSION_IDLE_SECONDS"] == 2 * 3600
    monkeypatch.setenv("AUSKUNFT_SESSION_HOURS", "8")
    monkeypatch.setenv("AUSKUNFT_SESSION_IDLE_MINUTES", "30")
    settings = config.from_env()
    assert settings["PERMANENT_SESSION_LIFETIME"].total_seconds() == 8 * 3600
    assert settings["SESSION_IDLE_SECONDS"] == 30 * 60


def login_response(app: Flask):  # type: ignore[no-untyped-def]
    add_account(app, "anna@example.com")
    client = app.test_client()
    page = client.get("/agent/login").get_data(as_text=True)
    token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    form = {"email": "anna@example.com", "password": "geheim-genug-123", "csrf_token": token}
    response = client.post("/agent/login", data=form)
    assert response.status_code == 302
    return response


@pytest.fixture
def env_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[object]:
    """A gateway from the environment's settings (no operator file), as `python -m bot run` builds it."""
    monkeypatch.setattr(config, "VAR", tmp_path / "var")
    monkeypatch.delenv("AUSKUNFT_CONFIG_FILE", raising=False)
    monkeypatch.delenv("AUSKUNFT_SECURE_COOKIES", raising=False)

    def build(name: str) -> Flask:
        url = f"sqlite:///{tmp_path / f'{name}.db'}"
        databases.migrate(url)
        return create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url})

    yield build


def test_secure_cookies_and_hsts_by_default_with_an_https_public_url(
    env_app, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("AUSKUNFT_PUBLIC_URL", "https://chat.shop.example")
    app = env_app("https")
    response = login_response(app)
    cookie = response.headers["Set-Cookie"]
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Expires=" in cookie  # the lifetime, not "until the browser closes"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_the_plain_http_demo_on_localhost_keeps_working(env_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("AUSKUNFT_PUBLIC_URL", raising=False)
    response = login_response(env_app("demo"))
    assert "; Secure" not in response.headers["Set-Cookie"]  # else no browser keeps it on http://127.0.0.1
    assert "Strict-Transport-Security" not in response.headers


def test_the_explicit_setting_wins(env_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AUSKUNFT_PUBLIC_URL", "https://chat.shop.example")
    monkeypatch.setenv("AUSKUNFT_SECURE_COOKIES", "false")
    assert "; Secure" not in login_response(env_app("off")).headers["Set-Cookie"]
    monkeypatch.delenv("AUSKUNFT_PUBLIC_URL")
    monkeypatch.setenv("AUSKUNFT_SECURE_COOKIES", "true")  # behind a TLS proxy without a public URL
    assert "; Secure" in login_response(env_app("on")).headers["Set-Cookie"]


# --- in Chromium --------------------------------------------------------------------------------------------------


def csp_violations(browser: WebDriver) -> list[str]:
    entries = [entry["message"] for entry in browser.get_log("browser")]
    return [m for m in entries if "Content Security Policy" in m or "Refused to" in m]


@pytest.mark.browser
def test_the_widget_and_the_inbox_work_under_the_policy(app: Flask, rasa: ScriptedRasa) -> None:
    with chromium() as browser, serve(app) as url:
        browser.get_log("browser")  # start clean
        # the customer: the demo shop, the launcher, the chat frame, a question, its answer, a handoff
        open_chat(browser, url)
        say(browser, "Wie lange dauert der Versand?")
        assert "Echo: Wie lange dauert der Versand?" in browser.find_element(By.ID, "log").text
        rasa.replies.append([HANDOFF])
        ask_for_a_person(browser, "Mensch bitte")
        browser.switch_to.default_content()
        assert csp_violations(browser) == []

        # the agent: the queue (its live list, a script file with its SSE stream), the conversation (inbox.js), /admin
        add_account(app, "root@example.com", Role.ADMIN)
        log_in(browser, url, "root@example.com")
        browser.get(f"{url}/agent/")
        wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#list-waiting .entry"))
        with app.app_context():
            from bot.db import get_session
            from bot.models import Conversation

            number, token = get_session().query(Conversation.id, Conversation.token).one()
        browser.get(f"{url}/agent/conversations/{number}")
        wait(browser, lambda: "Wie lange dauert der Versand?" in browser.find_element(By.ID, "transcript").text)
        # inbox.js (a script file) polls: a new customer message appears without a reload
        sent = app.test_client().post(f"/api/widget/conversations/{token}/messages", json={"text": "Noch da?"})
        assert sent.status_code == 201
        wait(browser, lambda: "Noch da?" in browser.find_element(By.ID, "transcript").text)
        browser.get(f"{url}/admin/")
        browser.get(f"{url}/admin/privacy/")
        assert csp_violations(browser) == []

        # and a same-site page that frames a staff page gets nothing: the frame stays empty
        browser.get(f"{url}/")
        browser.execute_script(
            "const f = document.createElement('iframe'); f.id = 'evil'; f.src = '/admin/privacy/';"
            "document.body.appendChild(f);"
        )
        wait(browser, lambda: any("frame-ancestors" in m for m in csp_violations(browser)))
        assert browser.execute_script("return document.getElementById('evil').contentDocument") is None

