"""Issue 15, the inbox on one screen, in headless Chromium: the composer and the actions stay in view beside a long
transcript, the list is live (a new customer waiting appears without a reload and raises a notification), the
customer's typing shows, the bot's reasoning is the latest turn's, the shortcuts work, and a tablet scrolls no
sideways."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from bot.conversation import states
from bot.db import get_session
from bot.models import Direction, Sender
from tests.support.bot_replies import HANDOFF, decision, handed_off
from tests.support.browser import chromium, log_in, shoot, wait
from tests.support.gateway import Customer, ScriptedRasa, conversation_id
from tests.support.login import add_account, logged_in

pytestmark = pytest.mark.browser

IN_VIEW = """const r = document.getElementById(arguments[0]).getBoundingClientRect();
return r.width > 0 && r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth;"""
STUB_NOTIFICATION = """window.shown = []; window.stayed = true;
window.Notification = function (title, options) { window.shown.push([title, options.body]); };
window.Notification.permission = "granted";
window.Notification.requestPermission = async () => "granted";"""


@pytest.fixture(scope="module")
def small() -> Iterator[WebDriver]:
    """Chromium at the smallest desktop the inbox is made for (1280 × 800)."""
    with chromium("1280,800") as driver:
        yield driver


def waiting_customer(client: FlaskClient, rasa: ScriptedRasa, question: str = "Ich will einen Menschen") -> Customer:
    customer = Customer(client)
    rasa.replies.append(HANDOFF)
    customer.say(question)
    return customer


def open_as_agent(driver: WebDriver, app: Flask, url: str, path: str, email: str = "anna@example.com") -> None:
    add_account(app, email)
    log_in(driver, url, email, next_path=path)


def press(driver: WebDriver, *keys: str) -> None:
    """Modifiers held while the last key is pressed: press(driver, Keys.ALT, "b")."""
    chain = ActionChains(driver)
    for key in keys[:-1]:
        chain.key_down(key)
    chain.send_keys(keys[-1])
    for key in reversed(keys[:-1]):
        chain.key_up(key)
    chain.perform()


def test_composer_and_actions_stay_in_view_beside_a_long_transcript_with_the_latest_reasoning(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa, small: WebDriver, live_url: str
) -> None:
    customer = Customer(client)
    rasa.replies.append(handed_off("Kann ich in Raten zahlen?", [("zahlung-raten", 0.41)]))
    customer.say("Kann ich in Raten zahlen?")
    cid = conversation_id(app, customer.token)
    with app.app_context():  # a long conversation while waiting (44 messages, as in the issue)
        session = get_session()
        conversation = states.by_token(session, customer.token)
        for i in range(20):
            states.add_message(session, conversation, Direction.INCOMING, Sender.CONTACT, f"Noch etwas {i}")
            states.add_message(session, conversation, Direction.OUTGOING, Sender.BOT, f"Notiert {i}")
        session.commit()
    # the customer's latest question: the bot is unsure about other entries now than at the handoff
    rasa.replies.append([decision("clarify", "Und mit Klarna?", [("zahlung-klarna", 0.71), ("zahlung-paypal", 0.64)]),
                         {"text": "Meinten Sie Klarna?"}])  # fmt: skip
    customer.say("Und mit Klarna?")

    open_as_agent(small, app, live_url, f"/agent/conversations/{cid}")
    assert len(small.find_elements(By.CSS_SELECTOR, "#transcript .msg")) >= 44
    for element in ("reply-text", "take", "give-back", "close", "inbox-list", "reasoning"):
        assert small.execute_script(IN_VIEW, element), element
    assert small.execute_script("return document.scrollingElement.scrollHeight <= window.innerHeight")  # one screen
    last = small.find_elements(By.CSS_SELECTOR, "#transcript .msg")[-1]
    assert small.execute_script(IN_VIEW.replace("document.getElementById(arguments[0])", "arguments[0]"), last)

    reasoning = small.find_element(By.ID, "reasoning").text
    assert "Und mit Klarna?" in reasoning and "Frage zahlung-klarna" in reasoning and "0,71" in reasoning
    assert "Frage zahlung-raten" not in reasoning  # the first handoff's candidate no longer fits
    shoot(small, "inbox-one-screen.png")
    handoff = small.find_element(By.CSS_SELECTOR, "section.handoff").text
    assert handoff.startswith("Grund: Bot war unsicher") and handoff.count("Bot war unsicher") == 1  # not twice
    badge = small.find_element(By.CSS_SELECTOR, ".conversation-head .badge.channel")
    title = small.find_element(By.CSS_SELECTOR, ".conversation-head h1")
    assert float(badge.value_of_css_property("font-size")[:-2]) < float(title.value_of_css_property("font-size")[:-2])

    # a newer question while the page is open: the panel follows it
    small.find_element(By.ID, "take").click()
    wait(small, lambda: small.find_element(By.ID, "state").text == "beim Kundenservice")
    with app.app_context():
        session = get_session()
        conversation = states.by_token(session, customer.token)
        question = states.add_message(session, conversation, Direction.INCOMING, Sender.CONTACT, "Und Rückgabe?")
        question.payload = decision("clarify", "Und Rückgabe?", [("retoure-frist", 0.55)])["custom"]
        question.payload = {"decision": question.payload}
        session.commit()
        app.extensions["hub"].notify(conversation.id)
    wait(small, lambda: "Frage retoure-frist" in small.find_element(By.ID, "reasoning").text)
    assert "Frage zahlung-klarna" not in small.find_element(By.ID, "reasoning").text


def test_a_new_waiting_customer_appears_live_and_is_announced(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa, browser: WebDriver, live_url: str
) -> None:
    first = waiting_customer(client, rasa)
    first_id = conversation_id(app, first.token)
    open_as_agent(browser, app, live_url, f"/agent/conversations/{first_id}")  # another conversation is open
    browser.execute_script(STUB_NOTIFICATION)
    browser.find_element(By.ID, "notify-on").click()
    assert browser.find_element(By.CSS_SELECTOR, '[data-count="waiting"]').text == "1"

    second = waiting_customer(client, rasa, "Bitte einen Mitarbeiter")
    second_id = conversation_id(app, second.token)
    listed = f'#list-waiting .entry[data-id="{second_id}"]'
    entry = wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, listed))
    assert "Kunde möchte einen Menschen" in entry[0].text and "Web-Chat" in entry[0].text
    assert browser.find_element(By.CSS_SELECTOR, '[data-count="waiting"]').text == "2"
    shown = wait(browser, lambda: browser.execute_script("return window.shown"))
    assert shown == [[f"Kunde wartet: Gespräch {second_id}", "Web-Chat – Kunde möchte einen Menschen"]]
    assert browser.execute_script("return window.stayed")  # no reload: the page's own state is still there
    assert browser.execute_script("return localStorage.getItem('auskunft.inbox.notify')") == "1"

    # another agent takes the first: it leaves "Wartend" without a reload, and no second notification
    ben = logged_in(app, "ben@example.com", name="Ben")
    assert ben.post(f"/agent/conversations/{first_id}/take").status_code == 200
    wait(browser, lambda: not browser.find_elements(By.CSS_SELECTOR, f'#list-waiting .entry[data-id="{first_id}"]'))
    browser.find_element(By.ID, "tab-open").click()
    taken = browser.find_element(By.CSS_SELECTOR, f'#list-open .entry[data-id="{first_id}"]').text
    assert "bei Ben" in taken
    assert len(browser.execute_script("return window.shown")) == 1 and browser.execute_script("return window.stayed")


def test_the_customers_typing_shows_in_the_open_conversation(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa, browser: WebDriver, live_url: str
) -> None:
    customer = waiting_customer(client, rasa)
    open_as_agent(browser, app, live_url, f"/agent/conversations/{conversation_id(app, customer.token)}")
    typing = browser.find_element(By.ID, "typing")
    assert typing.text == ""
    assert client.post(f"{customer.base}/typing", json={"typing": True}).status_code == 204
    wait(browser, lambda: typing.text == "Kunde schreibt …")
    assert client.post(f"{customer.base}/typing", json={"typing": False}).status_code == 204
    wait(browser, lambda: typing.text == "")


def test_keyboard_shortcuts(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa, browser: WebDriver, live_url: str
) -> None:
    first, second = waiting_customer(client, rasa), waiting_customer(client, rasa, "Mensch bitte")
    first_id, second_id = conversation_id(app, first.token), conversation_id(app, second.token)
    open_as_agent(browser, app, live_url, "/agent/")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("?")
    assert browser.find_element(By.ID, "shortcuts").is_displayed()
    assert "Alt+Ü" in browser.find_element(By.ID, "shortcuts").text.replace(" ", "")
    browser.find_element(By.CSS_SELECTOR, "#shortcuts button").click()

    press(browser, "j")  # the first waiting conversation, then the next, then back
    wait(browser, lambda: browser.current_url.endswith(f"/agent/conversations/{first_id}"))
    press(browser, "j")
    wait(browser, lambda: browser.current_url.endswith(f"/agent/conversations/{second_id}"))
    press(browser, "k")
    wait(browser, lambda: browser.current_url.endswith(f"/agent/conversations/{first_id}"))

    press(browser, "/")
    assert browser.switch_to.active_element.get_attribute("id") == "faq-q"
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    browser.find_element(By.TAG_NAME, "h1").click()
    state = browser.find_element(By.ID, "state")
    press(browser, Keys.ALT, "ü")
    wait(browser, lambda: state.text == "beim Kundenservice")
    enabled = {b: browser.find_element(By.ID, b).is_enabled() for b in ("take", "give-back", "close")}
    assert enabled == {"take": False, "give-back": True, "close": True}  # one's own conversation: no "Übernehmen"
    textarea = browser.find_element(By.ID, "reply-text")
    textarea.send_keys("Ich sehe nach.")
    press(browser, Keys.CONTROL, Keys.ENTER)
    wait(browser, lambda: "Ich sehe nach." in first.transcript()["messages"][-1]["text"])
    assert textarea.get_attribute("value") == ""
    press(browser, Keys.ALT, "b")
    wait(browser, lambda: state.text == "beim Bot")
    assert rasa.resumed

    browser.get(f"{live_url}/agent/conversations/{second_id}")
    state = browser.find_element(By.ID, "state")
    press(browser, Keys.ALT, "e")
    wait(browser, lambda: state.text == "beendet")
    assert not any(browser.find_element(By.ID, b).is_enabled() for b in ("take", "give-back", "close"))


@pytest.mark.parametrize("size", ["1024,768", "768,1024"])
def test_a_tablet_scrolls_no_sideways_and_folds_the_list(
    app: Flask, client: FlaskClient, rasa: ScriptedRasa, live_url: str, size: str
) -> None:
    customer = waiting_customer(client, rasa)
    with app.app_context():
        session = get_session()
        conversation = states.by_token(session, customer.token)
        long_word = "Sendungsnummer" + "X" * 80  # what a customer pastes: no spaces to break at
        states.add_message(session, conversation, Direction.INCOMING, Sender.CONTACT, long_word)
        session.commit()
    with chromium(size) as tablet:
        open_as_agent(tablet, app, live_url, f"/agent/conversations/{conversation_id(app, customer.token)}")
        sideways = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        assert tablet.execute_script(sideways) <= 0
        for element in ("reply-text", "take", "close"):
            assert tablet.execute_script(IN_VIEW, element), element
        assert not tablet.find_element(By.ID, "inbox-list").is_displayed()
        tablet.find_element(By.ID, "list-toggle").click()
        assert tablet.find_element(By.ID, "inbox-list").is_displayed()
        assert tablet.execute_script(sideways) <= 0
        shoot(tablet, f"inbox-tablet-{size.replace(',', 'x')}.png")

