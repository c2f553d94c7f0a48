"""Webhook → provider latency of the Messenger and SMS channels, against the tests' local provider stand-ins.

The gateway runs over real HTTP with a scripted Rasa that answers at once, so the numbers are the gateway's own
part: verify the signature, store, ask "Rasa", store the answer, and push it through the outbox thread.

    .venv/bin/python benchmarks/channel_latency.py [--messages 200]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.channels import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    GRAPH_VERSION,
    PAGE_TOKEN,
    MessengerCustomer,
    SmsCustomer,
    channel_app,
    served,
)
from tests.support.gateway import ScriptedRasa  # noqa: E402
from tests.support.mock_providers import GraphApi, TwilioApi  # noqa: E402


def describe(name: str, samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[int(len(ms) * 0.95) - 1]
    median = statistics.median(ms)
    return f"{name:<44} n={len(ms):<4} median {median:6.1f} ms   p95 {p95:6.1f} ms   max {ms[-1]:6.1f} ms"


def messenger(messages: int, folder: Path) -> list[float]:
    graph, twilio = GraphApi(PAGE_TOKEN, GRAPH_VERSION), TwilioApi(ACCOUNT_SID, AUTH_TOKEN)
    app = channel_app(folder, ScriptedRasa(), graph, twilio)
    samples = []
    with served(app) as url:
        customer = MessengerCustomer(url)
        for i in range(messages):
            started = time.monotonic()
            customer.say(f"Frage {i}")
            sent = graph.wait_for(lambda r, i=i: any(f"Echo: Frage {i}" in x.body.decode() for x in r))
            arrived = next(x.at for x in sent if f"Echo: Frage {i}" in x.body.decode())
            samples.append(arrived - started)
    graph.close()
    twilio.close()
    return samples


def sms(messages: int, folder: Path, mode: str) -> list[float]:
    graph, twilio = GraphApi(PAGE_TOKEN, GRAPH_VERSION), TwilioApi(ACCOUNT_SID, AUTH_TOKEN)
    app = channel_app(folder, ScriptedRasa(), graph, twilio, SMS_REPLY_MODE=mode)
    samples = []
    with served(app) as url:
        phone = SmsCustomer(url)
        for i in range(messages):
            started = time.monotonic()
            replies = phone.say(f"Frage {i}")
            if mode == "twiml":
                assert replies == [f"Echo: Frage {i}"], replies
                samples.append(time.monotonic() - started)
                continue
            sent = twilio.wait_for(lambda r, i=i: any(f"Echo: Frage {i}" in x.form.get("Body", "") for x in r))
            samples.append(next(x.at for x in sent if x.form.get("Body") == f"Echo: Frage {i}") - started)
    graph.close()
    twilio.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(describe("Messenger: webhook → Send API received", messenger(args.messages, root / "m")))
        print(describe("SMS (TwiML): webhook → reply in the response", sms(args.messages, root / "t", "twiml")))
        print(describe("SMS (API): webhook → Messages API received", sms(args.messages, root / "a", "api")))


if __name__ == "__main__":
    main()
