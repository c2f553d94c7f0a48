"""Phone numbers read by `phonenumbers`: stored in E.164 (German by default, others by their country code), invalid
ones refused where a person typed them — in identities, the widget's contact form and the agent's link form."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bot.conversation import states
from bot.customers import identities
from bot.db import session_factory
from bot.models import ContactIdentifier, IdentifierKind
from tests.support.gateway import Customer

PHONE = IdentifierKind.PHONE
REFUSED = "Telefonnummer ist unvollständig oder ungültig"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+49 0151 1234567", "+491511234567"),  # the trunk zero is not dialled after the country code
        ("0151 12345678", "+4915112345678"),
        ("+43 664 1234567", "+436641234567"),  # stays Austrian
        ("0043 664 1234567", "+436641234567"),
        ("(030) 1234567", "+49301234567"),
        ("+49 (0)30 1234567", "+49301234567"),
        ("+4915112345678", "+4915112345678"),  # as the SMS provider reports it
        ("whatsapp:+4915112345678", "+4915112345678"),
    ],
)
def test_numbers_are_normalised_to_e164(raw: str, e164: str) -> None:
    assert identities.normalise(PHONE, raw) == e164


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0151 12345678", "+4915112345678"),
        ("+43 664 1234567", "+436641234567"),
        ("(030) 1234567", "+49301234567"),
        ("+1 202 555 0143", "+12025550143"),
    ],
)
def test_valid_numbers_are_accepted(raw: str, e164: str) -> None:
    assert identities.parse(PHONE, raw) == e164


@pytest.mark.parametrize(
    "raw",
    ["+49 151 123", "0151 123", "0151 1234567", "+49 30 abc", "1234567", "0123", "+999 1234567", "ruf mich an", ""],
)
def test_invalid_numbers_are_refused_with_a_german_reason(raw: str) -> None:
    with pytest.raises(identities.InvalidIdentifier, match=REFUSED):
        identities.parse(PHONE, raw)


def test_text_that_is_no_number_is_compared_as_given() -> None:
    assert identities.normalise(PHONE, " ruf mich an ") == "ruf mich an"


def identifier_count(app: Flask) -> int:
    with app.app_context():
        session = session_factory()()
        try:
            return session.scalar(select(func.count()).select_from(ContactIdentifier))
        finally:
            session.close()


def test_the_widget_refuses_an_incomplete_number(app: Flask, client: FlaskClient, customer: Customer) -> None:
    response = client.post(f"{customer.base}/contact", json={"phone": "+49 151 123"})
    assert response.status_code == 400
    assert REFUSED in response.json["error"]
    assert identifier_count(app) == 0


@pytest.mark.parametrize(("phone", "linked"), [("0151 12345678", 1), ("1234567", 0)])
def test_the_widget_keeps_a_valid_or_a_local_number(
    app: Flask, client: FlaskClient, customer: Customer, phone: str, linked: int
) -> None:
    """A local number without area code is kept for a call back, as before; only a full number links."""
    response = client.post(f"{customer.base}/contact", json={"phone": phone})
    assert response.status_code == 201, response.json
    assert identifier_count(app) == linked


def test_the_agents_link_form_refuses_an_incomplete_number(app: Flask, make_agent) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        session = session_factory()()
        conversation_id = states.start(session, "web").id
        session.commit()
        session.close()
    agent = make_agent()
    response = agent.client.post(
        f"/agent/conversations/{conversation_id}/customer/link",
        data={"csrf_token": agent.csrf, "kind": "phone", "value": "+49 151 123"},
    )
    assert response.status_code == 400
    assert f"Nicht verknüpft: die {REFUSED}" in response.get_data(as_text=True)
    assert identifier_count(app) == 0
