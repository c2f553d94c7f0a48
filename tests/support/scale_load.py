"""Widget customers against several gateway replicas: what became of each question, and how long a reply stored
by one replica took to reach an SSE stream open on another (tests/scale, benchmarks/scale_benchmark.py).

Each customer keeps one Server-Sent-Events stream open (reconnecting with `?after=` as the widget does) and asks
its questions one after another, each to the next address in turn; a failed send is repeated with the same
`client_id`, as the widget does, so the gateway may drop the repetition. A question whose answer is not in the
send's response is waited for on the stream. Afterwards the stored conversation is read once and every question
is classed by the answers between it and the next question: answered (its own answer once), late (its answer
only after the customer's next question: owed through an outage), duplicated (its own answer more than once),
swapped (another question's answer), lost (no known answer), other (a reply that is no FAQ answer, e.g. an
outage notice whose answer never came).
"""

from __future__ import annotations

import itertools
import json
import statistics
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from tests.support.supervised import FAQ_QUESTIONS

FEEDBACK_PROMPT = "Hat Ihnen das geholfen?"


def answers_of(session: requests.Session, base: str, questions: list[str] = FAQ_QUESTIONS) -> dict[str, str]:
    """Each question's answer text, asked in a fresh conversation (the reference the run is compared with)."""
    known = {}
    for question in questions:
        token = session.post(f"{base}/api/widget/conversations", json={}, timeout=30).json()["token"]
        reply = session.post(f"{base}/api/widget/conversations/{token}/messages", json={"text": question},
                             timeout=120).json()
        bot = [m["text"] for m in reply["messages"] if m["sender"] == "bot" and m["text"] != FEEDBACK_PROMPT]
        known[question] = bot[0] if bot else ""
    return known


@dataclass
class Stream:
    """One customer's SSE stream: bot messages by id with their arrival time (wall clock, as `created_at`)."""

    base: str
    token: str
    arrived: dict[int, float] = field(default_factory=dict)
    texts: dict[int, str] = field(default_factory=dict)
    after: int = 0
    reconnects: int = 0
    stopped: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                url = f"{self.base}/api/widget/conversations/{self.token}/events?after={self.after}"
                with requests.get(url, stream=True, timeout=(5, 60)) as response:
                    event = None
                    for raw in response.iter_lines(decode_unicode=True):
                        if self.stopped.is_set():
                            return
                        if raw.startswith("event: "):
                            event = raw[7:]
                        elif raw.startswith("data: ") and event == "message":
                            message = json.loads(raw[6:])
                            self.after = max(self.after, message["id"])
                            if message["sender"] == "bot":
                                self.arrived.setdefault(message["id"], time.time())
                                self.texts[message["id"]] = message["text"] or ""
            except (requests.RequestException, ValueError, AttributeError):
                pass
            if not self.stopped.is_set():
                self.reconnects += 1
                time.sleep(1.0)  # the gateway's `retry: 2000`, a little sooner

    def stop(self) -> None:
        """The reader leaves at its next line (a keep-alive at the latest); closing the response from here would
        wait for the reader's lock just as long, one stream after the other."""
        self.stopped.set()

    def answer_after(self, message_id: int, answers: set[str], timeout: float) -> bool:
        """Whether an FAQ answer arrives after `message_id` within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(i > message_id and text in answers for i, text in list(self.texts.items())):
                return True
            time.sleep(0.1)
        return False


@dataclass
class Sent:
    question: str
    target: int
    seconds: float
    ok: bool
    bot_ids: list[int]
    created: dict[int, float]
    attempts: int
    status: str
    """The last send's HTTP status, or the exception's name."""


@dataclass
class Customer:
    number: int
    token: str = ""
    stream: Stream | None = None
    sent: list[Sent] = field(default_factory=list)


def _created(message: dict[str, Any]) -> float:
    return datetime.fromisoformat(message["created_at"]).timestamp()


def send(
    session: requests.Session, base: str, token: str, text: str, attempts: int = 6
) -> tuple[bool, Any, int, str]:
    """One question with the widget's repetition: the same client_id after a failure (the gateway drops repeats)."""
    client_id = uuid.uuid4().hex
    status = ""
    for attempt in range(1, attempts + 1):
        try:
            response = session.post(f"{base}/api/widget/conversations/{token}/messages",
                                    json={"text": text, "client_id": client_id}, timeout=120)
            status = str(response.status_code)
            if response.status_code == 201:
                return True, response.json(), attempt, status
        except requests.RequestException as error:
            status = type(error).__name__
        time.sleep(1.0)
    return False, None, attempts, status


def customer_run(customer: Customer, addresses: list[str], messages: int, answers: set[str], wait: float) -> None:
    """Question after question; one whose answer is not in the response (Rasa away: an outage notice, the
    answer owed) is waited for on the stream, as a customer reads before asking on."""
    session = requests.Session()
    stream = customer.stream
    assert stream is not None
    for i in range(messages):
        question = FAQ_QUESTIONS[(customer.number + i) % len(FAQ_QUESTIONS)]
        target = (customer.number + i) % len(addresses)
        started = time.perf_counter()
        ok, body, attempts, status = send(session, addresses[target], customer.token, question)
        seconds = time.perf_counter() - started
        bots = [m for m in (body or {}).get("messages", []) if m["sender"] == "bot"]
        customer.sent.append(Sent(question, target, seconds, ok, [m["id"] for m in bots],
                                  {m["id"]: _created(m) for m in bots}, attempts, status))
        if ok and not any(m["text"] in answers for m in bots):
            contact = [m["id"] for m in body["messages"] if m["sender"] == "contact"]
            stream.answer_after(max(contact, default=0), answers, wait)


def classify(transcript: list[dict[str, Any]], known: dict[str, str]) -> Counter[str]:
    """Per question of the customer: answered / late / duplicated / swapped / lost / other (see the module).

    late: its answer came only after the customer's next question (an answer owed through an outage, given
    once Rasa answered again); that answer does not make the next question swapped."""
    answers = {text: question for question, text in known.items() if text}
    groups: list[tuple[str, list[str]]] = []
    for message in transcript:
        if message["sender"] == "contact":
            groups.append((message["text"], []))
        elif message["sender"] == "bot" and groups:
            groups[-1][1].append(message["text"])
    outcomes: list[str] = []
    for index, (question, replies) in enumerate(groups):
        own = sum(1 for r in replies if answers.get(r) == question)
        foreign = [answers[r] for r in replies if r in answers and answers[r] != question]
        for asked in list(foreign):
            owed = [j for j in range(index) if groups[j][0] == asked and outcomes[j] in ("lost", "other")]
            if owed:
                outcomes[owed[-1]] = "late"
                foreign.remove(asked)
        if foreign:
            outcomes.append("swapped")
        elif own > 1:
            outcomes.append("duplicated")
        elif own == 1:
            outcomes.append("answered")
        elif [r for r in replies if r != FEEDBACK_PROMPT]:
            outcomes.append("other")
        else:
            outcomes.append("lost")
    return Counter(outcomes)


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class LoadResult:
    questions: int
    outcomes: Counter[str]
    send_failures: int
    repeated_sends: int
    latencies: list[float]
    cross_delays: list[float]
    same_delays: list[float]
    missing_on_stream: int
    reconnects: int
    wall: float
    failed_statuses: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict[str, Any]:
        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000, 1)

        return {
            "questions": self.questions,
            **{k: self.outcomes.get(k, 0) for k in ("answered", "late", "duplicated", "swapped", "lost", "other")},
            "send_failures": self.send_failures,
            "failed_send_status": dict(self.failed_statuses),
            "repeated_sends": self.repeated_sends,
            "messages_per_s": round(self.questions / self.wall, 2),
            "latency_median_ms": ms(statistics.median(self.latencies)) if self.latencies else None,
            "latency_p95_ms": ms(percentile(self.latencies, 0.95)),
            # stored via one address, streamed from another (two gateways addressed directly: the other replica)
            "sse_other_address_median_ms": ms(statistics.median(self.cross_delays)) if self.cross_delays else None,
            "sse_other_address_p95_ms": ms(percentile(self.cross_delays, 0.95)),
            "sse_same_address_median_ms": ms(statistics.median(self.same_delays)) if self.same_delays else None,
            "sse_same_address_p95_ms": ms(percentile(self.same_delays, 0.95)),
            "replies_missing_on_stream": self.missing_on_stream,
            "stream_reconnects": self.reconnects,
            "wall_s": round(self.wall, 1),
        }


def run_load(
    front: str,
    addresses: list[str],
    stream_addresses: list[str],
    known: dict[str, str],
    customers: int = 50,
    messages: int = 10,
    settle: float = 20.0,
    wait_answer: float = 30.0,
    during: list[tuple[float, Any]] | None = None,
) -> LoadResult:
    """`customers` at once, each asking `messages` questions, question i of customer c to `addresses[(c+i) % n]`,
    its stream on `stream_addresses[c % m]`; `during`: (seconds after the start, callable) faults to inject."""
    session = requests.Session()
    people = []
    for number in range(customers):
        token = session.post(f"{front}/api/widget/conversations", json={}, timeout=30).json()["token"]
        people.append(Customer(number, token, Stream(stream_addresses[number % len(stream_addresses)], token)))
    readers = [threading.Thread(target=p.stream.run, daemon=True) for p in people if p.stream]
    for reader in readers:
        reader.start()
    time.sleep(1.0)  # streams open before the first reply
    faults = []
    started = time.perf_counter()
    for delay, action in during or []:
        timer = threading.Timer(delay, action)
        timer.start()
        faults.append(timer)
    with ThreadPoolExecutor(max_workers=customers) as pool:
        answers = {text for text in known.values() if text}
        list(pool.map(lambda p: customer_run(p, addresses, messages, answers, wait_answer), people))
    wall = time.perf_counter() - started
    for timer in faults:
        timer.cancel()
    time.sleep(settle)  # the slowest stream (the keep-alive wakes a replica that was not told) and late answers
    for person in people:
        assert person.stream is not None
        person.stream.stop()
    outcomes: Counter[str] = Counter()
    cross, same, missing = [], [], 0
    for person in people:
        transcript = session.get(f"{front}/api/widget/conversations/{person.token}/messages?after=0",
                                 timeout=30).json()["messages"]
        outcomes += classify(transcript, known)
        stream = person.stream
        assert stream is not None
        for sent in person.sent:
            for bot_id, created in sent.created.items():
                if bot_id not in stream.arrived:
                    missing += 1
                    continue
                delay = max(0.0, stream.arrived[bot_id] - created)
                (same if addresses[sent.target] == stream.base else cross).append(delay)
    sent_all = list(itertools.chain.from_iterable(p.sent for p in people))
    return LoadResult(
        questions=customers * messages,
        outcomes=outcomes,
        send_failures=sum(1 for s in sent_all if not s.ok),
        repeated_sends=sum(s.attempts - 1 for s in sent_all),
        latencies=[s.seconds for s in sent_all if s.ok],
        cross_delays=cross,
        same_delays=same,
        missing_on_stream=missing,
        reconnects=sum(p.stream.reconnects for p in people if p.stream),
        wall=wall,
        failed_statuses=Counter(s.status for s in sent_all if not s.ok),
    )
