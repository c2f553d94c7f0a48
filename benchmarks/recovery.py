"""Recovery after `kill -9` of one child of a running `python -m bot run`: seconds until a customer is answered
from the FAQ again through the widget API. Results: docs/supervision.md.

    .venv/bin/python benchmarks/recovery.py <pid of bot run> actions.server|.venv-rasa <gateway port>
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request

import psutil


def post(url: str, body: object) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def answered(port: str) -> bool:
    try:
        token = post(f"http://127.0.0.1:{port}/api/widget/conversations", {})["token"]
        url = f"http://127.0.0.1:{port}/api/widget/conversations/{token}/messages"
        messages = post(url, {"text": "Was kostet der Versand?"})["messages"]
    except OSError:
        return False
    return any(m["sender"] == "bot" and "4,95" in m["text"] for m in messages)


def main() -> None:
    supervisor, marker, port = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    child = next(c for c in psutil.Process(supervisor).children() if marker in " ".join(c.cmdline()))
    assert answered(port), "the service does not answer before the kill"
    started = time.monotonic()
    child.kill()
    while not answered(port):
        time.sleep(0.5)
    print(f"{marker}: kill -9 -> customer answered from the FAQ again after {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
