"""The unanswered-question list and the privacy page in real headless Chromium (Debian's chromium + driver).

The gateway runs on a free port in a thread with a scripted Rasa (which produced the handoffs) and the real
model on a temporary three-entry FAQ folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from bot.models import Role
from knowledge_base.engine import KnowledgeBase
from knowledge_base.settings import Settings
from tests.support.app import faq_search, make_app
from tests.support.bot_replies import handed_off
from tests.support.browser import log_in, shoot, wait
from tests.support.gateway import Customer, ScriptedRasa
from tests.support.login import add_account

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PORTO = ["Was zahle ich fürs Porto?", "Porto bei kleinen Bestellungen"]
BITCOIN = "Kann ich mit Bitcoin bezahlen?"


@pytest.fixture
def app(tmp_path: Path, settings: Settings, real_embedder, rasa: ScriptedRasa) -> Flask:  # type: ignore[no-untyped-def]
    knowledge_base = KnowledgeBase(settings, embedder=real_embedder, persist=False)
    app = make_app(tmp_path, rasa, FAQ_SEARCH=faq_search(knowledge_base),
                   RASA_TRACKER_STORE_URL=f"sqlite:///{tmp_path / 'trackers.db'}", FEEDBACK_DB=tmp_path / "fb.db")
    client = app.test_client()
    for question in [*PORTO, BITCOIN]:
        rasa.replies.append(handed_off(question, [("versand-kosten", 0.77), ("retoure-frist", 0.75)]))
        customer = Customer(client)
        customer.say(question)
    client.post(f"{customer.base}/contact", json={"email": "bitcoin.fan@example.com"})
    add_account(app, "eva@example.com", Role.EDITOR)
    add_account(app, "ada@example.com", Role.ADMIN)
    return app


def flashes(browser: WebDriver) -> list[str]:
    """The flashed messages of the page now shown (read in one go: the page may be replaced meanwhile)."""
    script = "return [...document.querySelectorAll('.flash')].map(e => e.textContent.trim())"
    return browser.execute_script(script)


def test_editor_adds_an_alternative_from_the_unanswered_list(browser: WebDriver, live_url: str, app: Flask) -> None:
    log_in(browser, live_url, "eva@example.com", next_path="/admin/unanswered/")
    clusters = browser.find_elements(By.CSS_SELECTOR, "section.cluster")
    assert len(clusters) == 2
    assert BITCOIN in clusters[0].find_element(By.TAG_NAME, "h2").text  # newest first
    porto = clusters[1]
    assert porto.find_element(By.CSS_SELECTOR, ".count").text == "2×"
    assert porto.find_element(By.CSS_SELECTOR, "code.candidate").text == "versand-kosten"
    shoot(browser, "unanswered.png")
    boxes = porto.find_elements(By.NAME, "phrasing")
    assert [b.get_attribute("value") for b in boxes] == [PORTO[1], PORTO[0]] and boxes[0].is_selected()
    boxes[0].click()  # untick the newest wording, tick the other one
    boxes[1].click()
    assert Select(porto.find_element(By.NAME, "faq_id")).first_selected_option.get_attribute("value") \
        == "versand-kosten"
    porto.find_element(By.CSS_SELECTOR, "button[value=alternative]").click()
    wait(browser, lambda: flashes(browser))
    shown = flashes(browser)
    assert f"Zu „versand-kosten“ hinzugefügt (versand.yml): „{PORTO[0]}“" in shown
    assert f"Der Bot beantwortet „{PORTO[0]}“ jetzt mit „versand-kosten“." in shown
    left = browser.find_elements(By.CSS_SELECTOR, "section.cluster")
    assert len(left) == 1 and BITCOIN in left[0].text

    left[0].find_element(By.CSS_SELECTOR, "button[value=ignore]").click()
    wait(browser, lambda: "1 Frage(n) markiert: Ignoriert." in flashes(browser))
    assert "Keine Fragen in dieser Ansicht." in browser.page_source
    browser.find_element(By.LINK_TEXT, "Als Alternative ergänzt").click()
    wait(browser, lambda: "status=alternative_added" in browser.current_url)
    [done] = browser.find_elements(By.CSS_SELECTOR, "section.cluster")
    assert "Status: Als Alternative ergänzt → versand-kosten" in done.text


def test_admin_finds_exports_and_deletes_a_customer(browser: WebDriver, live_url: str) -> None:
    log_in(browser, live_url, "ada@example.com", next_path="/admin/privacy/")
    browser.find_element(By.NAME, "q").send_keys("Bitcoin.Fan@example.com")
    browser.find_element(By.CSS_SELECTOR, ".privacy-search button").click()
    wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "table.found tbody tr"))
    [row] = browser.find_elements(By.CSS_SELECTOR, "table.found tbody tr")
    assert "bitcoin.fan@example.com" in row.text and "unbeantwortete Fragen: 1" in row.text
    row.find_element(By.LINK_TEXT, "Ansehen").click()
    wait(browser, lambda: "/admin/privacy/contacts/" in browser.current_url)
    export = browser.find_element(By.PARTIAL_LINK_TEXT, "JSON").get_attribute("href")
    assert export.endswith("/export.json")
    browser.find_element(By.PARTIAL_LINK_TEXT, "löschen").click()
    wait(browser, lambda: browser.current_url.endswith("/delete"))
    browser.find_element(By.CSS_SELECTOR, "button.danger").click()  # without the tick: refused
    wait(browser, lambda: "Bitte bestätigen Sie" in " ".join(flashes(browser)))
    browser.find_element(By.NAME, "confirm").click()
    browser.find_element(By.CSS_SELECTOR, "button.danger").click()
    wait(browser, lambda: any("wurden gelöscht" in text for text in flashes(browser)))
    browser.find_element(By.NAME, "q").send_keys("bitcoin.fan@example.com")
    browser.find_element(By.CSS_SELECTOR, ".privacy-search button").click()
    wait(browser, lambda: "ist nichts gespeichert" in browser.page_source)
