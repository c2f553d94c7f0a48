"""Recovery of a running `python -m bot run`: seconds until a customer is answered from the FAQ again through the
widget API, after `kill -9` of one of its children or after Rasa's model was unloaded and loaded again.
Results: docs/supervision.md, docs/faults.md.

    .venv/bin/python benchmarks/recovery.py <pid of bot run> actions.server|.venv-rasa|"bot gateway" <gateway port>
    .venv/bin/python benchmarks/recovery.py <pid of bot run> model <gateway port> <rasa port>

`model`: `DELETE /model` on Rasa's API, a customer asks (and is told Rasa is away), `PUT /model` with the model
file; then the seconds from the reload until that customer's owed message is answered and until a new question is.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rasa_runtime.paths import MODEL

QUESTION, ANSWER = "Was kostet der Versand?", "4,95"


def request(url: str, body: object = None, method: str = "POST") -> dict:
    data = None if body is None else json.dumps(body).encode()
    sent = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method=method)
    with urllib.request.urlopen(sent, timeout=120) as response:
        raw = response.read()
        return json.loads(raw) if raw else {}


def ask(port: str) -> tuple[str, list[dict]]:
    """A new conversation's token and the replies to the FAQ question."""
    token = request(f"http://127.0.0.1:{port}/api/widget/conversations", {})["token"]
    url = f"http://127.0.0.1:{port}/api/widget/conversations/{token}/messages"
    return token, request(url, {"text": QUESTION})["messages"]


def has_answer(messages: list[dict]) -> bool:
    return any(m["sender"] == "bot" and ANSWER in m["text"] for m in messages)


def answered(port: str) -> bool:
    try:
        return has_answer(ask(port)[1])
    except OSError:
        return False


def until(check: Callable[[], bool], started: float) -> float:
    while not check():
        time.sleep(0.5)
    return time.monotonic() - started


def kill(supervisor: int, marker: str, port: str) -> None:
    child = next(c for c in psutil.Process(supervisor).children() if marker in " ".join(c.cmdline()))
    assert answered(port), "the service does not answer before the kill"
    started = time.monotonic()
    if os.getpgid(child.pid) == child.pid:  # its own process group (the gateway: gunicorn's master and worker)
        os.killpg(child.pid, signal.SIGKILL)  # all of it, or the orphaned worker would serve on for a moment
    else:
        child.kill()
    seconds = until(lambda: answered(port), started)
    print(f"{marker}: kill -9 -> customer answered from the FAQ again after {seconds:.1f} s")


def model(port: str, rasa_port: str) -> None:
    assert answered(port), "the service does not answer before the unload"
    rasa = f"http://127.0.0.1:{rasa_port}/model"
    request(rasa, method="DELETE")
    token, told = ask(port)
    assert not has_answer(told) and any(m["sender"] == "bot" for m in told), "no notice while the model is away"
    started = time.monotonic()
    request(rasa, {"model_file": str(MODEL)}, method="PUT")
    loaded = time.monotonic() - started
    conversation = f"http://127.0.0.1:{port}/api/widget/conversations/{token}"
    owed = until(lambda: has_answer(request(conversation, method="GET")["messages"]), started)
    new = until(lambda: answered(port), started)
    print(f"model: PUT /model took {loaded:.1f} s; the owed message answered {owed:.1f} s and a new question "
          f"{new:.1f} s after the reload began")


def main() -> None:
    supervisor, what, port = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    if what == "model":
        model(port, sys.argv[4])
    else:
        kill(supervisor, what, port)


if __name__ == "__main__":
    main()
