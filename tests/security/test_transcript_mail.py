"""The transcript by e-mail is no spam relay (issue 13), probed as an attacker would, over real SMTP.

Today's finding: a conversation costs nothing, so anyone could have the shop's mail server send his own words
(a phishing link) to any stranger's address, as "Ihr Chat mit unserem Kundenservice". Now a new address gets a
confirmation mail of fixed text only; the transcript goes out once the link's button is pressed (opening the link
sends nothing: mail scanners fetch links); every mail counts against a daily cap that several gateway processes
share through the database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.support.app import make_app
from tests.support.gateway import Customer, ScriptedRasa
from tests.support.smtp import MAIL_FROM, PUBLIC_URL, Inbox, confirmation_path, smtp_server

PHISHING = "Ihr Konto wurde gesperrt! Jetzt entsperren: https://evil.example/login"
STRANGER = "fremde@example.org"
SUBJECT = "Ihr Chatverlauf mit Lindgrün"
CONFIRMATION_TEXT = """Guten Tag,

im Chat auf unserer Website wurde der Gesprächsverlauf an diese E-Mail-Adresse angefordert. Bitte bestätigen Sie
über den folgenden Link, dass dies Ihre Adresse ist – dann senden wir Ihnen den Verlauf:

{link}

Der Link ist 24 Stunden gültig. Wenn Sie nichts angefordert haben, müssen Sie nichts tun: Ohne Ihre Bestätigung
senden wir Ihnen nichts weiter.

Ihr Kundenservice
"""


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    with smtp_server() as inbox:
        yield inbox


@pytest.fixture
def app(tmp_path: Path, smtp: Inbox) -> Flask:
    return make_app(tmp_path, ScriptedRasa(), **smtp.settings)


class SignedLongAgo(TimestampSigner):
    """Signs as if it were 25 hours ago: a link past its 24 hours, without waiting."""

    def get_timestamp(self) -> int:
        return super().get_timestamp() - 25 * 3600


def attacker(app: Flask, text: str = PHISHING) -> Customer:
    customer = Customer(app.test_client())
    customer.say(text)
    return customer


def ask(customer: Customer, email: str | None = STRANGER) -> int:
    return customer.client.post(f"{customer.base}/transcript", json={"email": email} if email else None).status_code


def assert_shop_headers(mail: EmailMessage, to: str) -> None:
    """Every header is the shop's or the recipient's: nothing a customer typed, no Reply-To elsewhere."""
    assert mail["Subject"] == SUBJECT
    assert mail["From"] == f"Lindgrün <{MAIL_FROM}>" and mail["To"] == to
    assert mail["Reply-To"] is None and mail["Cc"] is None and mail["Bcc"] is None
    assert mail.get_content_type() == "text/plain"


def test_a_new_address_gets_one_confirmation_mail_of_fixed_text_only(app: Flask, smtp: Inbox) -> None:
    customer = attacker(app)

    response = customer.client.post(f"{customer.base}/transcript", json={"email": STRANGER})

    assert response.status_code == 202
    assert [e.rcpt_tos for e in smtp.envelopes] == [[STRANGER]]
    (mail,) = smtp.mails()
    assert_shop_headers(mail, STRANGER)
    link = PUBLIC_URL + confirmation_path(mail)
    # fixed text: no customer words, no transcript
    assert mail.get_content().replace("\r\n", "\n") == CONFIRMATION_TEXT.format(link=link)
    assert "evil.example" not in mail.as_string() and "gesperrt" not in mail.as_string()


def test_the_link_is_built_from_the_public_url_not_from_the_request(app: Flask, smtp: Inbox) -> None:
    customer = attacker(app)
    response = customer.client.post(
        f"{customer.base}/transcript", json={"email": STRANGER}, headers={"Host": "evil.example"}
    )
    assert response.status_code == 202
    assert "evil.example" not in smtp.mails()[0].get_content()
    assert f"{PUBLIC_URL}/transcript/confirm/" in smtp.mails()[0].get_content()


def test_opening_the_link_sends_nothing_and_its_button_sends_the_transcript_once(app: Flask, smtp: Inbox) -> None:
    customer = attacker(app, "Wo ist mein Paket?")
    assert ask(customer, "kunde@example.de") == 202
    path = confirmation_path(smtp.mails()[0])
    browser = app.test_client()  # the customer's mail program opens the link: no widget cookie, no CSRF token

    for _ in range(3):  # a scanner, a preview, the customer
        page = browser.get(path)
        assert page.status_code == 200 and "Adresse bestätigen und Verlauf senden" in page.get_data(as_text=True)
    assert len(smtp.envelopes) == 1

    sent = browser.post(path)
    assert sent.status_code == 200 and "Verlauf an kunde@example.de geschickt" in sent.get_data(as_text=True)
    assert len(smtp.envelopes) == 2
    transcript = smtp.mails()[1]
    assert_shop_headers(transcript, "kunde@example.de")
    assert "Sie: Wo ist mein Paket?" in transcript.get_content()

    again = browser.post(path)  # the same link once more: used up
    assert again.status_code == 200 and "bereits" in again.get_data(as_text=True)
    assert len(smtp.envelopes) == 2
    # the address is this customer's now: the next copy goes at once
    assert ask(customer, "Kunde@Example.de") == 201
    assert [e.rcpt_tos for e in smtp.envelopes][2:] == [["Kunde@Example.de"]]


def test_forged_altered_or_expired_links_send_nothing(app: Flask, smtp: Inbox) -> None:
    from bot.conversation import transcript_mail  # here: on code without it, the other tests still run and fail

    customer = attacker(app)
    assert ask(customer) == 202
    path = confirmation_path(smtp.mails()[0])
    browser = app.test_client()
    forged = URLSafeTimedSerializer("a guessed key", salt=transcript_mail.SALT).dumps([1, "mich@evil.example", "x"])
    expired = URLSafeTimedSerializer(app.secret_key, salt=transcript_mail.SALT, signer=SignedLongAgo)
    expired_link = expired.dumps([1, STRANGER, "n"])
    for bad in (path[:-2] + "xx", f"/transcript/confirm/{forged}", f"/transcript/confirm/{expired_link}"):
        assert browser.get(bad).status_code == 410
        response = browser.post(bad)
        assert response.status_code == 410 and "abgelaufen oder ungültig" in response.get_data(as_text=True)
    assert len(smtp.envelopes) == 1


def test_a_typed_address_of_someone_else_never_becomes_confirmed_for_the_attacker(
    app: Flask, smtp: Inbox
) -> None:
    """The attacker leaves the victim's address in his own conversation; later the victim confirms it in hers.
    The attacker's next transcript must still need the victim's confirmation, not go to her at once."""
    bad = attacker(app)
    assert bad.client.post(f"{bad.base}/contact", json={"email": "opfer@example.de"}).status_code == 201
    victim = attacker(app, "Wann kommt meine Bestellung?")
    assert ask(victim, "opfer@example.de") == 202
    assert app.test_client().post(confirmation_path(smtp.mails()[0])).status_code == 200
    assert len(smtp.envelopes) == 2

    assert ask(bad, "opfer@example.de") == 202  # a confirmation again, not the attacker's text
    assert ask(bad, None) == 202  # nor by the address left in his conversation
    assert PHISHING not in "".join(m.get_content() for m in smtp.mails())


def test_the_daily_cap_holds_across_two_gateways_on_one_database(
    tmp_path: Path, smtp: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = (make_app(tmp_path, ScriptedRasa(), MAIL_DAILY_CAP=3, **smtp.settings) for _ in range(2))
    customers = [attacker(gateway) for gateway in (first, second, first, second, second)]

    with caplog.at_level(logging.WARNING, logger="auskunft.gateway"):
        responses = [
            c.client.post(f"{c.base}/transcript", json={"email": f"k{n}@example.de"}) for n, c in enumerate(customers)
        ]

    assert [r.status_code for r in responses] == [202, 202, 202, 503, 503]
    refused = responses[-1].json
    assert refused["reason"] == "daily_cap" and "Heute können wir leider keine weiteren E-Mails" in refused["error"]
    assert len(smtp.envelopes) == 3
    assert any("daily mail cap reached" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    # a confirmation link pressed now cannot send either: the transcript counts against the same cap
    page = first.test_client().post(confirmation_path(smtp.mails()[0]))
    assert page.status_code == 503 and "morgen" in page.get_data(as_text=True)
    assert len(smtp.envelopes) == 3


def test_a_mail_the_smtp_server_refused_does_not_count(tmp_path: Path, smtp: Inbox) -> None:
    app = make_app(tmp_path, ScriptedRasa(), MAIL_DAILY_CAP=1, **{**smtp.settings, "SMTP_PORT": 9})
    customer = attacker(app)
    assert ask(customer) == 502
    app.config.update(SMTP_PORT=smtp.settings["SMTP_PORT"])
    assert ask(customer) == 202
    assert ask(attacker(app)) == 503


def test_the_subject_never_carries_what_a_customer_typed(app: Flask, smtp: Inbox, client: FlaskClient) -> None:
    customer = attacker(app, "Betreff: Gewinn! Subject: You won")
    assert customer.client.post(f"{customer.base}/contact", json={"email": "kunde@example.de"}).status_code == 201
    assert ask(customer, None) == 202  # the address left in the contact form: confirmed first as well
    assert client.post(confirmation_path(smtp.mails()[0])).status_code == 200
    assert ask(customer, None) == 201
    assert len(smtp.envelopes) == 3
    for mail in smtp.mails():
        assert_shop_headers(mail, "kunde@example.de")
        assert "Gewinn" not in str(mail["Subject"]) and "won" not in str(mail["Subject"])


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
