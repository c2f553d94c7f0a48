"""Issue 15 in the widget, in real headless Chromium against the real Rasa + action server: "Wo ist mein Paket?"
is answered with the order look-up in the same turn (number and proof asked at once, the tracking FAQ as a button),
and the demo order LG-123456 — due on 27.11.2026, before any day these tests run — is said to be overdue, with a
person's Nachforschung offered; "Ja, bitte" queues the conversation with the reason "Zustellung überfällig".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from bot.db import get_session
from bot.integrations.rasa_client import RasaClient
from bot.models import Conversation
from rasa_runtime.processes import Services
from tests.support.app import make_app
from tests.support.browser import wait
from tests.support.widget_browser import open_chat, say, texts

pytestmark = [pytest.mark.browser, pytest.mark.rasa]


@pytest.fixture
def app(tmp_path: Path, rasa_services: Services) -> Flask:
    """The gateway on the real Rasa; `live_url` (tests/gateway/conftest.py) serves this app."""
    return make_app(
        tmp_path, RasaClient(rasa_services.settings.rasa_url, timeout=120), BUSINESS_HOURS="mo-so 00:00-24:00"
    )


def button_titles(browser: WebDriver) -> list[str]:
    return [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#log .buttons button")]


def test_where_is_my_parcel_in_the_widget(browser: WebDriver, live_url: str, app: Flask) -> None:
    open_chat(browser, live_url)
    say(browser, "Wo ist mein Paket?")
    wait(browser, lambda: "Wie kann ich meine Sendung verfolgen?" in button_titles(browser), timeout=60)
    asked = texts(browser)[-1]
    assert asked.startswith("Ich sehe gern nach, wo Ihre Bestellung ist.") and "Postleitzahl" in asked, asked
    assert "Meinten Sie" not in browser.find_element(By.ID, "log").text

    say(browser, "LG-123456 10115")
    wait(browser, lambda: "Ja, bitte" in button_titles(browser), timeout=60)
    log = browser.find_element(By.ID, "log").text
    assert "Die Zustellung war für Freitag, 27.11.2026 angekündigt; das ist leider schon vorbei." in log, log
    assert "Nachforschungsauftrag bei DHL" in log

    [yes] = [b for b in browser.find_elements(By.CSS_SELECTOR, "#log .buttons button") if b.text == "Ja, bitte"]
    yes.click()
    with app.app_context():
        session = get_session()

        def queued() -> bool:
            session.expire_all()  # the gateway's threads wrote it
            return session.query(Conversation).one().state == "waiting_for_agent"

        wait(browser, queued, timeout=60)
        conversation = session.query(Conversation).one()
        assert conversation.handoff_reason == "delivery_overdue"
        assert conversation.handoff["summary"].startswith("Übergabe: Zustellung überfällig.")
