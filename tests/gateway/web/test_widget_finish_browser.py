"""The widget's finish in real headless Chromium (scripted Rasa): after a reload the newest message is in view and
only the latest quick replies are live; one greeting; the launcher's unread badge; the privacy line; the customer's
typing reaches the agent; throttling and a lost network said in German."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from bot.db import get_session
from bot.models import Conversation
from bot.web.limits import TOO_MANY
from tests.support.app import make_app
from tests.support.browser import serve, wait
from tests.support.gateway import ScriptedRasa
from tests.support.login import logged_in
from tests.support.widget_browser import messages, open_chat, say, taken_by_anna, texts

pytestmark = pytest.mark.browser

YES_NO = [{"title": "Ja", "payload": "/feedback_helpful"}, {"title": "Nein", "payload": "/feedback_not_helpful"}]
LONG = "\n".join(f"{n}. Schritt {n} der Rücksendung" for n in range(1, 16))  # taller than the log


def live_buttons(browser: WebDriver) -> list[str]:
    return [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#log .buttons button:enabled")]


def scrolled_to_end(browser: WebDriver) -> bool:
    return browser.execute_script(
        "const log = document.getElementById('log');"
        "return log.scrollHeight > log.clientHeight + 100 && log.scrollTop + log.clientHeight >= log.scrollHeight - 2"
    )


def test_after_a_reload_the_newest_message_shows_and_only_the_latest_buttons_are_live(
    browser: WebDriver, live_url: str, rasa: ScriptedRasa
) -> None:
    rasa.replies.append([{"text": LONG}, {"text": "Hat Ihnen das geholfen?", "buttons": YES_NO}])
    rasa.replies.append([{"text": LONG}, {"text": "Hat Ihnen das geholfen?", "buttons": YES_NO}])
    open_chat(browser, live_url)
    say(browser, "Wie schicke ich etwas zurück?")
    assert live_buttons(browser) == ["Ja", "Nein"]
    say(browser, "Und wie lange dauert das?")  # typed instead of answering: the first row is superseded
    wait(browser, lambda: live_buttons(browser) == ["Ja", "Nein"])
    assert len(browser.find_elements(By.CSS_SELECTOR, "#log .buttons")) == 2
    before = texts(browser)

    open_chat(browser, live_url)  # the page again: the history, scrolled to its end
    wait(browser, lambda: texts(browser) == before)
    wait(browser, lambda: scrolled_to_end(browser))
    rows = browser.find_elements(By.CSS_SELECTOR, "#log .buttons")
    assert [[b.is_enabled() for b in row.find_elements(By.TAG_NAME, "button")] for row in rows] == [
        [False, False],
        [True, True],
    ]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#log ol")) == 2  # the numbered steps are a list
    assert len(browser.find_elements(By.CSS_SELECTOR, "#log .msg.system")) == 1  # one greeting, not one per load

    rows[1].find_element(By.XPATH, "button[text()='Nein']").click()
    wait(browser, lambda: "Nein" in texts(browser)[-2:])
    assert live_buttons(browser) == [] and rasa.received[-1][1] == "/feedback_not_helpful"


def test_the_closed_launcher_counts_new_messages(
    browser: WebDriver, live_url: str, app: Flask, rasa: ScriptedRasa
) -> None:
    conversation_id, anna = taken_by_anna(browser, live_url, app, rasa)
    browser.find_element(By.ID, "close").click()
    browser.switch_to.default_content()
    launcher = browser.find_element(By.CSS_SELECTOR, "button.auskunft-launcher")
    badge = launcher.find_element(By.CSS_SELECTOR, ".auskunft-unread")
    assert not badge.is_displayed() and launcher.get_attribute("aria-label") == "Chat öffnen"
    for text in ("Guten Tag!", "Ich schaue nach."):
        assert anna.post(f"/agent/conversations/{conversation_id}/reply", {"text": text}).status_code == 201
    wait(browser, lambda: badge.is_displayed() and badge.text == "2")
    assert launcher.get_attribute("aria-label") == "Chat öffnen – 2 neue Nachrichten"
    launcher.click()
    wait(browser, lambda: not badge.is_displayed())
    assert launcher.get_attribute("aria-label") == "Chat öffnen"


def test_the_privacy_line_links_the_shops_pages(browser: WebDriver, live_url: str, app: Flask) -> None:
    app.config.update(PRIVACY_URL="https://shop.example/datenschutz", IMPRINT_URL="https://shop.example/impressum")
    open_chat(browser, live_url)
    line = wait(browser, lambda: browser.find_element(By.CSS_SELECTOR, "#legal:not([hidden])"))
    links = [
        (a.text, a.get_attribute("href"), a.get_attribute("rel"), a.get_attribute("target"))
        for a in line.find_elements(By.TAG_NAME, "a")
    ]
    assert links == [
        ("Datenschutz", "https://shop.example/datenschutz", "noopener noreferrer", "_blank"),
        ("Impressum", "https://shop.example/impressum", "noopener noreferrer", "_blank"),
    ]
    app.config.update(PRIVACY_URL="", IMPRINT_URL="")
    open_chat(browser, live_url)
    assert not browser.find_element(By.ID, "legal").is_displayed()  # nothing configured: no line


def test_the_customers_typing_reaches_the_agent(browser: WebDriver, live_url: str, app: Flask) -> None:
    open_chat(browser, live_url)
    browser.find_element(By.ID, "input").send_keys("Ich schreibe n")  # no conversation yet: nothing sent
    say(browser, "och etwas")
    with app.app_context():
        conversation_id = get_session().query(Conversation.id).scalar()
    anna = logged_in(app, "anna@example.com")

    def typing() -> list[str]:
        return anna.get(f"/agent/conversations/{conversation_id}/messages").get_json()["typing"]

    composer = browser.find_element(By.ID, "input")
    composer.send_keys("Noch eine Fr")
    wait(browser, lambda: "contact" in typing())
    composer.send_keys("age", Keys.ENTER)  # sent: typing stops
    wait(browser, lambda: "contact" not in typing())
    composer.send_keys("Und")
    wait(browser, lambda: "contact" in typing())
    browser.find_element(By.ID, "title").click()  # left the field
    wait(browser, lambda: "contact" not in typing())


def test_throttling_and_a_lost_network_are_said_in_german(
    browser: WebDriver, tmp_path: Path, rasa: ScriptedRasa
) -> None:
    limited = make_app(tmp_path, rasa, RATELIMIT_ENABLED=True, RATELIMIT_MESSAGES_PER_CONVERSATION="1 per minute")
    with serve(limited) as url:
        open_chat(browser, url)
        say(browser, "Erste Frage")
        browser.find_element(By.ID, "input").send_keys("Zweite Frage", Keys.ENTER)
        wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#log .msg.system")[-1].text == TOO_MANY)
    # the gateway gone: the customer reads the retry line, no status code
    browser.find_element(By.ID, "input").send_keys("Dritte Frage", Keys.ENTER)
    line = wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#log .msg.system")[-1].text)
    wait(browser, lambda: "Keine Verbindung" in browser.find_elements(By.CSS_SELECTOR, "#log .msg.system")[-1].text)
    assert messages(browser) and "429" not in line
