"""The widget in real headless Chromium (Debian's chromium + chromium-driver, driven by Selenium).

The gateway runs on a free port in a thread with a scripted Rasa, so these tests check the widget's
own behaviour — loading, Markdown, XSS, buttons, reload, SSE — without the real Rasa.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from flask import Flask
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from bot.db import get_session
from bot.models import Conversation
from tests.support.browser import shoot, wait
from tests.support.gateway import ScriptedRasa
from tests.support.smtp import confirmation_path, smtp_server
from tests.support.widget_browser import (
    HANDOFF,
    ask_for_a_person,
    closed_by_anna,
    messages,
    open_chat,
    say,
    taken_by_anna,
    texts,
)

pytestmark = pytest.mark.browser

XSS = "<script>alert(1)</script> <img src=x onerror=\"window.top.xss='img'\">"


def test_demo_page_loads_the_widget_with_one_script_tag(browser: WebDriver, live_url: str, app: Flask) -> None:
    browser.get(live_url)
    scripts = [s.get_attribute("src") for s in browser.find_elements(By.CSS_SELECTOR, "script[src]")]
    assert scripts == [f"{live_url}/widget/loader.js"]
    launcher = wait(browser, lambda: browser.find_element(By.CSS_SELECTOR, "button.auskunft-launcher"))
    frame = browser.find_element(By.CSS_SELECTOR, "iframe.auskunft-frame")
    assert not frame.is_displayed() and launcher.get_attribute("aria-expanded") == "false"
    launcher.click()
    assert frame.is_displayed() and launcher.get_attribute("aria-expanded") == "true"
    browser.switch_to.frame(frame)
    assert browser.find_element(By.ID, "title").text == "Lindgrün Kundenservice"
    wait(browser, lambda: browser.switch_to.active_element == browser.find_element(By.ID, "input"))  # focus moved
    browser.find_element(By.ID, "close").click()
    browser.switch_to.default_content()
    wait(browser, lambda: not frame.is_displayed())
    with app.app_context():
        assert get_session().query(Conversation).count() == 0  # page views store nothing; the first message does


def test_enter_sends_and_the_answer_renders_markdown(browser: WebDriver, live_url: str, rasa: ScriptedRasa) -> None:
    rasa.replies.append(
        [{"text": "Der Versand kostet **4,95 €**.\n- Details: [Versandseite](https://example.com/versand)"}]
    )
    open_chat(browser, live_url)
    say(browser, "Was kostet der Versand?")
    question, answer = messages(browser)
    assert "contact" in question.get_attribute("class") and question.text == "Was kostet der Versand?"
    assert answer.find_element(By.TAG_NAME, "strong").text == "4,95 €"
    link = answer.find_element(By.CSS_SELECTOR, "li a")
    assert (link.text, link.get_attribute("href")) == ("Versandseite", "https://example.com/versand")
    assert link.get_attribute("rel") == "noopener noreferrer" and link.get_attribute("target") == "_blank"
    assert browser.find_element(By.ID, "input").get_attribute("value") == ""


def test_html_in_answers_and_customer_text_shows_as_text(browser: WebDriver, live_url: str, rasa: ScriptedRasa) -> None:
    rasa.replies.append([{"text": f"Antwort mit {XSS} und **fett**"}])
    open_chat(browser, live_url)
    say(browser, XSS)
    question, answer = messages(browser)
    assert question.text == XSS and answer.text == f"Antwort mit {XSS} und fett"
    time.sleep(0.3)  # give a broken image's onerror a chance to fire
    assert browser.find_elements(By.CSS_SELECTOR, "#log script, #log img") == []
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert  # noqa: B018 - the property raises when no alert is open
    browser.switch_to.default_content()
    assert browser.execute_script("return window.xss === undefined")


def test_quick_reply_buttons_send_their_payload(browser: WebDriver, live_url: str, rasa: ScriptedRasa) -> None:
    buttons = [{"title": "Ja", "payload": "/feedback_helpful"}, {"title": "Nein", "payload": "/feedback_not_helpful"}]
    rasa.replies.append([{"text": "Antwort"}, {"text": "Hat Ihnen das geholfen?", "buttons": buttons}])
    rasa.replies.append([{"text": "Danke für Ihr Feedback!"}])
    open_chat(browser, live_url)
    say(browser, "Was kostet der Versand?")
    row = wait(browser, lambda: browser.find_element(By.CSS_SELECTOR, "#log .buttons"))
    assert [b.text for b in row.find_elements(By.TAG_NAME, "button")] == ["Ja", "Nein"]
    row.find_element(By.XPATH, "button[text()='Ja']").click()
    wait(browser, lambda: texts(browser)[-1] == "Danke für Ihr Feedback!")
    assert texts(browser)[-2] == "Ja" and rasa.received[-1][1] == "/feedback_helpful"
    # answered: the row stays, disabled, the choice marked
    choices = row.find_elements(By.TAG_NAME, "button")
    shown = [(b.text, b.is_enabled(), b.get_attribute("aria-pressed")) for b in choices]
    assert shown == [("Ja", False, "true"), ("Nein", False, None)]


def test_reload_continues_the_conversation(browser: WebDriver, live_url: str, rasa: ScriptedRasa) -> None:
    rasa.replies.append([{"text": "Wir liefern in **2–3 Werktagen**."}])
    open_chat(browser, live_url)
    say(browser, "Wie lange dauert die Lieferung?")
    before = texts(browser)
    open_chat(browser, live_url)  # loads the page again
    wait(browser, lambda: len(messages(browser)) == len(before))
    assert texts(browser) == before == ["Wie lange dauert die Lieferung?", "Wir liefern in 2–3 Werktagen."]
    say(browser, "Danke")
    assert len({sender for sender, _ in rasa.received}) == 1  # one Rasa conversation throughout


def test_agent_reply_arrives_over_sse(browser: WebDriver, live_url: str, app: Flask, rasa: ScriptedRasa) -> None:
    conversation_id, anna = taken_by_anna(browser, live_url, app, rasa, "Ich möchte mit einem Menschen sprechen")
    wait(browser, lambda: "Anna vom Kundenservice ist jetzt im Chat." in browser.find_element(By.ID, "log").text)
    sent = time.monotonic()
    assert (
        anna.post(f"/agent/conversations/{conversation_id}/reply", {"text": "Ich schaue **sofort** nach."}).status_code
        == 201
    )
    reply = wait(browser, lambda: browser.find_element(By.CSS_SELECTOR, "#log .msg.agent"), timeout=2)
    assert time.monotonic() - sent < 2
    assert reply.find_element(By.CSS_SELECTOR, ".who").text == "Anna · Kundenservice"
    assert reply.find_element(By.TAG_NAME, "strong").text == "sofort"


def test_closed_conversation_then_next_message_starts_a_new_one(
    browser: WebDriver, live_url: str, app: Flask, rasa: ScriptedRasa
) -> None:
    closed_by_anna(browser, live_url, app, rasa)
    wait(browser, lambda: "Dieses Gespräch ist beendet." in browser.find_element(By.ID, "log").text)
    say(browser, "Noch eine Frage")
    wait(browser, lambda: texts(browser)[-1] == "Echo: Noch eine Frage")
    assert len({sender for sender, _ in rasa.received}) == 2  # a new Rasa conversation
    with app.app_context():
        assert get_session().query(Conversation).count() == 2


def test_nobody_there_the_customer_leaves_an_email_address(
    browser: WebDriver, live_url: str, app: Flask, rasa: ScriptedRasa
) -> None:
    app.extensions["clock"] = lambda: datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # a Sunday: closed
    rasa.replies.append([HANDOFF])
    open_chat(browser, live_url)
    ask_for_a_person(browser, "Mensch bitte")
    form = wait(browser, lambda: browser.find_element(By.CSS_SELECTOR, "#log form.contact-form"))
    [notice] = browser.find_elements(By.CSS_SELECTOR, "#log .msg.system.notice")  # an answer, not a grey aside
    assert "nicht besetzt" in notice.text and notice.value_of_css_property("text-align") == "left"
    field = form.find_element(By.TAG_NAME, "input")
    field.send_keys("keine adresse", Keys.ENTER)
    wait(browser, lambda: "gültige E-Mail-Adresse" in form.find_element(By.CSS_SELECTOR, "[role=alert]").text)
    field.clear()
    field.send_keys("kunde@example.de", Keys.ENTER)
    wait(browser, lambda: "Wir melden uns unter kunde@example.de" in browser.find_element(By.ID, "log").text)
    assert not field.is_enabled()  # answered: the form stays, disabled
    with app.app_context():
        conversation = get_session().query(Conversation).one()
        assert conversation.contact.email == "kunde@example.de" and conversation.state == "waiting_for_agent"


def test_transcript_by_email_from_the_header_button(
    browser: WebDriver, live_url: str, app: Flask, rasa: ScriptedRasa
) -> None:
    """Asked in the widget, confirmed on the link's page in another tab, and the widget says it was sent."""
    with smtp_server(public_url=live_url) as inbox:
        app.config.update(inbox.settings)
        open_chat(browser, live_url)
        browser.find_element(By.ID, "mail").click()
        wait(browser, lambda: "Schreiben Sie uns zuerst" in browser.find_element(By.ID, "log").text)
        say(browser, "Was kostet der Versand?")
        browser.find_element(By.ID, "mail").click()
        form = wait(browser, lambda: browser.find_element(By.CSS_SELECTOR, "#log form.transcript-form"))
        assert browser.switch_to.active_element == form.find_element(By.TAG_NAME, "input")
        form.find_element(By.TAG_NAME, "input").send_keys("kunde@example.de", Keys.ENTER)
        wait(browser, lambda: "Bitte bestätigen Sie darin Ihre Adresse" in browser.find_element(By.ID, "log").text)
        shoot(browser, "widget_transcript_confirm.png")
        (confirmation,) = inbox.mails()  # the confirmation only, no transcript yet

        widget = browser.current_window_handle
        browser.switch_to.new_window("tab")
        browser.get(live_url + confirmation_path(confirmation))
        button = wait(browser, lambda: browser.find_element(By.CSS_SELECTOR, "form button"))
        assert "kunde@example.de" in browser.find_element(By.TAG_NAME, "main").text and len(inbox.envelopes) == 1
        shoot(browser, "transcript_confirm_page.png")
        button.click()
        wait(browser, lambda: "wir haben Ihnen den Verlauf" in browser.find_element(By.TAG_NAME, "main").text)
        browser.close()
        browser.switch_to.window(widget)
        open_frame = browser.find_element(By.CSS_SELECTOR, "iframe.auskunft-frame")
        browser.switch_to.frame(open_frame)
        wait(
            browser, lambda: "Gesprächsverlauf an kunde@example.de geschickt" in browser.find_element(By.ID, "log").text
        )
        assert [e.rcpt_tos for e in inbox.envelopes] == [["kunde@example.de"]] * 2
        assert "Sie: Was kostet der Versand?" in inbox.mails()[1].get_content()


def test_the_widget_says_when_the_days_mails_are_used_up(
    browser: WebDriver, live_url: str, app: Flask, rasa: ScriptedRasa
) -> None:
    with smtp_server(public_url=live_url) as inbox:
        app.config.update(inbox.settings, MAIL_DAILY_CAP=0)
        open_chat(browser, live_url)
        say(browser, "Hallo")
        browser.find_element(By.ID, "mail").click()
        form = wait(browser, lambda: browser.find_element(By.CSS_SELECTOR, "#log form.transcript-form"))
        form.find_element(By.TAG_NAME, "input").send_keys("kunde@example.de", Keys.ENTER)
        alert = form.find_element(By.CSS_SELECTOR, "[role=alert]")
        wait(browser, lambda: "Heute können wir leider keine weiteren E-Mails verschicken" in alert.text)
        assert inbox.envelopes == []
