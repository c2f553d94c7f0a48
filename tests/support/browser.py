"""Headless Chromium for the browser tests (Debian's chromium + chromium-driver, through Selenium) and a Flask
app served over real HTTP for it to open."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from tests.support.login import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = os.environ.get("AUSKUNFT_SCREENSHOTS")
"""A folder: set by benchmarks/screenshots.py, so the docs' pictures show exactly what the tests check."""
FLAGS = ("--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu", "--no-first-run")


@contextmanager
def chromium(window: str = "1200,900") -> Iterator[WebDriver]:
    """A given driver and browser: no Selenium Manager, nothing downloaded. `window`: "width,height"."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("chromium / chromium-driver missing: run `make setup` (it installs them with apt-get)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={window}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console and CSP reports: get_log("browser")
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: WebDriver, condition: Callable[[], Any], timeout: float = 10) -> Any:
    """Poll `condition` until it returns something truthy (returned) or `timeout` seconds pass.

    A page that is being replaced meanwhile (a form posted, a redirect) makes an element found a moment ago stale,
    or not yet there: that is "not yet", not a failure.
    """
    not_yet = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, timeout, poll_frequency=0.05, ignored_exceptions=not_yet).until(lambda _: condition())


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """`app` over real HTTP (threaded, for SSE streams) on a free port; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def log_in(
    driver: WebDriver, base_url: str, email: str, password: str = PASSWORD, next_path: str | None = None
) -> None:
    """Log in through the agents' login form with fresh cookies; `next_path`: where the form leads afterwards.

    The one Chromium log-in of the tests; the account exists already (`tests.support.login.add_account`).
    """
    driver.delete_all_cookies()
    driver.get(f"{base_url}/agent/login" + (f"?next={next_path}" if next_path else ""))
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait(driver, lambda: "/agent/login" not in driver.current_url)


def shoot(driver: WebDriver, name: str) -> None:
    """Save the page as the docs' screenshot `name`, when screenshots are being retaken; else nothing."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(SCREENSHOTS) / name))
