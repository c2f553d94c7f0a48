"""A customer waiting for a person, in Chromium against the real Rasa + action server: the bot keeps answering.

On a Sunday (fixed clock, default hours): the honest notice, an FAQ answered meanwhile, the request withdrawn
with the notice's button. With an agent online: the bot answers meanwhile and stays silent once the agent has
taken the conversation (the widget shows what a send's response brings, so the customer's line appearing means
every reply to it is there).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from bot.conversation import states, waiting
from bot.conversation.availability import BERLIN
from bot.db import get_session
from bot.integrations.rasa_client import RasaClient
from bot.models import Conversation
from rasa_runtime.processes import Services
from tests.support.app import make_app
from tests.support.browser import wait
from tests.support.login import logged_in
from tests.support.widget_browser import open_chat

pytestmark = [pytest.mark.browser, pytest.mark.rasa]

SUNDAY_NOON = datetime(2026, 11, 29, 12, 0, tzinfo=BERLIN)
MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=BERLIN)
moment = [SUNDAY_NOON]


@pytest.fixture
def app(tmp_path: Path, rasa_services: Services) -> Flask:
    """The gateway on the real Rasa, its clock `moment[0]`; `live_url` (tests/gateway/conftest.py) serves it."""
    return make_app(tmp_path, RasaClient(rasa_services.settings.rasa_url, timeout=120), CLOCK=lambda: moment[0])


def log_text(browser: WebDriver) -> str:
    return browser.find_element(By.ID, "log").text


def ask(browser: WebDriver, text: str, then: str) -> None:
    """Type `text`, wait until `then` shows in the log (the real bot takes a moment)."""
    browser.find_element(By.ID, "input").send_keys(text, Keys.ENTER)
    wait(browser, lambda: then in log_text(browser), timeout=60)


def test_sunday_handoff_answer_meanwhile_then_withdraw(browser: WebDriver, live_url: str, app: Flask) -> None:
    moment[0] = SUNDAY_NOON
    open_chat(browser, live_url)
    ask(browser, "Ich möchte bitte mit einem Mitarbeiter sprechen", "nicht besetzt")
    assert "Einen Moment" not in log_text(browser) and "meldet sich" not in log_text(browser)
    assert browser.find_elements(By.CSS_SELECTOR, "#log .contact-form, #log form")  # a way back by e-mail/phone

    ask(browser, "Was kostet der Versand?", waiting.TEXTS["still_open"])
    assert "4,95" in log_text(browser)

    live = browser.find_elements(By.CSS_SELECTOR, "#log .buttons button:enabled")
    [withdraw] = [b for b in live if b.text == "Hat sich erledigt"][-1:]
    withdraw.click()
    wait(browser, lambda: states.TEXTS["withdrawn"] in log_text(browser), timeout=60)
    with app.app_context():
        assert get_session().query(Conversation.state).scalar() == "bot"


def test_agent_online_bot_answers_meanwhile_and_is_silent_once_taken(
    browser: WebDriver, live_url: str, app: Flask
) -> None:
    moment[0] = MONDAY_NOON
    anna = logged_in(app, "anna@example.com", name="Anna")  # logged in: online
    open_chat(browser, live_url)
    ask(browser, "Ich möchte mit einem Mitarbeiter sprechen", "Platz 1 der Warteschlange")
    ask(browser, "Was kostet der Versand?", waiting.TEXTS["still_open"])
    assert "4,95" in log_text(browser)

    with app.app_context():
        conversation_id = get_session().query(Conversation.id).scalar()
    assert anna.post(f"/agent/conversations/{conversation_id}/take").status_code == 200
    wait(browser, lambda: "Anna vom Kundenservice ist jetzt im Chat." in log_text(browser), timeout=10)
    ask(browser, "Wie lange dauert die Lieferung?", "Wie lange dauert die Lieferung?")
    # a second message waits for the first one's turn (one at a time per conversation): once it is answered,
    # everything the first one caused is stored
    with app.app_context():
        token = get_session().query(Conversation.token).scalar()
    second = app.test_client().post(f"/api/widget/conversations/{token}/messages", json={"text": "Noch da?"})
    assert [m["sender"] for m in second.json["messages"]] == ["contact"]
    with app.app_context():
        stored = states.messages_after(get_session(), conversation_id, 0)
    assert [m.text for m in stored[-2:]] == ["Wie lange dauert die Lieferung?", "Noch da?"]  # no bot in between
    wait(browser, lambda: "Noch da?" in log_text(browser), timeout=10)
    assert log_text(browser).rstrip().endswith("Noch da?")
