"""The agent's conversation page and the editors' try-it box in headless Chromium: what the scripts add (polled
messages, an FAQ answer sent, the state, the try-it result) is German and rendered like the server's HTML."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from bot.models import Role, now
from tests.support.browser import log_in, serve, wait
from tests.support.faq_browser import try_question
from tests.support.login import add_account
from tests.support.staff_demo import TRY_QUESTION, markdown_faq, seed
from tests.support.visible_text import internal_words

pytestmark = pytest.mark.browser
PICTURES = os.environ.get("AUSKUNFT_STAFF_SCREENSHOTS")
"""A folder for looking at the two pages (not the README's pictures): set it to keep them."""


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    return markdown_faq(tmp_path / "faqs")


@pytest.fixture
def live_url(kb_app: Flask) -> Iterator[str]:
    with serve(kb_app) as url:
        yield url


def picture(browser: WebDriver, name: str) -> None:
    if PICTURES:
        Path(PICTURES).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(PICTURES) / name))


def test_conversation_page_and_try_box_in_german_with_rendered_answers(
    browser: WebDriver, live_url: str, kb_app: Flask
) -> None:
    demo = seed(kb_app, now())
    add_account(kb_app, "ada@example.com", Role.ADMIN, "Ada")
    log_in(browser, live_url, "ada@example.com", next_path=f"/agent/conversations/{demo.answered_id}")
    state = browser.find_element(By.ID, "state")
    assert state.text == "wartet auf Kundenservice"
    browser.find_element(By.ID, "take").click()  # the script shows the state from the JSON: its label
    wait(browser, lambda: state.text == "beim Kundenservice")
    bold = browser.find_element(By.CSS_SELECTOR, "#transcript .msg.bot .text.markdown strong")
    assert bold.text == "2–3 Werktagen"
    link = browser.find_element(By.CSS_SELECTOR, "#transcript .msg.bot .text.markdown a")
    assert (link.text, link.get_attribute("target"), link.get_attribute("rel")) == (
        "Sendung verfolgen", "_blank", "noopener noreferrer")

    browser.find_element(By.ID, "faq-q").send_keys("Versand")  # an FAQ answer, added by inbox.js
    browser.find_element(By.CSS_SELECTOR, "#faq-search button[type=submit]").click()
    wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#faq-results button"))[0].click()
    sent = wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#transcript .msg.agent .text.markdown"))
    assert sent[-1].find_element(By.TAG_NAME, "strong").text == "Versand kostet 4,95 €"
    meta = browser.find_elements(By.CSS_SELECTOR, "#transcript .msg.agent .meta")[-1].text
    assert meta.startswith("Kundenservice (Ada) · ") and len(meta.rsplit(" ", 1)[1]) == 5  # "14:03": today
    text = browser.find_element(By.TAG_NAME, "main").text
    assert not internal_words(text), internal_words(text)
    browser.execute_script("window.scrollTo(0, 0)")
    picture(browser, "conversation.png")

    browser.get(f"{live_url}/admin/faq/")
    tried = try_question(browser, TRY_QUESTION)
    assert tried["decision"] == "answer" and tried["text"].startswith("Antwort (Konfidenz")
    assert "eindeutiger Treffer" in tried["text"] and not internal_words(tried["text"])
    answer = browser.find_element(By.CSS_SELECTOR, "#try-result .answer.markdown")
    assert answer.find_element(By.TAG_NAME, "strong").text == "Versand kostet 4,95 €"
    assert answer.find_element(By.TAG_NAME, "a").get_attribute("rel") == "noopener noreferrer"
    assert not browser.find_elements(By.CSS_SELECTOR, "#try-result pre")  # no Markdown source box any more
    browser.execute_script("document.querySelector('.try-box').scrollIntoView()")
    picture(browser, "try-box.png")
