"""The widget in headless Chromium, as a customer uses it: open the chat, type, read the log; an agent taking over."""

from __future__ import annotations

from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from bot.db import get_session
from bot.models import Conversation
from tests.support.browser import wait
from tests.support.gateway import ScriptedRasa
from tests.support.login import AgentSession, logged_in

HANDOFF = {
    "custom": {
        "type": "handoff", "reason": "requested", "candidates": [], "summary": "Übergabe: Kunde möchte einen Menschen."
    }
}


def open_chat(browser: WebDriver, url: str) -> None:
    """Load the demo page, open the launcher and switch into the chat iframe once it has its conversation."""
    browser.switch_to.default_content()
    browser.get(url)
    wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "button.auskunft-launcher"))
    browser.find_element(By.CSS_SELECTOR, "button.auskunft-launcher").click()
    frame = browser.find_element(By.CSS_SELECTOR, "iframe.auskunft-frame")
    wait(browser, frame.is_displayed)
    browser.switch_to.frame(frame)
    wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#log .msg.system"))  # the greeting


def messages(browser: WebDriver) -> list[WebElement]:
    return browser.find_elements(By.CSS_SELECTOR, "#log .msg:not(.system)")


def texts(browser: WebDriver) -> list[str]:
    return [m.text for m in messages(browser)]


def ask_for_a_person(browser: WebDriver, text: str) -> None:
    """Type a request for a person; the answer is the gateway's one handoff message (a system note)."""
    before = len(browser.find_elements(By.CSS_SELECTOR, "#log .msg"))
    browser.find_element(By.ID, "input").send_keys(text, Keys.ENTER)
    wait(browser, lambda: len(browser.find_elements(By.CSS_SELECTOR, "#log .msg")) >= before + 2)


def say(browser: WebDriver, text: str) -> None:
    """Type into the composer and press Enter, as a customer does."""
    before = len(messages(browser))
    browser.find_element(By.ID, "input").send_keys(text, Keys.ENTER)
    wait(browser, lambda: len(messages(browser)) >= before + 2)  # the customer's text and the (scripted) answer


def taken_by_anna(
    browser: WebDriver,
    live_url: str,
    app: Flask,
    rasa: ScriptedRasa,
    question: str = "Mensch bitte",
) -> tuple[int, AgentSession]:
    """The customer asks for a person (the bot hands off, no text of its own); Anna takes the conversation.
    Its id, and Anna."""
    rasa.replies.append([HANDOFF])
    open_chat(browser, live_url)
    ask_for_a_person(browser, question)
    with app.app_context():
        conversation_id = get_session().query(Conversation.id).scalar()
    anna = logged_in(app, "anna@example.com")
    assert anna.post(f"/agent/conversations/{conversation_id}/take").status_code == 200
    return conversation_id, anna


def closed_by_anna(browser: WebDriver, live_url: str, app: Flask, rasa: ScriptedRasa) -> int:
    """The customer asks for a person; Anna takes the conversation and closes it. Its id."""
    conversation_id, anna = taken_by_anna(browser, live_url, app, rasa)
    assert anna.post(f"/agent/conversations/{conversation_id}/close").status_code == 200
    return conversation_id
