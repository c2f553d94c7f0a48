"""Every stored customer message gets an outcome, once: resends, recovery after a crash, Rasa outages, and no
deadlock when many customers send at once (issue 12, points 3 and 4). Scripted Rasa; the real one at the end."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from flask import Flask

from bot.conversation import receive, states
from bot.db import session_factory
from bot.integrations.rasa_client import RasaClient
from bot.models import Conversation, Direction, Message, Outcome, Sender, State
from rasa_runtime.processes import Services
from tests.support.app import UNREACHABLE_RASA, make_app
from tests.support.channels import served
from tests.support.gateway import Customer, ScriptedRasa, conversation_id


def messages(app: Flask, cid: int) -> list[Message]:
    with app.app_context(), session_factory()() as session:
        return states.messages_after(session, cid, 0)


def conversation(app: Flask, cid: int) -> Conversation:
    with app.app_context(), session_factory()() as session:
        found = session.get(Conversation, cid)
        assert found is not None
        return found


def store_owed(app: Flask, text: str, source_id: str | None = None) -> int:
    """A customer message stored just before a crash (`pending`, nobody asked Rasa): its conversation's id."""
    with app.app_context(), session_factory()() as session:
        started = states.start(session)
        message = states.add_message(
            session, started, Direction.INCOMING, Sender.CONTACT, text, source_id=source_id
        )
        message.outcome = Outcome.PENDING
        session.commit()
        return started.id


# --- resends ----------------------------------------------------------------------------------------------------


def test_a_resend_of_a_message_left_without_answer_is_answered_once(tmp_path: Path, rasa: ScriptedRasa) -> None:
    app = make_app(tmp_path, rasa)
    cid = store_owed(app, "Was kostet der Versand?", source_id="c-1")
    token = conversation(app, cid).token
    client = app.test_client()
    first = client.post(f"/api/widget/conversations/{token}/messages", json={"text": "x", "client_id": "c-1"})
    again = client.post(f"/api/widget/conversations/{token}/messages", json={"text": "x", "client_id": "c-1"})
    assert first.status_code == again.status_code == 201
    texts = [m["text"] for m in first.json["messages"]]
    assert texts == ["Was kostet der Versand?", "Echo: Was kostet der Versand?"]
    assert again.json["messages"] == first.json["messages"]
    assert [text for _s, text in rasa.received] == ["Was kostet der Versand?"]
    assert [m.outcome for m in messages(app, cid)] == [Outcome.ANSWERED, None]


# --- recovery at start -------------------------------------------------------------------------------------------


def test_messages_left_by_a_crash_are_answered_at_the_next_start_once(tmp_path: Path, rasa: ScriptedRasa) -> None:
    cid = store_owed(make_app(tmp_path, rasa), "Wo ist mein Paket?")
    for _start in range(2):  # two starts after the crash, one after the other
        app = make_app(tmp_path, rasa, PENDING_WORKER=True, RASA_RETRY_SECONDS=0.05)
        app.test_client().get("/api/widget/conversations/unknown-token-0000000000")  # the first request
        try:
            _until(lambda: messages(app, cid)[0].outcome == Outcome.ANSWERED)  # noqa: B023
        finally:
            app.extensions["pending"].stop()
    assert [text for _s, text in rasa.received] == ["Wo ist mein Paket?"]
    assert [m.text for m in messages(app, cid)] == ["Wo ist mein Paket?", "Echo: Wo ist mein Paket?"]


def test_a_message_rasa_answered_before_the_crash_is_not_sent_again(tmp_path: Path, rasa: ScriptedRasa) -> None:
    app = make_app(tmp_path, rasa)
    cid = store_owed(app, "Wo ist mein Paket?")
    sender = conversation(app, cid).rasa_sender_id
    owed_id = messages(app, cid)[0].id
    rasa.last[sender] = (owed_id, [{"text": "Ihr Paket kommt morgen."}])  # Rasa had it; the gateway died
    assert app.extensions["pending"].run_once() == 0
    assert rasa.received == []
    assert [m.text for m in messages(app, cid)] == ["Wo ist mein Paket?", "Ihr Paket kommt morgen."]


# --- Rasa outages ------------------------------------------------------------------------------------------------


def test_an_outage_is_temporary_the_messages_are_answered_and_the_bot_takes_over_again(
    app: Flask, customer: Customer, rasa: ScriptedRasa
) -> None:
    rasa.down = True
    first = customer.say("Wo ist mein Paket?")
    second = customer.say("Hallo?")
    assert first["state"] == second["state"] == "waiting_for_agent"
    assert first["messages"][1]["text"] == receive.RASA_DOWN_TEXT
    assert [m["text"] for m in second["messages"]] == ["Hallo?", receive.RASA_STILL_DOWN_TEXT]
    pending = app.extensions["pending"]
    assert pending.run_once() == 2  # still down: nobody is told twice
    rasa.down = False
    assert pending.run_once() == 0
    assert [text for _s, text in rasa.received] == ["Wo ist mein Paket?", "Hallo?"]
    transcript = customer.transcript()
    assert transcript["state"] == "bot"
    texts = [m["text"] for m in transcript["messages"]]
    assert texts[-3:] == [states.TEXTS["back_to_bot"], "Echo: Wo ist mein Paket?", "Echo: Hallo?"]
    assert texts.count("Echo: Wo ist mein Paket?") == 1
    assert customer.say("Danke")["messages"][-1]["text"] == "Echo: Danke"


def test_after_an_outage_the_next_message_is_answered_after_the_owed_ones(
    customer: Customer, rasa: ScriptedRasa
) -> None:
    rasa.down = True
    customer.say("Erste Frage")
    rasa.down = False
    result = customer.say("Zweite Frage")  # before any retry: the first is answered first
    assert [text for _s, text in rasa.received] == ["Erste Frage", "Zweite Frage"]
    assert result["state"] == "bot"
    assert [m["text"] for m in result["messages"]][-2:] == ["Echo: Erste Frage", "Echo: Zweite Frage"]


def test_an_empty_reply_is_an_outage_not_an_answer(app: Flask, customer: Customer, rasa: ScriptedRasa) -> None:
    rasa.replies.append([])  # no model loaded
    assert customer.say("Hallo")["messages"][1]["text"] == receive.RASA_DOWN_TEXT
    assert app.extensions["pending"].run_once() == 0
    assert customer.transcript()["messages"][-1]["text"] == "Echo: Hallo"


def test_an_agent_who_took_the_conversation_during_the_outage_keeps_it(
    app: Flask, customer: Customer, rasa: ScriptedRasa, make_agent
) -> None:  # type: ignore[no-untyped-def]
    rasa.down = True
    customer.say("Wo ist mein Paket?")
    make_agent().post(f"/agent/conversations/{conversation_id(app, customer.token)}/take")
    rasa.down = False
    assert app.extensions["pending"].run_once() == 0
    assert rasa.received == [] and customer.transcript()["state"] == "with_agent"
    assert messages(app, conversation_id(app, customer.token))[0].outcome == Outcome.QUEUED


def test_a_request_for_a_person_during_the_outage_keeps_the_conversation_with_the_agents(
    app: Flask, customer: Customer, rasa: ScriptedRasa
) -> None:
    rasa.down = True
    customer.say("Ich möchte mit einem Mitarbeiter sprechen")
    rasa.down = False
    rasa.replies.append([{"text": "Gern, ich verbinde Sie."}, {"custom": {"type": "handoff", "reason": "requested"}}])
    app.extensions["pending"].run_once()
    cid = conversation_id(app, customer.token)
    assert conversation(app, cid).state == State.WAITING and conversation(app, cid).handoff_reason == "requested"


# --- no deadlock -------------------------------------------------------------------------------------------------


@pytest.fixture
def slow_gateway(tmp_path: Path, rasa: ScriptedRasa) -> Iterator[tuple[Flask, str]]:
    """A small pool on purpose: a request that kept its connection while waiting for the lock would starve it."""
    rasa.delay = 0.2
    app = make_app(tmp_path, rasa, DB_POOL_SIZE=2)
    with served(app) as url:
        yield app, url


def test_fifty_customers_sending_two_messages_at_once_all_get_answers(
    slow_gateway: tuple[Flask, str], rasa: ScriptedRasa
) -> None:
    app, url = slow_gateway
    http = requests.Session()
    tokens = [http.post(f"{url}/api/widget/conversations").json()["token"] for _ in range(50)]
    sends = [(token, f"Frage {n} von {i}") for i, token in enumerate(tokens) for n in (1, 2)]

    def send(item: tuple[str, str]) -> int:
        token, text = item
        response = requests.post(f"{url}/api/widget/conversations/{token}/messages", json={"text": text}, timeout=120)
        return response.status_code

    with ThreadPoolExecutor(len(sends)) as pool:
        statuses = list(pool.map(send, sends))
    assert statuses == [201] * len(sends)
    assert sorted(text for _s, text in rasa.received) == sorted(text for _t, text in sends)
    for token in tokens:
        stored = [m.text for m in messages(app, conversation_id(app, token))]
        questions = [t for t in stored if not t.startswith("Echo: ")]
        assert sorted(stored) == sorted([*questions, *(f"Echo: {q}" for q in questions)]) and len(questions) == 2


# --- the real Rasa -----------------------------------------------------------------------------------------------


@pytest.mark.rasa
def test_real_rasa_answers_what_arrived_while_it_was_unreachable(tmp_path: Path, rasa_services: Services) -> None:
    down = RasaClient(UNREACHABLE_RASA, timeout=1)
    app = make_app(tmp_path, down)
    customer = Customer(app.test_client())
    assert customer.say("Wie lange dauert die Lieferung?")["state"] == "waiting_for_agent"
    real = RasaClient(rasa_services.settings.rasa_url, timeout=120)
    app.extensions["rasa"] = app.extensions["pending"].rasa = real  # Rasa is back
    assert app.extensions["pending"].run_once() == 0
    transcript = customer.transcript()
    assert transcript["state"] == "bot"
    bot_texts = [m["text"] for m in transcript["messages"] if m["sender"] == "bot"]
    assert bot_texts[0] == receive.RASA_DOWN_TEXT and len(bot_texts) > 1  # the notice, then Rasa's answer
    assert app.extensions["pending"].run_once() == 0  # nothing owed: Rasa is not asked again
    sender = conversation(app, conversation_id(app, customer.token)).rasa_sender_id
    tracker = rasa_services.settings.rasa_api(f"/conversations/{sender}/tracker")
    events = requests.get(tracker, timeout=30).json()["events"]
    assert [e["text"] for e in events if e["event"] == "user"] == ["Wie lange dauert die Lieferung?"]


def _until(condition, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.02)
