"""Two gateway apps on one SQLite database and one Redis database, as two processes would be (issue 14):

1. a bot reply stored through gateway B reaches the SSE stream open on gateway A — time from the customer's
   message sent (to B) to the reply's event on A's stream, beside the same path through A alone;
2. pairs of messages sent at the same moment to A and B for one conversation: how many are stored Q A Q A with
   the right answers.

    AUSKUNFT_TEST_REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python benchmarks/replicas.py [--samples 40]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.app import make_app  # noqa: E402
from tests.support.browser import serve  # noqa: E402
from tests.support.gateway import Customer, ScriptedRasa  # noqa: E402
from tests.support.replicas import REDIS_URL, EventStream  # noqa: E402


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def wake_ups(a, sender, samples: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Milliseconds from sending through `sender`'s app to the reply's event on A's stream."""
    customer = Customer(sender.test_client())
    times = []
    with serve(a) as url:
        stream = EventStream(f"{url}/api/widget/conversations/{customer.token}/events")
        stream.wait_for("state", lambda data: True, timeout=10)
        for number in range(samples):
            started = time.perf_counter()
            threading.Thread(target=customer.say, args=(f"Frage {number}",)).start()
            stream.wait_for("message", lambda data, n=number: data["text"] == f"Echo: Frage {n}", timeout=30)
            times.append((time.perf_counter() - started) * 1000)
        stream.close()
    return times


def pairs(a, b, count: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(pairs stored Q A Q A with the right answers, pairs sent)."""
    token = Customer(a.test_client()).token
    path = f"/api/widget/conversations/{token}/messages"
    for turn in range(count):
        senders = [
            threading.Thread(target=app.test_client().post, args=(path,), kwargs={"json": {"text": f"{turn}{n}"}})
            for n, app in (("A", a), ("B", b))
        ]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
    messages = a.test_client().get(f"/api/widget/conversations/{token}").json["messages"]
    talk = [(m["sender"], m["text"]) for m in messages if m["sender"] in ("contact", "bot")]
    good = sum(
        1 for turn in range(0, len(talk) - 3, 4)
        if all(talk[turn + i][0] == "contact" and talk[turn + i + 1] == ("bot", f"Echo: {talk[turn + i][1]}")
               for i in (0, 2))
    )  # fmt: skip
    return good, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--pairs", type=int, default=40)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    work = Path(tempfile.mkdtemp(prefix="replicas-"))
    database = f"sqlite:///{work / 'shared.db'}"
    apps = []
    for name in ("a", "b"):
        (work / name).mkdir()
        rasa = ScriptedRasa()
        rasa.delay = 0.02
        apps.append(
            make_app(work / name, rasa, DATABASE_URL=database, REDIS_URL=REDIS_URL, SSE_KEEPALIVE_SECONDS=15.0)
        )
    a, b = apps
    for label, sender in (("through A alone", a), ("stored through B", b)):
        times = wake_ups(a, sender, args.samples)
        print(f"reply on A's stream, {label}: median {statistics.median(times):.0f} ms, p95 {p95(times):.0f} ms")
    good, count = pairs(a, b, args.pairs)
    print(f"pairs sent at once to A and B: {good}/{count} stored Q A Q A with the right answers")
    for app in apps:
        app.extensions["hub"].stop()


if __name__ == "__main__":
    main()
