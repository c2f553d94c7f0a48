"""The deployment of deploy/ on one machine, under load: nginx, two gateways on one PostgreSQL database and Redis,
two Rasa processes on one tracker store and lock store, two action servers (tests/support/scale_stack.py).

What several replicas must guarantee: no customer question lost, answered twice or answered with another's
answer, whichever replica takes each message; a reply stored by one replica reaches a stream open on the other;
a webhook delivered twice to both replicas at once is processed once; `kill -9` of one gateway, one Rasa and one
action server loses nothing. The figures of each run are written to var/scale-report.json (docs/scale.md).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import text

from rasa_runtime.paths import VAR
from tests.support import channels
from tests.support.channels import MessengerCustomer, SmsCustomer
from tests.support.mock_providers import GraphApi, TwilioApi
from tests.support.scale_load import LoadResult, answers_of, run_load
from tests.support.scale_stack import ScaleStack, gateway_engine, running
from tests.support.supervised import eventually

pytestmark = pytest.mark.scale
REPORT = VAR / "scale-report.json"


def report(name: str, figures: dict[str, Any]) -> None:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    REPORT.write_text(json.dumps({**previous, name: figures}, indent=2, ensure_ascii=False))
    print(name, json.dumps(figures, ensure_ascii=False))


@pytest.fixture(scope="module")
def providers() -> Iterator[tuple[GraphApi, TwilioApi]]:
    graph, twilio = GraphApi(channels.PAGE_TOKEN, channels.GRAPH_VERSION), TwilioApi(channels.ACCOUNT_SID,
                                                                                      channels.AUTH_TOKEN)
    yield graph, twilio
    graph.close()
    twilio.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, providers: tuple[GraphApi, TwilioApi]) -> Iterator[ScaleStack]:
    graph, twilio = providers
    with running(tmp_path_factory.mktemp("scale"), graph_url=graph.url, twilio_url=twilio.url) as started:
        report("start", {k: round(v, 1) for k, v in started.started_in.items()})
        yield started


@pytest.fixture(scope="module")
def known(stack: ScaleStack) -> dict[str, str]:
    answers = answers_of(requests.Session(), stack.url)
    assert all(answers.values()) and len(set(answers.values())) == len(answers), answers
    return answers


def assert_nothing_lost(result: LoadResult) -> None:
    figures = result.summary()
    assert figures["send_failures"] == 0, figures
    assert (figures["lost"], figures["duplicated"], figures["swapped"]) == (0, 0, 0), figures
    assert figures["answered"] + figures["late"] + figures["other"] == result.questions, figures


def test_customers_writing_to_alternate_replicas_get_each_answer_once(stack: ScaleStack, known: dict[str, str]) -> None:
    gateways = [stack.gateway_url(0), stack.gateway_url(1)]
    result = run_load(stack.url, gateways, gateways, known, customers=50, messages=10)
    report("alternating", result.summary())
    assert_nothing_lost(result)
    # every reply reached the stream the customer had open, also when another replica stored it
    assert result.missing_on_stream == 0, result.summary()


def messages_with_source(source_id: str) -> list[tuple[int, str, str]]:
    """Every message of the conversation(s) holding `source_id` (conversation, sender, text), oldest first."""
    engine = gateway_engine()
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT conversation_id, sender, text FROM messages WHERE conversation_id IN "
            "(SELECT conversation_id FROM messages WHERE source_id = :source) ORDER BY id"
        ), {"source": source_id}).all()
    engine.dispose()
    return [(c, s, t) for c, s, t in rows]


def at_once(calls: list[Any]) -> list[Any]:
    """Run the calls in threads released together; their results (or exceptions) in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as error:  # reported by the assertion below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return results


def test_a_messenger_message_delivered_twice_to_both_replicas_is_processed_once(
    stack: ScaleStack, providers: tuple[GraphApi, TwilioApi]
) -> None:
    graph, _ = providers
    psid = "2400000000000777"
    customers = [MessengerCustomer(stack.gateway_url(i), psid) for i in (0, 1)]
    body = customers[0].message("Was kostet der Versand?", mid="m_scale_twice")
    results = at_once([lambda c=c: c.post(body) for c in customers for _ in range(2)])
    assert all(getattr(r, "status_code", None) == 200 for r in results), results
    eventually(lambda: graph.texts(psid), limit=120, what="the answer sent to Messenger")
    rows = messages_with_source("m_scale_twice")
    report("messenger_twice", {"stored_rows": len(rows), "sent_to_graph": len(graph.texts(psid))})
    assert [sender for _, sender, _ in rows].count("contact") == 1, rows
    bot_texts = [text for _, sender, text in rows if sender == "bot"]
    assert len(bot_texts) == len(set(bot_texts)), rows
    assert len(graph.texts(psid)) == len(bot_texts), graph.texts(psid)


def test_an_sms_delivered_twice_to_both_replicas_is_processed_once(stack: ScaleStack) -> None:
    customers = [SmsCustomer(stack.gateway_url(i), "+4915112340777") for i in (0, 1)]
    form = customers[0].form("Wie lange dauert die Lieferung?", sid="SM" + "7" * 32)
    results = at_once([lambda c=c: c.post(form) for c in customers for _ in range(2)])
    assert all(getattr(r, "status_code", None) == 200 for r in results), results
    replies = [channels.twiml_messages(r.text) for r in results]
    rows = messages_with_source("SM" + "7" * 32)
    report("sms_twice", {"stored_rows": len(rows), "twiml_replies": replies})
    assert [sender for _, sender, _ in rows].count("contact") == 1, rows
    bot_texts = [text for _, sender, text in rows if sender == "bot"]
    assert len(bot_texts) == len(set(bot_texts)), rows
    assert sum(1 for texts in replies if texts) == 1, replies  # one answer went back, not one per delivery


def test_kill_9_of_one_gateway_one_rasa_and_one_action_server_loses_nothing(
    stack: ScaleStack, known: dict[str, str]
) -> None:
    """Last: the stack stays damaged. Customers go through nginx, which takes a dead replica out."""
    faults = [(5.0, lambda: stack.kill("gateway", 0)), (15.0, lambda: stack.kill("rasa", 0)),
              (25.0, lambda: stack.kill("actions", 0))]
    result = run_load(stack.url, [stack.url], [stack.url], known, customers=50, messages=10, wait_answer=150.0,
                      during=faults)
    report("kill_9", result.summary())
    assert all(p.poll() is not None for p in (stack.gateways[0], stack.services[0].rasa, stack.services[0].actions))
    assert_nothing_lost(result)


def test_the_stack_ran_from_the_deployment_files(stack: ScaleStack) -> None:
    """The routes nginx served are deploy/'s: the SSE route unbuffered, the widget's files from disk."""
    conf = (Path(stack.work) / "nginx" / "nginx.conf").read_text()
    assert "deploy/nginx/auskunft-locations.conf" in conf
    response = requests.get(f"{stack.url}/widget/chat.js", timeout=10)
    assert response.status_code == 200 and "Content-Security-Policy" not in response.headers  # nginx, not Flask
