"""The whole handoff journey in two real Chromiums (customer and agent) against the real Rasa + action server.

The scripted-Rasa browser tests check the widget; this one checks that the pieces meet: the real bot's
answer and feedback buttons, its handoff payload in the inbox, the agent's reply over SSE, and the bot
answering again after the give-back. Hours are always open so the journey does not depend on the clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from bot.integrations.rasa_client import RasaClient
from rasa_runtime.processes import Services
from tests.support.app import make_app
from tests.support.browser import chromium, log_in, shoot, wait
from tests.support.login import add_account
from tests.support.widget_browser import ask_for_a_person, messages, open_chat, say, texts

pytestmark = [pytest.mark.browser, pytest.mark.rasa]



@pytest.fixture
def app(tmp_path: Path, rasa_services: Services) -> Flask:
    """The gateway on the real Rasa; `live_url` (tests/gateway/conftest.py) serves this app."""
    return make_app(
        tmp_path, RasaClient(rasa_services.settings.rasa_url, timeout=120), BUSINESS_HOURS="mo-so 00:00-24:00"
    )


@pytest.fixture
def agent_browser() -> Iterator[WebDriver]:
    """A second Chromium with its own profile: the agent's cookies never meet the customer's storage."""
    with chromium("1200,1000") as driver:
        yield driver


def buttons(driver: WebDriver) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, "#log .buttons button:enabled")


def bot_answer(customer: WebDriver, question: str) -> str:
    """Ask, wait for the bot; on a clarification take its first option. Returns the log's text."""
    say(customer, question)
    wait(customer, lambda: customer.find_elements(By.CSS_SELECTOR, "#log .buttons button:enabled"), timeout=60)
    titles = [b.text for b in customer.find_elements(By.CSS_SELECTOR, "#log .buttons button:enabled")]
    if "Nein" not in titles:  # a clarification: the first candidate
        customer.find_elements(By.CSS_SELECTOR, "#log .buttons button:enabled")[0].click()
        wait(
            customer,
            lambda: "Nein" in [b.text for b in customer.find_elements(By.CSS_SELECTOR, "#log .buttons button:enabled")],
            timeout=60,
        )
    return customer.find_element(By.ID, "log").text


def test_customer_bot_agent_and_back(browser: WebDriver, agent_browser: WebDriver, live_url: str, app: Flask) -> None:
    add_account(app, "anna@example.com")
    agent = agent_browser  # logged in first: present, so the customer hears a queue position, not "nobody there"
    log_in(agent, live_url, "anna@example.com", next_path="/agent/")
    wait(agent, lambda: "Niemand wartet." in agent.find_element(By.TAG_NAME, "body").text)

    customer = browser
    customer.set_window_size(1200, 900)
    open_chat(customer, live_url)
    log = bot_answer(customer, "Wie kann ich meine Sendung verfolgen?")  # "Wo ist mein Paket?": the order look-up
    assert "Sendungsverfolgung" in log, log
    customer.switch_to.default_content()
    shoot(customer, "widget.png")
    customer.switch_to.frame(customer.find_element(By.CSS_SELECTOR, "iframe.auskunft-frame"))
    before = len(messages(customer))
    [no] = [b for b in customer.find_elements(By.CSS_SELECTOR, "#log .buttons button:enabled") if b.text == "Nein"]
    no.click()
    wait(customer, lambda: len(messages(customer)) >= before + 2, timeout=60)
    ask_for_a_person(customer, "Ich möchte mit einem Menschen sprechen")  # answered by one system note
    wait(customer, lambda: "Sie sind auf Platz 1 der Warteschlange" in customer.find_element(By.ID, "log").text, 60)

    agent.get(f"{live_url}/agent")  # the queue again, now with the customer
    row = wait(agent, lambda: agent.find_element(By.CSS_SELECTOR, "#list-waiting .entry").text)  # the live list
    assert "Kunde möchte einen Menschen" in row and "Übergabe:" not in row  # the reason once
    agent.find_element(By.CSS_SELECTOR, "#list-waiting .entry a").click()
    transcript = wait(agent, lambda: agent.find_element(By.ID, "transcript"))
    customer_lines = [e.text for e in transcript.find_elements(By.CSS_SELECTOR, ".msg.contact .text")]
    assert customer_lines[0] == "Wie kann ich meine Sendung verfolgen?"
    assert "Ich möchte mit einem Menschen sprechen" in customer_lines
    handoff_text = agent.find_element(By.CSS_SELECTOR, "section.handoff").text
    assert handoff_text.startswith("Grund: Kunde möchte einen Menschen")
    assert "Zuletzt beantwortet: „Wie kann ich meine Sendung verfolgen?“" in handoff_text  # the question, not its id
    assert "Kandidaten des Bots" in agent.find_element(By.ID, "reasoning").text

    agent.find_element(By.ID, "take").click()
    wait(agent, lambda: agent.find_element(By.ID, "state").text == "beim Kundenservice")
    wait(customer, lambda: "Anna vom Kundenservice ist jetzt im Chat." in customer.find_element(By.ID, "log").text)
    agent.find_element(By.ID, "reply-text").send_keys("Ich schaue sofort nach Ihrem Paket.")
    agent.find_element(By.CSS_SELECTOR, "#reply button").click()
    reply = wait(customer, lambda: customer.find_element(By.CSS_SELECTOR, "#log .msg.agent"), timeout=3)
    assert "Ich schaue sofort nach Ihrem Paket." in reply.text
    agent.execute_script("window.scrollTo(0, 0)")
    shoot(agent, "inbox.png")

    agent.find_element(By.ID, "give-back").click()
    wait(agent, lambda: agent.find_element(By.ID, "state").text == "beim Bot")
    log = bot_answer(customer, "Was kostet der Versand?")
    assert "4,95" in log, log
    last_row = "const r = document.querySelector('#transcript li:last-child'); return r && r.className + r.textContent"
    # the bot's new rows arrive live in the open inbox page, its buttons included
    wait(agent, lambda: "[Ja | Nein]" in agent.execute_script(last_row) and "bot" in agent.execute_script(last_row), 10)
    assert texts(customer)[-1]  # the feedback question after the bot's answer
