"""Gateway benchmark: concurrent widget customers through gateway + Rasa + actions, next to bare Rasa REST,
and an agent's reply reaching the customer's open SSE stream.

    .venv/bin/python benchmarks/gateway_benchmark.py [--customers 20] [--messages 20] [--replies 30] [--json OUT]

Starts its own Rasa + action server on free ports (trackers in var/bench-gateway/) and the gateway in
this process (Werkzeug's threaded server, as `python -m bot run` serves it; SQLite in a temp folder).
The load shape is the same for both paths: N customer threads, each sending M in-scope shop questions
one after the other (customer i starts at question i of the list). Bare Rasa is measured before and
after the gateway run, so drift on a busy machine shows instead of hiding in one number.
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import create_app  # noqa: E402
from bot.conversation import states  # noqa: E402
from bot.db import get_session  # noqa: E402
from bot.integrations.rasa_client import RasaClient  # noqa: E402
from bot.web import auth  # noqa: E402
from rasa_runtime.paths import VAR  # noqa: E402
from rasa_runtime.processes import Services, Settings  # noqa: E402
from tests.support.databases import migrate  # noqa: E402

QUERIES = ROOT / "benchmarks" / "data" / "shop-queries-dev.jsonl"
PASSWORD = "geheim-genug-123"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def questions() -> list[str]:
    """In-scope shop questions (an FAQ is the right answer), one per FAQ, so a customer's run varies."""
    by_faq: dict[str, str] = {}
    for line in QUERIES.read_text().splitlines():
        row = json.loads(line) if line.strip() else {}
        if row.get("faq_id"):
            by_faq.setdefault(row["faq_id"], row["query"])
    return list(by_faq.values())


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def run_load(customers: int, messages: int, asks: list[str], one_customer: Callable[..., Any]) -> dict[str, Any]:
    """`customers` threads at once, each `one_customer(index, texts, latencies, errors)`; wall time included."""
    latencies: list[float] = []
    errors: list[str] = []
    results: list[Any] = [None] * customers
    barrier = threading.Barrier(customers)

    def worker(index: int) -> None:
        texts = [asks[(index + k) % len(asks)] for k in range(messages)]
        barrier.wait()  # all start together: the load is concurrent from the first message
        try:
            results[index] = one_customer(index, texts, latencies, errors)
        except Exception as error:
            errors.append(f"customer {index}: {error!r}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(customers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {
        "latency": percentiles(latencies) if latencies else {},
        "errors": errors,
        "results": results,
        "wall_s": round(wall, 1),
        "throughput_msg_s": round(len(latencies) / wall, 1),
    }


def bare_rasa(rasa_url: str, customers: int, messages: int, asks: list[str]) -> dict[str, Any]:
    """The same load straight to Rasa's REST webhook (with our actions): what the gateway adds is the rest."""

    def customer(index: int, texts: list[str], latencies: list[float], errors: list[str]) -> None:
        http = requests.Session()
        sender = f"bench-rasa-{uuid.uuid4().hex}"
        for text in texts:
            started = time.perf_counter()
            response = http.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text})
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200 or not response.json():
                errors.append(f"rasa {response.status_code}: {response.text[:100]}")

    return run_load(customers, messages, asks, customer)


def gateway_load(base: str, customers: int, messages: int, asks: list[str]) -> dict[str, Any]:
    """Widget customers through the gateway; afterwards each stored transcript is compared with what was sent."""

    handoffs: list[str] = []

    def customer(index: int, texts: list[str], latencies: list[float], errors: list[str]) -> dict[str, Any]:
        http = requests.Session()
        start = http.post(f"{base}/api/widget/conversations")
        token = start.json()["token"]
        states: list[str] = []  # after each message: the bot may hand off (then later ones wait for an agent)
        for k, text in enumerate(texts):
            started = time.perf_counter()
            response = http.post(
                f"{base}/api/widget/conversations/{token}/messages", json={"text": text, "client_id": f"c{index}-{k}"}
            )
            latencies.append(time.perf_counter() - started)
            if response.status_code != 201:
                errors.append(f"gateway {response.status_code}: {response.text[:100]}")
                continue
            body = response.json()
            if body["state"] != "bot" and "bot" in states[-1:]:
                handoffs.append(f"customer {index} after {text!r}")
            states.append(body["state"])
            if not any(m["sender"] == "bot" for m in body["messages"]) and body["state"] == "bot":
                errors.append(f"customer {index} message {k}: no bot reply")
        stored = http.get(f"{base}/api/widget/conversations/{token}").json()["messages"]
        ids = [m["id"] for m in stored]
        return {
            "sent": texts,
            "stored": [m["text"] for m in stored if m["sender"] == "contact"],
            "ids_increasing": ids == sorted(ids),
            "handed_off": any(s != "bot" for s in states),
        }

    run = run_load(customers, messages, asks, customer)
    done = [r for r in run.pop("results") if r]
    run["lost_or_reordered"] = sum(r["sent"] != r["stored"] for r in done) + (customers - len(done))
    run["ids_out_of_order"] = sum(not r["ids_increasing"] for r in done)
    run["handed_off"] = sum(r["handed_off"] for r in done)
    run["handoffs"] = handoffs
    return run


class Sse:
    """The customer's open event stream, read in a thread; records when each message id arrived."""

    def __init__(self, url: str) -> None:
        self.arrived: dict[str, float] = {}
        self.response = requests.get(url, stream=True, timeout=(3, 60))
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        event = None
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "message":
                    message = json.loads(line[6:])
                    if message["sender"] == "agent":
                        self.arrived.setdefault(message["text"], time.perf_counter())
        except (requests.RequestException, AttributeError):  # closed by close(): the measurement is over
            return

    def close(self) -> None:
        self.response.close()


def agent_delivery(base: str, app: Any, replies: int, name: str) -> dict[str, Any]:
    """An agent (logged in over HTTP with CSRF) takes a handed-off conversation and sends `replies` replies;
    latency = from before the agent's POST until the customer's SSE stream has the message."""
    email = f"{name.lower()}@example.com"
    with app.app_context():
        auth.create_agent(email, name, PASSWORD)
    agent = requests.Session()
    page = agent.get(f"{base}/agent/login").text
    csrf = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    login = agent.post(
        f"{base}/agent/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf},
        allow_redirects=False,
    )
    assert login.status_code == 302, login.text
    customer = requests.Session()
    token = customer.post(f"{base}/api/widget/conversations").json()["token"]
    handed = customer.post(
        f"{base}/api/widget/conversations/{token}/messages", json={"text": "Ich möchte mit einem Menschen sprechen"}
    ).json()
    if handed["state"] != "waiting_for_agent":
        return {"error": f"no handoff: state {handed['state']}"}
    with app.app_context():
        conversation_id = states.by_token(get_session(), token).id
    headers = {"X-CSRFToken": csrf}
    assert agent.post(f"{base}/agent/conversations/{conversation_id}/take", json={}, headers=headers).ok
    stream = Sse(f"{base}/api/widget/conversations/{token}/events")
    time.sleep(0.5)  # the stream is open and has sent the history
    sent: dict[str, float] = {}
    errors: list[str] = []
    for k in range(replies):
        text = f"Antwort {k} vom Kundenservice"
        sent[text] = time.perf_counter()
        response = agent.post(
            f"{base}/agent/conversations/{conversation_id}/reply", json={"text": text}, headers=headers
        )
        if response.status_code != 201:
            errors.append(f"reply {response.status_code}")
        time.sleep(0.2)  # an agent types; also lets each delivery be measured on its own
    deadline = time.perf_counter() + 5
    while len(stream.arrived) < replies and time.perf_counter() < deadline:
        time.sleep(0.05)
    stream.close()
    delays = [stream.arrived[t] - s for t, s in sent.items() if t in stream.arrived]
    return {"latency": percentiles(delays) if delays else {}, "missing": replies - len(delays), "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--replies", type=int, default=30)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    asks = questions()
    bench = VAR / "bench-gateway"
    bench.mkdir(parents=True, exist_ok=True)
    (bench / "trackers.db").unlink(missing_ok=True)
    settings = Settings(
        rasa_port=free_port(), actions_port=free_port(), tracker_db=bench / "trackers.db", log_dir=bench
    )
    results: dict[str, Any] = {"customers": args.customers, "messages_each": args.messages}
    with Services(settings) as services, tempfile.TemporaryDirectory() as tmp:
        services.wait_until_ready()
        migrate(url := f"sqlite:///{Path(tmp) / 'gateway.db'}")
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "RATELIMIT_ENABLED": False,  # every simulated customer comes from 127.0.0.1
                "DATABASE_URL": url,
                "RASA_CLIENT": RasaClient(services.settings.rasa_url, timeout=120),
                "BUSINESS_HOURS": "mo-so 00:00-24:00",
                "SSE_KEEPALIVE_SECONDS": 15.0,
            }
        )
        server = make_server("127.0.0.1", 0, app, threaded=True)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per request
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        bare_rasa(services.settings.rasa_url, 2, 5, asks)  # warm-up: the first answers load lazily
        print("bare Rasa …", flush=True)
        results["rasa_before"] = bare_rasa(services.settings.rasa_url, args.customers, args.messages, asks)
        print(json.dumps(results["rasa_before"]["latency"]), flush=True)
        print("gateway …", flush=True)
        results["gateway"] = gateway_load(base, args.customers, args.messages, asks)
        print(json.dumps(results["gateway"]["latency"]), flush=True)
        print("bare Rasa again …", flush=True)
        results["rasa_after"] = bare_rasa(services.settings.rasa_url, args.customers, args.messages, asks)
        print(json.dumps(results["rasa_after"]["latency"]), flush=True)
        print("agent reply → widget over SSE …", flush=True)
        results["agent_to_widget"] = agent_delivery(base, app, args.replies, "Anna")
        print(json.dumps(results["agent_to_widget"]["latency"]), flush=True)
        print("the same while the customers' load runs again …", flush=True)
        load: dict[str, Any] = {}
        background = threading.Thread(
            target=lambda: load.update(gateway_load(base, args.customers, args.messages, asks)), daemon=True
        )
        background.start()
        time.sleep(2)  # the load is running
        results["agent_to_widget_under_load"] = agent_delivery(base, app, args.replies, "Ben")
        background.join()
        results["agent_to_widget_under_load"]["load_errors"] = len(load.get("errors", ["load did not finish"]))
        results["agent_to_widget_under_load"]["load_lost_or_reordered"] = load.get("lost_or_reordered")
        print(json.dumps(results["agent_to_widget_under_load"]["latency"]), flush=True)
        server.shutdown()
    for run in ("rasa_before", "rasa_after"):
        results[run].pop("results", None)
    for run in ("rasa_before", "gateway", "rasa_after"):
        errors = results[run].pop("errors")
        results[run] |= {"error_count": len(errors), "errors_first": errors[:10]}
    bare = statistics.mean([results[r]["latency"]["median_ms"] for r in ("rasa_before", "rasa_after")])
    results["gateway_overhead_median_pct"] = round((results["gateway"]["latency"]["median_ms"] / bare - 1) * 100, 1)
    text = json.dumps(results, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
