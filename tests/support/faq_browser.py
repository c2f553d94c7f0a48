"""Driving the editors' pages in headless Chromium (Debian's chromium + chromium-driver, through Selenium)."""

from __future__ import annotations

from typing import Any

from kb_admin_helpers import PASSWORD
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser import chromium, wait

__all__ = ["chromium", "click_reload", "log_in", "try_question", "wait"]


def log_in(browser: WebDriver, url: str, email: str) -> None:
    """Open the FAQ page; the login form comes first and leads back to it."""
    browser.delete_all_cookies()
    browser.get(f"{url}/admin/faq/")
    wait(browser, lambda: browser.find_elements(By.ID, "email"))
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait(browser, lambda: browser.current_url == f"{url}/admin/faq/")


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
