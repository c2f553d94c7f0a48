"""Driving the editors' FAQ pages in headless Chromium (`tests.support.browser`): try a question, reload."""

from __future__ import annotations

from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from tests.support.browser import wait

FAQ_PAGE = "/admin/faq/"
"""Where the editors' browser tests log in to: `log_in(browser, url, email, next_path=FAQ_PAGE)`."""


def try_question(browser: WebDriver, question: str, timeout: float = 10) -> dict[str, Any]:
    """Ask in the try-it box (inline, no page load); the decision and the candidates as shown."""
    page_before = browser.current_url
    browser.execute_script("document.getElementById('try-result').replaceChildren()")
    box = browser.find_element(By.ID, "try-q")
    box.clear()
    box.send_keys(question, Keys.ENTER)
    report = wait(browser, lambda: browser.find_element(By.CSS_SELECTOR, "#try-result .try-report"), timeout)
    assert browser.current_url == page_before  # answered inline by admin_faq.js
    rows = report.find_elements(By.CSS_SELECTOR, "table.candidates tbody tr")
    return {
        "decision": report.get_attribute("data-decision"),
        "candidates": [row.find_element(By.TAG_NAME, "a").text for row in rows],
        "scores": [float(row.find_elements(By.TAG_NAME, "td")[1].text) for row in rows],
        "text": report.text,
    }


def click_reload(browser: WebDriver, timeout: float = 60) -> tuple[int, str]:
    """Press "Neu laden"; the HTTP status and the report shown."""
    browser.execute_script("document.getElementById('reload-result').replaceChildren()")
    browser.find_element(By.CSS_SELECTOR, "#reload-form button").click()
    report = wait(browser, lambda: browser.find_element(By.ID, "reload-report"), timeout)
    return int(report.get_attribute("data-status")), report.text
