"""The analytics dashboard in headless Chromium: an editor logs in through the form, the charts render
(one bar per day, the right segments and tooltips), the filter form works; with AUSKUNFT_SCREENSHOTS set,
a month of demo data is photographed for the README (benchmarks/screenshots.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from bot.analytics import seed
from bot.db import get_session
from bot.models import Role
from tests.support.analytics_seed import seed_small
from tests.support.app import make_app
from tests.support.browser import chromium, log_in, serve, wait
from tests.support.login import add_account

pytestmark = pytest.mark.browser

SCREENSHOTS = os.environ.get("AUSKUNFT_SCREENSHOTS")


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium("1280,1000") as driver:
        yield driver


def log_in_as_editor(driver: WebDriver, base: str, app: Flask, email: str, next_path: str) -> None:
    """A new editor logs in and lands on the analytics page (`next_path`) with its charts."""
    add_account(app, email, Role.EDITOR, name="Eva")
    log_in(driver, base, email, next_path=next_path)
    wait(driver, lambda: driver.find_elements(By.ID, "chart-conversations"))


@pytest.fixture
def small(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    app = make_app(tmp_path, CLOCK=lambda: datetime(2026, 11, 3, 12, 0, tzinfo=UTC))
    seed_small(app)
    with serve(app) as url:
        yield app, url


def test_charts_render_with_one_bar_per_day(browser: WebDriver, small: tuple[Flask, str]) -> None:
    app, base = small
    log_in_as_editor(browser, base, app, "eva@example.com", "/admin/analytics/?start=2026-11-02&end=2026-11-03")
    chart = browser.find_element(By.ID, "chart-conversations")
    assert chart.size["width"] > 300 and chart.size["height"] > 80  # laid out, not an empty box
    bars = chart.find_elements(By.CSS_SELECTOR, "g.bar")
    assert [bar.get_attribute("data-key") for bar in bars] == ["2026-11-02", "2026-11-03"]
    # per day a segment per channel; drawn heights follow the counts (02.: web 1, sms 1; 03.: web 2, messenger 1)
    heights = [[round(r.rect["height"]) for r in bar.find_elements(By.TAG_NAME, "rect")] for bar in bars]
    assert heights[0][0] == heights[0][2] == heights[1][1] > 0 and heights[0][1] == heights[1][2] == 0
    assert heights[1][0] == pytest.approx(2 * heights[0][0], abs=1)
    titles = [t.get_attribute("textContent") for t in chart.find_elements(By.TAG_NAME, "title")]
    assert titles[:3] == ["02.11. Web-Chat: 1 Gespräche", "02.11. Messenger: 0 Gespräche", "02.11. SMS: 1 Gespräche"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-messages g.bar")) == 2
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-csat circle.point")) == 2  # Ø per day with ratings
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-reasons g.bar")) == 2  # requested, low_confidence
    assert browser.find_element(By.CSS_SELECTOR, "#kpi-conversations .value").text == "5"

    Select(browser.find_element(By.NAME, "channel")).select_by_value("web")
    browser.find_element(By.CSS_SELECTOR, "form.filter button[type=submit]").click()
    wait(browser, lambda: "channel=web" in browser.current_url)
    assert browser.find_element(By.CSS_SELECTOR, "#kpi-conversations .value").text == "3"
    segments = browser.find_elements(By.CSS_SELECTOR, "#chart-conversations g.bar rect")
    assert len(segments) == 2  # one channel: one segment per day
    export = browser.find_element(By.LINK_TEXT, "CSV: Tage × Kanäle").get_attribute("href")
    assert "/admin/analytics/export.csv?" in export and "channel=web" in export and "start=2026-11-02" in export


@pytest.mark.skipif(not SCREENSHOTS, reason="only when retaking the README's screenshots")
def test_screenshot_with_a_month_of_demo_data(browser: WebDriver, tmp_path: Path) -> None:
    app = make_app(tmp_path, CLOCK=lambda: datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    with app.app_context():
        seed.seed_demo(get_session(), date(2026, 11, 24))
    with serve(app) as base:
        log_in_as_editor(browser, base, app, "eva@example.com", "/admin/analytics/")
        browser.set_window_size(1280, 2100)
        assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-conversations g.bar")) == 30
        Path(str(SCREENSHOTS)).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(str(SCREENSHOTS)) / "analytics.png"))
