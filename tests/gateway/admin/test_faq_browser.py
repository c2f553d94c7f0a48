"""The editors' FAQ pages in real headless Chromium (Debian's chromium + chromium-driver, through Selenium):
login, search, the try-it box inline, the lint report, the reload button with an accepted and a rejected edit.

The gateway runs on a free port in a thread; its knowledge base reads a temporary FAQ folder (fake embedder).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from bot.models import Role
from knowledge_base.settings import Settings
from tests.support.browser import log_in, serve, shoot, wait
from tests.support.faq_browser import FAQ_PAGE, click_reload, try_question
from tests.support.faq_edits import BROKEN_ENTRY, NEW_ENTRY, append_entry
from tests.support.login import add_account

pytestmark = pytest.mark.browser


@pytest.fixture
def live_url(kb_app: Flask) -> Iterator[str]:
    """The FAQ tests' gateway (`kb_app`) over real HTTP; Chromium: `browser` (tests/gateway/conftest.py)."""
    with serve(kb_app) as url:
        yield url


def test_editor_searches_tries_lints_and_reloads(
    browser: WebDriver, live_url: str, kb_app: Flask, kb_settings: Settings
) -> None:
    add_account(kb_app, "eva@example.com", Role.EDITOR)
    log_in(browser, live_url, "eva@example.com", next_path=FAQ_PAGE)
    rows = browser.find_elements(By.CSS_SELECTOR, "table.entries tbody tr")
    assert len(rows) == 3 and "faqs/versand.yml, Zeile 3" in rows[0].text

    # search
    browser.find_element(By.ID, "search-q").send_keys("Rückgabe", Keys.ENTER)
    wait(browser, lambda: "q=" in browser.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "table.entries tbody tr")
    assert [row.get_attribute("data-faq-id") for row in rows] == ["retoure-frist"]

    # the try-it box: decision and candidates with scores, best first
    tried = try_question(browser, "Was kostet der Versand?")
    assert tried["decision"] == "answer" and tried["candidates"][0] == "versand-kosten"
    assert len(tried["candidates"]) == 3 and tried["scores"] == sorted(tried["scores"], reverse=True)
    assert "ab 50 € ist er kostenlos" in tried["text"]
    shoot(browser, "faq-try.png")

    # the lint report
    browser.find_element(By.LINK_TEXT, "Prüfbericht").click()
    assert wait(browser, lambda: browser.find_element(By.ID, "lint-summary")).text == "Keine Fehler, keine Warnungen."
    browser.back()
    wait(browser, lambda: browser.find_elements(By.ID, "reload-form"))

    # an editor adds an entry in the file, presses reload: the bot knows it
    before = try_question(browser, "Kann ich mit Bitcoin bezahlen?")
    assert "zahlung-bitcoin" not in before["candidates"]
    append_entry(kb_settings.faq_dir / "versand.yml", NEW_ENTRY)
    status, text = click_reload(browser)
    assert status == 200 and "Übernommen: 4 Einträge" in text and "neu: zahlung-bitcoin" in text
    assert browser.find_element(By.ID, "kb-entries").text == "4"
    assert try_question(browser, "Kann ich mit Bitcoin bezahlen?")["candidates"][0] == "zahlung-bitcoin"

    # a broken file: rejected, the findings with file:line, the last good index still answers
    line = len((kb_settings.faq_dir / "versand.yml").read_text().splitlines()) + 1
    append_entry(kb_settings.faq_dir / "versand.yml", BROKEN_ENTRY)
    status, text = click_reload(browser)
    assert status == 422 and "Nicht übernommen: 1 Fehler" in text
    assert f"faqs/versand.yml:{line}: Fehler:" in text and "missing field `answer`" in text
    assert try_question(browser, "Kann ich mit Bitcoin bezahlen?")["candidates"][0] == "zahlung-bitcoin"


def test_entry_page_and_try_it_without_javascript(browser: WebDriver, live_url: str, kb_app: Flask) -> None:
    add_account(kb_app, "eva@example.com", Role.EDITOR)
    log_in(browser, live_url, "eva@example.com", next_path=FAQ_PAGE)
    browser.find_element(By.LINK_TEXT, "versand-kosten").click()
    location = wait(browser, lambda: browser.find_element(By.ID, "edit-location"))
    assert location.text.startswith("Bearbeiten in") and "faqs/versand.yml, Zeile 10" in location.text
    # each phrasing links to the try-it page (a plain GET page, rendered by the server)
    browser.find_elements(By.LINK_TEXT, "ausprobieren")[1].click()
    report = wait(browser, lambda: browser.find_element(By.CSS_SELECTOR, "#try-result .try-report"))
    assert "/admin/faq/try?q=" in browser.current_url
    assert report.get_attribute("data-decision") in ("answer", "clarify", "handoff")
    first = report.find_elements(By.CSS_SELECTOR, "table.candidates tbody tr")[0]
    assert first.find_element(By.TAG_NAME, "a").text == "versand-kosten"  # its own entry ranks first


def test_agent_sees_no_editor_page(browser: WebDriver, live_url: str, kb_app: Flask) -> None:
    add_account(kb_app, "anna@example.com", Role.AGENT)
    log_in(browser, live_url, "anna@example.com")
    wait(browser, lambda: browser.current_url == f"{live_url}/agent/")
    browser.get(f"{live_url}/admin/faq/")
    assert "403" in browser.title or "Forbidden" in browser.page_source
    assert not browser.find_elements(By.ID, "reload-form")


def test_in_browser_editor_saves_and_the_bot_answers_with_it(
    browser: WebDriver, live_url: str, kb_app: Flask, kb_settings: Settings
) -> None:
    add_account(kb_app, "eva@example.com", Role.EDITOR)
    log_in(browser, live_url, "eva@example.com", next_path=FAQ_PAGE)
    browser.get(f"{live_url}/admin/faq/entries/versand-kosten")
    wait(browser, lambda: browser.find_element(By.ID, "edit-link")).click()
    answer = wait(browser, lambda: browser.find_element(By.ID, "answer"))
    answer.clear()
    answer.send_keys("Der Versand kostet 3,95 €.")
    browser.find_element(By.ID, "alternatives").send_keys(Keys.END, "\nPorto?")
    browser.find_element(By.CSS_SELECTOR, "form.entry-edit button").click()
    wait(browser, lambda: browser.current_url == f"{live_url}/admin/faq/entries/versand-kosten")
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "Der Bot antwortet jetzt mit der neuen Fassung." in page and "Der Versand kostet 3,95 €." in page
    text = (kb_settings.faq_dir / "versand.yml").read_text()
    assert "    answer: Der Versand kostet 3,95 €." in text and "      - Porto?" in text
    browser.get(f"{live_url}/admin/faq/")
    assert try_question(browser, "Porto?")["candidates"][0] == "versand-kosten"  # the new alternative
    assert "Der Versand kostet 3,95 €." in try_question(browser, "Was kostet der Versand?")["text"]
