"""Two gateway processes on one database and one Redis behave as one gateway (issue 14, scale out).

Each test runs two apps, as two gunicorn workers or two machines would: their own hub, locks, outbox and retrier,
sharing only the database (a SQLite file, and PostgreSQL where one answers) and Redis database
`AUSKUNFT_TEST_REDIS_URL`.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import Select, select

from bot.channels import delivery
from bot.conversation import states
from bot.db import get_session, session_factory
from bot.models import Conversation, DeliveryStatus, Direction, Message, Sender, now
from bot.web import inbox_list
from tests.support.app import make_app
from tests.support.bot_replies import HANDOFF
from tests.support.browser import serve
from tests.support.channels import channel_app
from tests.support.gateway import Customer, ScriptedRasa, conversation_id
from tests.support.mock_providers import GraphApi, TwilioApi
from tests.support.replicas import EventStream, ReplicaProcess, fresh_redis, shared_database


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database per kind for the module (each test has conversations of its own)."""
    with shared_database(request.param, tmp_path_factory.mktemp("shared")) as url:
        yield url


@pytest.fixture(scope="module")
def process_b(database: str) -> Iterator[ReplicaProcess]:
    """Gateway B in a process of its own, its Rasa slow enough that two unserialised turns would overlap."""
    replica = ReplicaProcess(database, fresh_redis(), rasa_delay=0.3)
    yield replica
    replica.close()


def close(apps: list[Flask]) -> None:
    for app in apps:
        if stop := getattr(app.extensions["hub"], "stop", None):  # its subscriber thread, with Redis
            stop()
        app.extensions["db_sessions"].kw["bind"].dispose()


@pytest.fixture
def two(tmp_path: Path, database: str) -> Iterator[tuple[Flask, Flask]]:
    """Gateways A and B, each with its own scripted Rasa (`app.config["RASA_CLIENT"]`), keep-alive as deployed."""
    redis_url = fresh_redis()
    apps = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        apps.append(
            make_app(tmp_path / name, ScriptedRasa(), DATABASE_URL=database, REDIS_URL=redis_url,
                     SSE_KEEPALIVE_SECONDS=15.0)
        )  # fmt: skip
    yield apps[0], apps[1]
    close(apps)


def rasa_of(app: Flask) -> ScriptedRasa:
    return app.config["RASA_CLIENT"]


def test_a_reply_stored_by_one_gateway_wakes_the_stream_open_on_the_other(two: tuple[Flask, Flask]) -> None:
    a, b = two
    customer = Customer(b.test_client())
    rasa_of(b).delay = 1.0  # thinking: "typing…" shows on A meanwhile
    with serve(a) as url:
        stream = EventStream(f"{url}/api/widget/conversations/{customer.token}/events")
        try:
            stream.wait_for("state", lambda data: data["state"] == "bot", timeout=5)
            asking = threading.Thread(target=customer.say, args=("Wie lange dauert die Lieferung?",))
            asking.start()
            # the keep-alive read comes only after 15 s: these arrive through Redis
            stream.wait_for("typing", lambda data: data["typing"] == ["bot"], timeout=5)
            reply = stream.wait_for("message", lambda data: data["sender"] == "bot", timeout=5)
            assert reply["text"] == "Echo: Wie lange dauert die Lieferung?"
            asking.join()
        finally:
            stream.close()


def test_a_customer_waiting_on_one_gateway_wakes_the_inbox_list_on_the_other(two: tuple[Flask, Flask]) -> None:
    """The inbox's list stream (bot/web/inbox_list.py) waits on `wait_any`: B's handoff reaches A through Redis,
    long before A's 15 s keep-alive read."""
    a, b = two
    hub = a.extensions["hub"]
    a.test_client().get("/agent/login")  # A's first request starts its subscriber, which wakes all once subscribed
    assert hub.wait_any(0, timeout=5) != 0
    seen = hub.any_version()
    rasa_of(b).replies.append(HANDOFF)
    customer = Customer(b.test_client())
    customer.say("Mensch bitte")
    assert hub.wait_any(seen, timeout=5) != seen  # woken through Redis (A's keep-alive read would be 15 s)
    with a.app_context():
        waiting = inbox_list.lists(get_session(), agent_id=0, now=now())["waiting"]
        assert conversation_id(a, customer.token) in [entry["id"] for entry in waiting]


def test_messages_sent_at_once_to_two_gateways_are_answered_in_turn(
    two: tuple[Flask, Flask], process_b: ReplicaProcess
) -> None:
    a = two[0]
    rasa_of(a).delay = 0.3
    token = Customer(a.test_client()).token
    path = f"/api/widget/conversations/{token}/messages"

    def to_a(text: str) -> None:
        response = a.test_client().post(path, json={"text": text})
        assert response.status_code == 201, response.json

    def to_b(text: str) -> None:
        response = requests.post(process_b.url + path, json={"text": text}, timeout=60)
        assert response.status_code == 201, response.text

    for turn in range(3):
        senders = [threading.Thread(target=to_a, args=(f"Frage {turn}A",)),
                   threading.Thread(target=to_b, args=(f"Frage {turn}B",))]  # fmt: skip
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
    messages = a.test_client().get(f"/api/widget/conversations/{token}").json["messages"]
    talk = [(m["sender"], m["text"]) for m in messages if m["sender"] in ("contact", "bot")]
    assert len(talk) == 12
    for question, answer in zip(talk[::2], talk[1::2], strict=True):
        assert question[0] == "contact"
        assert answer == ("bot", f"Echo: {question[1]}")  # Q1 A1 Q2 A2: never two questions, then two answers


def test_two_retriers_ask_rasa_once_about_a_message_owed_an_answer(
    two: tuple[Flask, Flask], process_b: ReplicaProcess
) -> None:
    a = two[0]
    customer = Customer(a.test_client())
    rasa_of(a).down = True
    customer.say("Wo ist meine Bestellung?")  # Rasa away: stored, told, owed
    rasa_of(a).down = False
    rasa_of(a).delay = 0.3
    asked_before = json.loads(process_b.command("asked"))
    retrier = threading.Thread(target=a.extensions["pending"].run_once)
    retrier.start()
    process_b.command("retry")  # B's retrier at the same moment
    retrier.join()
    asked = [text for _sender, text in rasa_of(a).received] + json.loads(process_b.command("asked"))[len(asked_before):]
    assert asked == ["Wo ist meine Bestellung?"]
    answers = [m["text"] for m in customer.transcript()["messages"] if m["text"].startswith("Echo:")]
    assert answers == ["Echo: Wo ist meine Bestellung?"]


@pytest.fixture
def sms_two(tmp_path: Path, database: str, graph: GraphApi, twilio: TwilioApi) -> Iterator[tuple[Flask, Flask]]:
    """Gateways A and B with SMS switched on, their outboxes driven by hand."""
    redis_url = fresh_redis()
    apps = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        apps.append(
            channel_app(tmp_path / name, ScriptedRasa(), graph, twilio, DATABASE_URL=database, REDIS_URL=redis_url,
                        DELIVERY_WORKER=False)
        )  # fmt: skip
    yield apps[0], apps[1]
    close(apps)


numbers = itertools.count(1)


def pending_sms(app: Flask, conversations: int, each: int) -> dict[str, list[str]]:
    """`each` agent messages for each of `conversations` new SMS customers, stored pending; address → texts."""
    expected: dict[str, list[str]] = {}
    first = next(numbers)
    with app.app_context(), session_factory()() as session:
        for number in range(conversations):
            address = f"+49151{first:03d}{number:04d}"
            conversation = states.start(session, "sms", channel_address=address)
            texts = [f"Nachricht {number}.{index}" for index in range(each)]
            for text in texts:
                states.add_message(session, conversation, Direction.OUTGOING, Sender.AGENT, text)
            expected[address] = texts
        session.commit()
    return expected


def to(addresses: Iterable[str]) -> Select[tuple[Message]]:
    return select(Message).join(Conversation).where(Conversation.channel_address.in_(list(addresses)))


def unsent(app: Flask, addresses: Iterable[str]) -> int:
    with app.app_context(), session_factory()() as session:
        statuses = [DeliveryStatus.PENDING, DeliveryStatus.SENDING]
        return len(session.scalars(to(addresses).where(Message.delivery_status.in_(statuses))).all())


def test_two_outboxes_send_each_message_once_and_in_order(sms_two: tuple[Flask, Flask], twilio: TwilioApi) -> None:
    a, _b = sms_two
    expected = pending_sms(a, conversations=5, each=3)
    # the first message of each takes long: a second sender that did not wait for it would overtake it
    twilio.delay = lambda request: 0.3 if request.form.get("Body", "").endswith(".0") else 0.01

    def drain(app: Flask) -> None:
        outbox = app.extensions["outbox"]
        deadline = time.monotonic() + 30
        while unsent(app, expected) and time.monotonic() < deadline:
            wait = outbox.run_once()
            time.sleep(min(wait or 0.05, 0.05))

    workers = [threading.Thread(target=drain, args=(app,)) for app in sms_two]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for address, texts in expected.items():
        assert twilio.bodies(to=address) == texts  # each once, in the order stored


def test_a_send_claimed_by_a_crashed_gateway_is_taken_over_once_its_lease_ran_out(
    sms_two: tuple[Flask, Flask], twilio: TwilioApi
) -> None:
    a, b = sms_two
    (address,) = pending_sms(a, conversations=1, each=1)
    with a.app_context(), session_factory()() as session:
        message = session.scalars(to([address])).one()
        assert delivery.claim(session, message, "gateway-a", lease_seconds=60)  # then A crashed mid-send
    outbox = b.extensions["outbox"]
    outbox.start()  # B starting (or restarting) does not take A's send while A may still be sending it
    outbox.stop()
    outbox.run_once()
    assert twilio.bodies(to=address) == []
    outbox.clock = lambda: now() + timedelta(seconds=61)
    outbox.run_once()
    assert twilio.bodies(to=address) == ["Nachricht 0.0"]
    with b.app_context(), session_factory()() as session:
        sent = session.scalars(to([address])).one()
        assert (sent.delivery_status, sent.claimed_by) == (DeliveryStatus.SENT, outbox.identity)


def test_an_sms_webhook_answering_on_one_gateway_holds_off_the_other_gateways_outbox(
    sms_two: tuple[Flask, Flask], twilio: TwilioApi
) -> None:
    a, b = sms_two
    (address,) = pending_sms(a, conversations=1, each=1)
    with a.extensions["outbox"].hold("sms", address):  # A answers this customer in its TwiML response right now
        b.extensions["outbox"].run_once()
        assert twilio.bodies(to=address) == []
    b.extensions["outbox"].run_once()
    assert twilio.bodies(to=address) == ["Nachricht 0.0"]
