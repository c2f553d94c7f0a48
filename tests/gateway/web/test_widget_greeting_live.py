"""One greeting, against the real Rasa + action server: the widget greets at once, and a customer who answers
"Hallo" gets an invitation to ask rather than Rasa's introduction; Rasa still greets where no widget did."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from bot.integrations.rasa_client import RasaClient
from rasa_runtime.processes import Services
from tests.support.app import make_app
from tests.support.browser import wait
from tests.support.rest_chat import Chat, texts
from tests.support.widget_browser import messages, open_chat

pytestmark = [pytest.mark.browser, pytest.mark.rasa]

RESPONSES = yaml.safe_load((Path(__file__).resolve().parents[3] / "domain.yml").read_text(encoding="utf-8"))[
    "responses"
]
GREETINGS = {r["text"] for r in RESPONSES["utter_greet"]}
INVITATIONS = {r["text"] for r in RESPONSES["utter_invite_question"]}


@pytest.fixture
def app(tmp_path: Path, rasa_services: Services) -> Flask:
    return make_app(tmp_path, RasaClient(rasa_services.settings.rasa_url, timeout=120))


def test_the_widget_greets_once(browser: WebDriver, live_url: str, rasa_services: Services) -> None:
    open_chat(browser, live_url)
    [greeting] = browser.find_elements(By.CSS_SELECTOR, "#log .msg.system")
    assert greeting.text.startswith("Hallo!")
    browser.find_element(By.ID, "input").send_keys("Hallo", Keys.ENTER)
    wait(browser, lambda: len(messages(browser)) >= 2, timeout=60)
    question, answer = messages(browser)
    assert question.text == "Hallo" and answer.text in INVITATIONS  # no second introduction

    # Messenger's "Get Started", an SMS "Hallo": no widget greeted, so Rasa does
    assert texts(Chat(rasa_services.settings.rasa_url).say("Hallo")) in GREETINGS
