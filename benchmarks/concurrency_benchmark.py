"""Many widget customers sending two messages at once: does every message get stored and answered, without errors?

    .venv/bin/python benchmarks/concurrency_benchmark.py [--customers 50] [--rasa-delay 0.2] [--json OUT]
    .venv/bin/python benchmarks/concurrency_benchmark.py --gateway http://127.0.0.1:PORT --database GATEWAY.db [...]

Scripted (the first form): the gateway runs in this process on Werkzeug's threaded server, SQLite in a temp folder,
the default pool (`AUSKUNFT_DB_POOL_SIZE`); Rasa is scripted in-process: it echoes after `--rasa-delay` seconds, so
the figures are the gateway's own (locks, pool, SQLite), not Rasa's.
Real (`--gateway`): a running `python -m bot run` (gunicorn, Rasa, action server), customers asking FAQ questions;
its database (`--database`, SQLite) says what became of each message (`messages.outcome`) 60 s after the sending.
Each customer opens a conversation, then all customers send both their messages at the same moment.
Reports sent / HTTP errors / stored / answered (a customer message with its bot reply), latency p50/p95/max.
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import create_app  # noqa: E402
from bot.db import session_factory  # noqa: E402
from bot.integrations.rasa_client import RasaClient  # noqa: E402
from bot.models import Message  # noqa: E402
from tests.support.databases import migrate  # noqa: E402
from tests.support.supervised import FAQ_QUESTIONS as QUESTIONS  # noqa: E402


class SlowEcho(RasaClient):
    """Rasa answering "Echo: …" after `delay` seconds."""

    def __init__(self, delay: float) -> None:
        super().__init__("http://scripted.invalid")
        self.delay = delay

    def send(self, sender: str, message: str, message_id: int | None = None) -> list[dict[str, Any]]:
        time.sleep(self.delay)
        return [{"text": f"Echo: {message}"}]


def run(customers: int, delay: float) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="auskunft-concurrency-"))
    migrate(f"sqlite:///{folder / 'gateway.db'}")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,  # every simulated customer comes from 127.0.0.1
            "DATABASE_URL": f"sqlite:///{folder / 'gateway.db'}",
            "RASA_CLIENT": SlowEcho(delay),
            "FEEDBACK_DB": folder / "feedback.db",
            "ACTIONS_URL": "",
            "KB_WATCH": False,
        }
    )
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/api/widget/conversations"
    tokens = [requests.post(url, timeout=30).json()["token"] for _ in range(customers)]
    sends = [(token, f"Frage {n} von Kunde {i}") for i, token in enumerate(tokens) for n in (1, 2)]
    results, wall = load(url, sends)
    time.sleep(1.0)  # anything still answering in the background
    with app.app_context(), session_factory()() as session:
        stored = session.query(Message).order_by(Message.id).all()
        texts = [m.text for m in stored]
    questions = [text for _token, text in sends]
    server.shutdown()
    return {
        "customers": customers,
        "rasa_delay_s": delay,
        **requests_summary(results),
        "stored": sum(1 for q in questions if q in texts),
        "answered": sum(1 for q in questions if f"Echo: {q}" in texts),
        "answered_twice": sum(1 for q in questions if texts.count(f"Echo: {q}") > 1),
        **latency_summary(results, wall),
    }


def load(url: str, sends: list[tuple[str, str]]) -> tuple[list[tuple[int, float]], float]:
    """Send every (token, text) at the same moment (a barrier); per message the HTTP status (0: no response) and
    seconds, and the wall time of the whole."""
    start = threading.Barrier(len(sends))

    def send(item: tuple[str, str]) -> tuple[int, float]:
        token, text = item
        start.wait()
        began = time.perf_counter()
        try:
            status = requests.post(f"{url}/{token}/messages", json={"text": text}, timeout=120).status_code
        except requests.RequestException:
            status = 0
        return status, time.perf_counter() - began

    began = time.perf_counter()
    with ThreadPoolExecutor(len(sends)) as pool:
        results = list(pool.map(send, sends))
    return results, time.perf_counter() - began


def requests_summary(results: list[tuple[int, float]]) -> dict[str, int]:
    return {
        "sent": len(results),
        "http_201": sum(1 for status, _s in results if status == 201),
        "errors": sum(1 for status, _s in results if status != 201),
    }


def latency_summary(results: list[tuple[int, float]], wall: float) -> dict[str, float]:
    latencies = sorted(seconds for _status, seconds in results)
    return {
        "p50_s": round(statistics.median(latencies), 2),
        "p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
        "max_s": round(latencies[-1], 2),
        "wall_s": round(wall, 2),
    }




def run_real(gateway: str, database: Path, customers: int, settle: float = 60.0) -> dict[str, Any]:
    """The load against a running stack; outcomes read from its database `settle` seconds after the sending."""
    url = f"{gateway.rstrip('/')}/api/widget/conversations"
    tokens = [requests.post(url, json={}, timeout=30).json()["token"] for _ in range(customers)]
    sends = [(token, QUESTIONS[(i + n) % len(QUESTIONS)]) for i, token in enumerate(tokens) for n in (0, 1)]
    began = time.monotonic()
    results, wall = load(url, sends)
    time.sleep(max(0.0, began + settle - time.monotonic()))
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
        rows = db.execute(
            "SELECT m.conversation_id, m.sender, m.text, m.outcome FROM messages m JOIN conversations c "
            f"ON c.id = m.conversation_id WHERE c.token IN ({','.join('?' * len(tokens))}) ORDER BY m.id",
            tokens,
        ).fetchall()
    questions: list[tuple[str | None, list[str]]] = []  # each customer message: its outcome, the bot's texts after
    conversation = None
    for conversation_id, sender, text, outcome in rows:
        if sender == "contact":
            questions.append((outcome, []))
            conversation = conversation_id
        elif sender == "bot" and questions and conversation == conversation_id:
            questions[-1][1].append(text)
    outcomes = [outcome for outcome, _texts in questions]
    return {
        "customers": customers,
        "rasa": "real (python -m bot run)",
        **requests_summary(results),
        "stored": len(questions),
        "answered": outcomes.count("answered"),
        "queued_for_agent": outcomes.count("queued"),
        "notified_still_owed": outcomes.count("notified"),
        "without_outcome": sum(1 for outcome in outcomes if outcome in (None, "pending")),
        "answered_twice": sum(1 for _outcome, texts in questions if len(texts) != len(set(texts))),
        "outcomes_read_after_s": settle,
        **latency_summary(results, wall),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--rasa-delay", type=float, default=0.2)
    parser.add_argument("--gateway", help="a running stack's gateway URL instead of the scripted in-process one")
    parser.add_argument("--database", type=Path, help="with --gateway: its SQLite database file")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.gateway:
        if args.database is None:
            parser.error("--gateway needs --database")
        result = run_real(args.gateway, args.database, args.customers)
    else:
        result = run(args.customers, args.rasa_delay)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
