"""Two agents in Chromium: Anna takes a conversation, notes something and hands it to Bernd; Bernd's list shows
it by itself, he answers with a Textbaustein, and the customer gets Bernd's reply — and never the note."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from bot.models import Role
from tests.support.bot_replies import HANDOFF
from tests.support.browser import chromium, log_in, wait
from tests.support.gateway import Customer, ScriptedRasa, conversation_id
from tests.support.login import add_account
from tests.support.visible_text import internal_words

pytestmark = pytest.mark.browser
NOTE = "Kundin hat schon zweimal angerufen"


@pytest.fixture
def second_browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


def test_anna_hands_the_conversation_to_bernd_who_answers_with_a_snippet(
    app: Flask, rasa: ScriptedRasa, browser: WebDriver, second_browser: WebDriver, live_url: str
) -> None:
    rasa.replies.append(HANDOFF)
    customer = Customer(app.test_client())
    customer.say("Ich will einen Menschen")
    cid = conversation_id(app, customer.token)
    add_account(app, "anna@example.com", Role.AGENT, "Anna")
    add_account(app, "bernd@example.com", Role.AGENT, "Bernd")

    # Bernd writes a Textbaustein, then watches his list
    bernd = second_browser
    log_in(bernd, live_url, "bernd@example.com", next_path="/agent/snippets/")
    bernd.find_element(By.ID, "new-title").send_keys("Begrüßung")
    bernd.find_element(By.ID, "new-text").send_keys("Guten Tag, hier ist {agent}. Ich übernehme Ihr Anliegen.")
    bernd.find_element(By.CSS_SELECTOR, "#snippet-new button[type=submit]").click()
    wait(bernd, lambda: "Textbaustein „Begrüßung“ gespeichert." in bernd.find_element(By.TAG_NAME, "main").text)
    bernd.get(f"{live_url}/agent/")
    bernd.find_element(By.ID, "tab-mine").click()
    mine = bernd.find_element(By.ID, "list-mine")
    assert f"Gespräch {cid}" not in mine.text and mine.is_displayed()

    # Anna takes it, leaves a note and hands it to Bernd
    anna = browser
    log_in(anna, live_url, "anna@example.com", next_path=f"/agent/conversations/{cid}")
    anna.find_element(By.ID, "take").click()
    wait(anna, lambda: anna.find_element(By.ID, "state").text == "beim Kundenservice")
    anna.find_element(By.ID, "note-text").send_keys(NOTE)
    anna.find_element(By.CSS_SELECTOR, "#note-form button[type=submit]").click()
    wait(anna, lambda: NOTE in anna.find_element(By.ID, "notes-list").text)
    Select(anna.find_element(By.ID, "transfer-to")).select_by_visible_text("Bernd")
    anna.find_element(By.CSS_SELECTOR, "#transfer button[type=submit]").click()
    wait(anna, lambda: anna.find_element(By.ID, "transfer-result").text == "An Bernd übergeben.")
    transfer = wait(anna, lambda: anna.find_elements(By.CSS_SELECTOR, "#notes-list .note.transfer"))[0]
    assert transfer.text.startswith("Weitergabe · Anna · ") and transfer.text.endswith("An Bernd übergeben")

    # Bernd's list shows it without him doing anything; he opens it, sees the note, answers with his snippet
    wait(bernd, lambda: f"Gespräch {cid}" in bernd.find_element(By.ID, "list-mine").text, timeout=20)
    bernd.find_element(By.ID, "list-mine").find_element(By.PARTIAL_LINK_TEXT, f"Gespräch {cid}").click()
    wait(bernd, lambda: NOTE in bernd.find_element(By.ID, "notes-list").text)
    bernd.find_element(By.CSS_SELECTOR, "#snippet-list button.snippet").click()
    composer = bernd.find_element(By.ID, "reply-text")
    expected = "Guten Tag, hier ist Bernd. Ich übernehme Ihr Anliegen."
    assert composer.get_attribute("value") == expected
    bernd.find_element(By.CSS_SELECTOR, "#reply button[type=submit]").click()
    wait(bernd, lambda: expected in bernd.find_element(By.ID, "transcript").text)
    main = bernd.find_element(By.TAG_NAME, "main").text
    assert not internal_words(main), internal_words(main)

    shown = customer.transcript()["messages"]
    assert (shown[-1]["text"], shown[-1]["agent_name"]) == (expected, "Bernd")
    assert NOTE not in str(shown) and "übergeben" not in str(shown)
    logged = anna.get_log("browser") + bernd.get_log("browser")  # script errors, CSP refusals
    assert not [e for e in logged if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]], logged
