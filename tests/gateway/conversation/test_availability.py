"""Business hours, agent presence and the handoff notice, on a fixed clock; leaving contact details."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from bot.conversation import availability
from bot.conversation.availability import Availability, HoursError, describe, is_open, parse_hours
from bot.db import get_session
from bot.models import Agent
from tests.support.app import make_app
from tests.support.bot_replies import HANDOFF
from tests.support.gateway import Customer, ScriptedRasa, conversation_id
from tests.support.login import logged_in

BERLIN = availability.BERLIN
DEFAULT = parse_hours(availability.DEFAULT_HOURS)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_default_hours_are_the_shops_service_times() -> None:
    assert describe(DEFAULT) == "Mo–Fr 08:00–20:00 Uhr, Sa 09:00–16:00 Uhr"
    monday, saturday, sunday = berlin(2026, 11, 23, 8, 0), berlin(2026, 11, 28, 9, 0), berlin(2026, 11, 29, 12, 0)
    assert is_open(DEFAULT, monday) and not is_open(DEFAULT, monday - timedelta(minutes=1))
    assert is_open(DEFAULT, monday.replace(hour=19, minute=59)) and not is_open(DEFAULT, monday.replace(hour=20))
    assert is_open(DEFAULT, saturday) and not is_open(DEFAULT, saturday.replace(hour=16))
    assert not is_open(DEFAULT, sunday)
    # the clock is UTC; the hours are Berlin's, summer time included (07:30 UTC = 09:30 CEST)
    assert is_open(DEFAULT, datetime(2026, 7, 6, 6, 30, tzinfo=UTC))
    assert not is_open(DEFAULT, datetime(2026, 12, 7, 6, 30, tzinfo=UTC))


def test_hours_spec_forms_and_clear_errors() -> None:
    assert parse_hours("MO-SO 00:00-24:00")[6][1].hour == 23
    assert describe(parse_hours("mo 9:00-12:00, di-mi 10:00-18:30")) == "Mo 09:00–12:00 Uhr, Di–Mi 10:00–18:30 Uhr"
    for spec, words in [
        ("", "empty"),
        ("montags 8-20", "cannot read"),
        ("xx 08:00-20:00", "unknown day"),
        ("fr-mo 08:00-20:00", "backwards"),
        ("mo 20:00-08:00", "not after"),
        ("mo 08:00-25:00", "invalid time"),
        ("mo-fr 08:00-20:00; fr 09:00-10:00", "Fr appears twice"),
    ]:
        with pytest.raises(HoursError, match=words):
            parse_hours(spec)


def test_bad_hours_stop_the_start(tmp_path: Path) -> None:
    with pytest.raises(HoursError, match="cannot read"):
        make_app(tmp_path, BUSINESS_HOURS="immer")


MONDAY_NOON = berlin(2026, 11, 23, 12, 0)
SUNDAY_NOON = berlin(2026, 11, 29, 12, 0)


@pytest.fixture
def clock(app: Flask) -> list[datetime]:
    """Set `clock[0]` to move the gateway's time."""
    moment = [MONDAY_NOON]
    app.extensions["clock"] = lambda: moment[0]
    return moment


def handed_off(client, rasa: ScriptedRasa) -> tuple[Customer, dict]:  # type: ignore[no-untyped-def]
    customer = Customer(client)
    rasa.replies.append(HANDOFF)
    reply = customer.say("Ich will einen Menschen")
    assert reply["state"] == "waiting_for_agent"
    return customer, reply["messages"][-1]


def test_presence_login_window_logout(app: Flask, clock: list[datetime], make_agent) -> None:  # type: ignore[no-untyped-def]
    settings = Availability(DEFAULT, online_minutes=5)
    agent = make_agent()
    with app.app_context():
        assert availability.agents_online(get_session(), settings, MONDAY_NOON) == 1
        assert availability.agents_online(get_session(), settings, MONDAY_NOON + timedelta(minutes=6)) == 0
    clock[0] = MONDAY_NOON + timedelta(minutes=10)
    assert agent.client.get("/agent/").status_code == 200  # any inbox request counts as seen
    with app.app_context():
        assert availability.agents_online(get_session(), settings, MONDAY_NOON + timedelta(minutes=14)) == 1
    agent.client.post("/agent/logout", headers={"X-CSRFToken": agent.csrf})
    with app.app_context():
        assert get_session().query(Agent).one().last_seen_at is None
        assert availability.agents_online(get_session(), settings, MONDAY_NOON + timedelta(minutes=10)) == 0


def test_an_editor_at_work_is_no_agent_online(app: Flask, clock: list[datetime]) -> None:
    """Editors log in too (the FAQ pages), but take no conversation: the customer must not be promised one."""
    from bot.models import Role

    logged_in(app, "eva@example.com", Role.EDITOR)  # logs in: last_seen_at is set
    settings = Availability(DEFAULT, online_minutes=5)
    with app.app_context():
        assert get_session().query(Agent).one().last_seen_at is not None
        assert availability.agents_online(get_session(), settings, MONDAY_NOON) == 0
    logged_in(app, "anna@example.com", Role.ADMIN)
    with app.app_context():
        assert availability.agents_online(get_session(), settings, MONDAY_NOON) == 1


def test_outside_hours_honest_notice_and_contact(app, client, rasa, clock, make_agent) -> None:  # type: ignore[no-untyped-def]
    make_agent()  # logged in, but it is Sunday
    clock[0] = SUNDAY_NOON
    customer, notice = handed_off(client, rasa)
    assert notice["sender"] == "system" and notice["contact_form"] is True
    assert "nicht besetzt" in notice["text"] and "Mo–Fr 08:00–20:00 Uhr, Sa 09:00–16:00 Uhr" in notice["text"]
    assert "E-Mail-Adresse oder Telefonnummer" in notice["text"]

    response = client.post(f"{customer.base}/contact", json={"email": " kunde@example.de ", "phone": "+49 30 1234567"})
    assert response.status_code == 201, response.json
    assert response.json["state"] == "waiting_for_agent"
    assert (
        response.json["messages"][0]["text"]
        == "Danke! Wir melden uns unter kunde@example.de bzw. +49 30 1234567 bei Ihnen."
    )
    with app.app_context():
        from bot.conversation import states

        conversation = states.by_token(get_session(), customer.token)
        assert (conversation.contact.email, conversation.contact.phone) == ("kunde@example.de", "+49 30 1234567")
        assert [c.id for c in states.queue(get_session())] == [conversation.id]


def test_nobody_online_in_hours(client, rasa, clock) -> None:  # type: ignore[no-untyped-def]
    _, notice = handed_off(client, rasa)
    assert notice["contact_form"] is True and "niemand" in notice["text"]


@pytest.mark.parametrize("moment, expected", [(SUNDAY_NOON, "nicht besetzt"), (MONDAY_NOON, "niemand")])
def test_sms_and_messenger_customers_are_not_asked_for_an_address(app: Flask, moment, expected: str) -> None:
    """They are reachable where they wrote: the notice says the answer comes there and offers no contact form."""
    from bot.conversation import states

    settings = Availability(DEFAULT, online_minutes=5)
    with app.app_context():
        session = get_session()
        sms = states.start(session, "sms", channel_address="+4915112345678")
        web = states.start(session, "web")
        for conversation in (sms, web):
            states.hand_off(session, conversation, "requested", None)
        sms_notice = availability.handoff_notice(session, sms, settings, moment)
        web_notice = availability.handoff_notice(session, web, settings, moment)
        assert expected in sms_notice.text and "wir antworten Ihnen hier" in sms_notice.text
        assert "E-Mail-Adresse" not in sms_notice.text and not (sms_notice.payload or {}).get("contact_form")
        assert "E-Mail-Adresse oder Telefonnummer" in web_notice.text and web_notice.payload == {"contact_form": True}


def test_queue_position_when_an_agent_is_online(app, client, rasa, clock, make_agent) -> None:  # type: ignore[no-untyped-def]
    agent = make_agent()
    first, notice = handed_off(client, rasa)
    assert notice["text"].startswith("Sie sind auf Platz 1 der Warteschlange") and "contact_form" not in notice
    second, notice = handed_off(client, rasa)
    assert "Platz 2" in notice["text"]
    assert second.transcript()["queue_position"] == 2
    assert agent.post(f"/agent/conversations/{conversation_id(app, first.token)}/take").status_code == 200
    assert second.transcript()["queue_position"] == 1 and first.transcript()["queue_position"] is None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"email": "", "phone": " "}, 400),
        ({"email": "keine-adresse"}, 400),
        ({"email": "a@b"}, 400),
        ({"email": 42}, 400),
        ({"phone": "12"}, 400),
        ({"phone": "ruf mich an"}, 400),
        ({"phone": "030 / 123 45-67"}, 201),
    ],
)
def test_contact_validation(client, customer: Customer, body, status) -> None:  # type: ignore[no-untyped-def]
    response = client.post(f"{customer.base}/contact", json=body)
    assert response.status_code == status
    if status == 400:
        assert "error" in response.json


def test_contact_bad_requests(app, client, customer: Customer, make_agent) -> None:  # type: ignore[no-untyped-def]
    assert (
        client.post("/api/widget/conversations/" + "x" * 40 + "/contact", json={"email": "a@b.de"}).status_code == 404
    )
    assert client.post(f"{customer.base}/contact", data="email=a@b.de").status_code == 415
    customer.say("Hallo")
    agent = make_agent()
    assert agent.post(f"/agent/conversations/{conversation_id(app, customer.token)}/close").status_code == 200
    assert client.post(f"{customer.base}/contact", json={"email": "a@b.de"}).status_code == 409


def test_inbox_shows_the_left_contact(app, client, rasa, clock, make_agent) -> None:  # type: ignore[no-untyped-def]
    clock[0] = SUNDAY_NOON
    customer, _ = handed_off(client, rasa)
    assert client.post(f"{customer.base}/contact", json={"email": "kunde@example.de"}).status_code == 201
    page = make_agent().client.get(f"/agent/conversations/{conversation_id(app, customer.token)}")
    assert 'href="mailto:kunde@example.de"' in page.get_data(as_text=True)


def test_rasa_down_on_a_sunday_promises_no_agent(client, rasa: ScriptedRasa, clock) -> None:  # type: ignore[no-untyped-def]
    clock[0] = SUNDAY_NOON
    rasa.down = True
    reply = Customer(client).say("Hallo?")
    texts = [m["text"] for m in reply["messages"]]
    assert reply["state"] == "waiting_for_agent" and "nicht erreichbar" in texts[1]
    assert not any("meldet sich" in t for t in texts) and reply["messages"][-1]["contact_form"] is True
