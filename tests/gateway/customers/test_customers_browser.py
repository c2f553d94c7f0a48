"""The "Kunde" panel in real headless Chromium: the earlier conversation unfolds, the link and unlink forms
post with their CSRF token and come back to the page with a note."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.gateway.customers.test_customers import HANDOFF, contact_of
from tests.support.browser import log_in, wait
from tests.support.gateway import Customer, ScriptedRasa, conversation_id
from tests.support.login import add_account

pytestmark = pytest.mark.browser


def page_text(driver: WebDriver) -> str:
    """The page's text, or "" while the browser is between two pages."""
    try:
        return driver.find_element(By.TAG_NAME, "body").text
    except (NoSuchElementException, StaleElementReferenceException):
        return ""


def test_agent_unfolds_the_earlier_conversation_links_and_unlinks_in_the_browser(  # type: ignore[no-untyped-def]
    app: Flask,
    client: FlaskClient,
    rasa: ScriptedRasa,
    browser: WebDriver,
    live_url: str,
) -> None:
    first, second = Customer(client), Customer(client)
    for customer, question in ((first, "Wo bleibt meine Erstattung?"), (second, "Ich will einen Menschen")):
        rasa.replies.append(HANDOFF)
        customer.say(question)
        assert client.post(f"{customer.base}/contact", json={"email": "eva@example.de"}).status_code == 201
    first_id, second_id = conversation_id(app, first.token), conversation_id(app, second.token)
    add_account(app, "anna@example.com")

    log_in(browser, live_url, "anna@example.com")
    wait(browser, lambda: "Stammkunde: 1 früheres Gespräch" in page_text(browser))
    browser.get(f"{live_url}/agent/conversations/{second_id}")

    earlier = browser.find_element(By.CSS_SELECTOR, f'details.earlier[data-conversation="{first_id}"]')
    transcript = earlier.find_element(By.CSS_SELECTOR, "ol.transcript")
    assert not transcript.is_displayed()  # folded until the agent asks
    earlier.find_element(By.TAG_NAME, "summary").click()
    wait(browser, transcript.is_displayed)
    assert "Wo bleibt meine Erstattung?" in transcript.text

    browser.find_element(By.ID, "link-kind").send_keys("Telefon")
    browser.find_element(By.ID, "link-value").send_keys("030 1234567")
    browser.find_element(By.CSS_SELECTOR, "form.link-customer button").click()
    wait(browser, lambda: "Telefon +49301234567 gehört jetzt zu diesem Kunden." in page_text(browser))
    identifiers = browser.find_element(By.CSS_SELECTOR, "table.identifiers").text
    assert "+49301234567" in identifiers and "Kundenservice" in identifiers

    earlier = browser.find_element(By.CSS_SELECTOR, f'details.earlier[data-conversation="{first_id}"]')
    earlier.find_element(By.TAG_NAME, "summary").click()  # the page is new: folded again
    earlier.find_element(By.XPATH, f".//button[text()='Gespräch {first_id} von diesem Kunden lösen']").click()
    wait(browser, lambda: f"Gespräch {first_id} gehört jetzt zu einem eigenen Kunden." in page_text(browser))
    assert browser.current_url.endswith(f"/agent/conversations/{second_id}")
    assert "Keine anderen Gespräche." in browser.find_element(By.ID, "customer").text
    assert contact_of(app, first_id) != contact_of(app, second_id)
