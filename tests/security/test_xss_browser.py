"""Issue 13, a guarantee that holds and must stay: customer and FAQ text is shown as text on every page.

Script payloads go in where an outsider (or a careless FAQ edit) can put them: the customer's messages, name and
e-mail address, the bot's handoff summary and candidates, an FAQ entry's question and answer, the unanswered
list. Real headless Chromium then opens every page that shows them. Each page must show the payload as text, have
no element made from it, and `window.__xss` must stay unset. The element check is the one that counts: the
Content-Security-Policy would block an injected inline handler anyway, so `__xss` alone could not see a template
that stopped escaping.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import select

from bot.db import session_factory
from bot.models import Contact, Conversation, Role
from knowledge_base.settings import Settings
from tests.conftest import REAL_MODEL, FakeEmbedder
from tests.support.app import faq_search, make_app
from tests.support.bot_replies import handed_off
from tests.support.browser import chromium, log_in, serve, wait
from tests.support.faq_browser import try_question
from tests.support.gateway import Customer, ScriptedRasa
from tests.support.login import add_account
from tests.support.widget_browser import ask_for_a_person, open_chat, say

pytestmark = pytest.mark.browser

IMG = "</textarea></pre><img src=x onerror=window.__xss=1>"
SCRIPT = "<script>window.__xss=1</script>"
SVG = '"><svg onload=window.__xss=1>'
LINK = '<a id=xsslink href="javascript:window.__xss=1">klick</a>'
MARKDOWN = "[x](javascript:window.__xss=1)"
PAYLOADS = [IMG, SCRIPT, SVG, LINK, MARKDOWN]
TEXT = "Frage " + " ".join(PAYLOADS)
FAQ_ID = "xss-eintrag"
INJECTED = "img[src='x'], svg[onload], [onerror], [onload], script:not([src]), a[href^='javascript'], #xsslink"
"""What any payload would leave behind if it were parsed as HTML (the pages have none of their own)."""


def handoff(text: str) -> dict[str, Any]:
    """The bot hands off; summary and candidate carry the payload (the action server quotes the customer)."""
    candidates = [{"faq_id": FAQ_ID, "question": text, "score": 0.5}]
    custom = {"type": "handoff", "reason": f"Grund {IMG}", "summary": f"Übergabe: {text}", "candidates": candidates}
    return {"custom": custom}


def write_faq(folder: Path) -> None:
    entries = [
        {"id": FAQ_ID, "question": TEXT, "answer": f"Antwort {TEXT}", "short_answer": f"Kurz {IMG}",
         "updated": "2026-11-20"},
        {"id": "versand-kosten", "question": "Was kostet der Versand?", "answer": "4,95 €.", "updated": "2026-11-20"},
    ]
    folder.mkdir(parents=True)
    text = yaml.safe_dump({"topic": "Versand", "faqs": entries}, allow_unicode=True, sort_keys=False)
    (folder / "versand.yml").write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One gateway for the module: a handed-off conversation and a customer, an unanswered question, the FAQ."""
    tmp = tmp_path_factory.mktemp("xss")
    write_faq(tmp / "faqs")
    settings = Settings(faq_dir=tmp / "faqs", index_dir=tmp / "index", models_dir=tmp / "models",
                        embedding_model=str(REAL_MODEL), use_trained_model=False)
    rasa = ScriptedRasa()
    kb = faq_search(settings, FakeEmbedder())
    app = make_app(tmp, rasa, FAQ_SEARCH=kb)
    client = app.test_client()
    rasa.replies += [[{"text": f"Antwort {TEXT}"}], [handoff(TEXT)]]
    customer = Customer(client)
    customer.say(TEXT)
    customer.say(f"Mensch bitte {TEXT}")
    rasa.replies.append(handed_off(TEXT, [(FAQ_ID, 0.7)]))
    Customer(client).say(TEXT)  # a question the bot could not answer: the unanswered list
    with app.app_context(), session_factory()() as session:
        conversation = session.scalars(select(Conversation).where(Conversation.token == customer.token)).one()
        contact = session.get(Contact, conversation.contact_id)
        assert contact is not None
        contact.name, contact.email = f"Kunde {TEXT}", f"{SVG}@example.com"
        session.commit()
        ids = {"conversation": conversation.id, "contact": contact.id, "token": customer.token}
    add_account(app, "root@example.com", Role.ADMIN)
    with serve(app) as url:
        yield {"app": app, "rasa": rasa, "url": url, **ids}
    kb.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def admin(browser: WebDriver, site: dict[str, Any]) -> WebDriver:
    """The browser logged in as an admin (inbox and /admin), once for the module."""
    log_in(browser, site["url"], "root@example.com")
    return browser


def injected(browser: WebDriver) -> list[str]:
    """Elements of the current document that came from a payload, as HTML snippets."""
    script = "return [...document.querySelectorAll(arguments[0])].map(e => e.outerHTML.slice(0, 120))"
    return browser.execute_script(script, INJECTED)


def blocked_scripts(browser: WebDriver) -> list[str]:
    """The console's reports of scripts the policy refused: an injected handler that got as far as the DOM."""
    return [e["message"] for e in browser.get_log("browser") if "Refused to execute" in e["message"]]


def assert_inert(browser: WebDriver, shown: list[str]) -> None:
    """No payload ran or became an element in the current document, and every text of `shown` is visible."""
    assert browser.execute_script("return typeof window.__xss") == "undefined"
    assert injected(browser) == []
    page = browser.find_element(By.TAG_NAME, "body").text
    missing = [text for text in shown if text not in page]
    assert missing == [], f"not shown as text: {missing}"


def test_the_widget_shows_the_customers_and_the_bots_text_as_text(site: dict[str, Any], browser: WebDriver) -> None:
    browser.get_log("browser")  # start clean
    site["rasa"].replies += [[{"text": f"Antwort {TEXT}"}], [handoff(TEXT)]]
    open_chat(browser, site["url"])
    say(browser, TEXT)
    ask_for_a_person(browser, f"Mensch bitte {TEXT}")
    # the bot's answer goes through the widget's Markdown: the javascript: link stays text, no <a> is made
    log = browser.find_element(By.ID, "log")
    assert log.text.count(MARKDOWN) >= 3  # customer ×2 and the bot's answer
    assert_inert(browser, PAYLOADS)
    browser.switch_to.default_content()
    assert browser.execute_script("return typeof window.__xss") == "undefined" and injected(browser) == []
    assert blocked_scripts(browser) == []


STAFF_PAGES = {
    "queue": ("/agent/", [f"Übergabe: {TEXT}", f"Grund {IMG}"]),
    "conversation": ("/agent/conversations/{conversation}", [TEXT, f"Antwort {TEXT}", f"{SVG}@example.com"]),
    "privacy search": ("/admin/privacy/?q=%23{conversation}", [f"Kunde {TEXT}", f"{SVG}@example.com"]),
    "privacy customer": ("/admin/privacy/contacts/{contact}", [f"Kunde {TEXT}", f"{SVG}@example.com"]),
    "faq list": ("/admin/faq/", [TEXT]),
    "faq entry": (f"/admin/faq/entries/{FAQ_ID}", [TEXT, f"Antwort {TEXT}", f"Kurz {IMG}"]),
    "faq editor": (f"/admin/faq/entries/{FAQ_ID}/edit", []),  # in form fields: checked by their values below
    "faq try (no script)": (f"/admin/faq/try?q={quote(TEXT)}", [TEXT]),
    "unanswered": ("/admin/unanswered/", [TEXT]),
    "analytics": ("/admin/analytics/", [f"Grund {IMG}"]),  # handoff reasons as the bot named them
}


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_staff_pages_show_customer_and_faq_text_as_text(name: str, site: dict[str, Any], admin: WebDriver) -> None:
    path, shown = STAFF_PAGES[name]
    admin.get_log("browser")
    admin.get(site["url"] + path.format(**site))
    wait(admin, lambda: admin.find_elements(By.TAG_NAME, "main") or admin.find_elements(By.TAG_NAME, "h1"))
    if name == "conversation":  # and a new message, which inbox.js adds to the open page from the API
        later = f"Noch eine {TEXT}"
        widget = f"/api/widget/conversations/{site['token']}/messages"
        sent = site["app"].test_client().post(widget, json={"text": later})
        assert sent.status_code == 201
        wait(admin, lambda: later in admin.find_element(By.ID, "transcript").text)
    assert "/agent/login" not in admin.current_url
    assert_inert(admin, shown)
    if name == "faq editor":
        values = admin.execute_script("return [...document.querySelectorAll('textarea, input')].map(e => e.value)")
        assert any(TEXT in value for value in values) and any(f"Antwort {TEXT}" in value for value in values)
    assert blocked_scripts(admin) == []


def test_the_try_box_and_the_inbox_faq_search_insert_text_only(site: dict[str, Any], admin: WebDriver) -> None:
    admin.get(f"{site['url']}/admin/faq/")
    report = try_question(admin, TEXT)
    assert FAQ_ID in report["candidates"]
    assert_inert(admin, [TEXT])

    admin.get(f"{site['url']}/agent/conversations/{site['conversation']}")
    admin.find_element(By.ID, "faq-q").send_keys("Frage")
    admin.find_element(By.CSS_SELECTOR, "#faq-search button").click()
    wait(admin, lambda: TEXT in admin.find_element(By.ID, "faq-results").text)
    assert_inert(admin, [TEXT])
    assert blocked_scripts(admin) == []
