"""CSAT in the real widget (headless Chromium, scripted Rasa): the rating buttons after an agent closes the
conversation post into that closed conversation, and the ☆ button in the header rates at any time."""

from __future__ import annotations

import pytest
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from bot.conversation import csat
from bot.db import get_session
from bot.models import Conversation, Rating
from tests.support.browser import wait
from tests.support.gateway import ScriptedRasa
from tests.support.widget_browser import closed_by_anna, open_chat, say, texts

pytestmark = pytest.mark.browser


def ratings(app: Flask) -> list[tuple[int, int]]:
    with app.app_context():
        return [(r.conversation_id, r.score) for r in get_session().query(Rating)]


def rating_buttons(browser: WebDriver) -> list[str]:
    """The live rating buttons (an answered row stays, disabled)."""
    return [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#log li.buttons.rating button:enabled")]


def test_rating_after_the_agent_closes(browser: WebDriver, live_url: str, app: Flask, rasa: ScriptedRasa) -> None:
    conversation_id = closed_by_anna(browser, live_url, app, rasa)
    wait(browser, lambda: rating_buttons(browser) == ["1", "2", "3", "4", "5"])
    assert csat.REQUEST_TEXT in texts(browser)
    wait(browser, lambda: "Dieses Gespräch ist beendet." in browser.find_element(By.ID, "log").text)

    browser.find_elements(By.CSS_SELECTOR, "#log li.rating button")[3].click()
    wait(browser, lambda: texts(browser)[-1] == csat.THANKS_TEXT)
    assert ratings(app) == [(conversation_id, 4)]  # into the closed conversation, not a new one
    assert rating_buttons(browser) == []
    with app.app_context():
        assert get_session().query(Conversation).count() == 1


def test_the_header_star_rates_the_open_conversation(
    browser: WebDriver, live_url: str, app: Flask, rasa: ScriptedRasa
) -> None:
    open_chat(browser, live_url)
    browser.find_element(By.ID, "rate").click()
    assert "Schreiben Sie uns zuerst" in browser.find_element(By.ID, "log").text  # nothing to rate yet
    say(browser, "Hallo")
    browser.find_element(By.ID, "rate").click()
    browser.find_element(By.ID, "rate").click()  # a second click adds no second row
    wait(browser, lambda: rating_buttons(browser) == ["1", "2", "3", "4", "5"])
    browser.find_elements(By.CSS_SELECTOR, "#log li.rating button")[4].click()
    wait(browser, lambda: texts(browser)[-1] == csat.THANKS_TEXT)
    with app.app_context():
        conversation_id = get_session().query(Conversation.id).scalar()
    assert ratings(app) == [(conversation_id, 5)]
    assert [sender for sender, _ in rasa.received] and all(m == "Hallo" for _, m in rasa.received)  # Rasa saw no rating
