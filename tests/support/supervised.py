"""`python -m bot run` as a subprocess for the tests that kill and signal its processes (test_supervision.py,
test_faults.py): its own ports, its own temporary `var` (database, trackers, logs), helpers to find its children.

Ports: three free ones the OS picks, or `AUSKUNFT_TEST_STACK_PORTS=gateway,rasa,actions` (e.g. `6120,6121,6122`)
where only some ports may be used; a second stack in the same session then takes the next three.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from rasa_runtime.paths import ROOT
from tests.support.net import free_port

LIMIT = 240.0
_stacks = itertools.count()


def eventually(check: Callable[[], Any], limit: float = LIMIT, what: str = "") -> Any:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    raise AssertionError(f"not within {limit:.0f} s: {what}")


def http(url: str, body: Any = None, timeout: float = 60, method: str | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, None


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    ports: dict[str, int]
    work: Path

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    @property
    def rasa(self) -> str:
        return f"http://127.0.0.1:{self.ports['rasa']}"

    @property
    def database(self) -> Path:
        return self.work / "gateway.db"

    def child(self, marker: str) -> psutil.Process | None:
        """The supervisor's child whose command line contains `marker` (`actions.server`, `.venv-rasa`,
        `bot gateway`)."""
        for child in psutil.Process(self.process.pid).children():
            try:
                if marker in " ".join(child.cmdline()):
                    return child
            except psutil.NoSuchProcess:
                continue
        return None

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)


def environment(work: Path, ports: dict[str, int]) -> dict[str, str]:
    return {
        **os.environ,
        "AUSKUNFT_GATEWAY_PORT": str(ports["gateway"]),
        "AUSKUNFT_RASA_PORT": str(ports["rasa"]),
        "AUSKUNFT_ACTIONS_PORT": str(ports["actions"]),
        "AUSKUNFT_DATABASE_URL": f"sqlite:///{work / 'gateway.db'}",
        "AUSKUNFT_LOG_DIR": str(work / "log"),
        "AUSKUNFT_TRACKER_DB": str(work / "trackers.db"),
        "AUSKUNFT_FEEDBACK_DB": str(work / "feedback.db"),
        "AUSKUNFT_ORDERS_DB": str(work / "orders.db"),
        "AUSKUNFT_ORDER_API_URL": "",
        "AUSKUNFT_USE_TRAINED_MODEL": "false",  # no fine-tuning in the background, stable answers
        "AUSKUNFT_KB_WATCH": "false",
        "AUSKUNFT_DEMO_AGENT_PASSWORD": "demo-passwort",
        "AUSKUNFT_RELOAD_TOKEN": "test-token",
        "AUSKUNFT_RATELIMIT_ENABLED": "false",  # many customers at once, all from 127.0.0.1
        "SECRET_KEY": "test",
    }


def stack_ports() -> dict[str, int]:
    """Three ports for one stack: AUSKUNFT_TEST_STACK_PORTS (shifted by 3 per stack started), else free ones."""
    if given := os.environ.get("AUSKUNFT_TEST_STACK_PORTS"):
        shift = 3 * next(_stacks)
        gateway, rasa, actions = (int(port) + shift for port in given.split(","))
        return {"gateway": gateway, "rasa": rasa, "actions": actions}
    return {"gateway": free_port(), "rasa": free_port(), "actions": free_port()}


def start(work: Path, extra: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], dict[str, int]]:
    """`python -m bot run` in the background, output to `work/run.out`; `extra` adds to its environment."""
    ports = stack_ports()
    (work / "log").mkdir(parents=True, exist_ok=True)
    with (work / "run.out").open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=ROOT, env={**environment(work, ports), **(extra or {})},
            stdout=out, stderr=subprocess.STDOUT,
        )
    return process, ports


def gone(processes: list[psutil.Process]) -> bool:
    return not [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def answers(stack: Stack) -> bool:
    """A customer question answered from the knowledge base through gateway, Rasa and the action server."""
    try:
        status, body = http(f"{stack.gateway}/api/widget/conversations", {})
        if status != 201:
            return False
        status, body = http(f"{stack.gateway}/api/widget/conversations/{body['token']}/messages",
                            {"text": "Was kostet der Versand?"})
        return status == 201 and any(m.get("sender") == "bot" and "Versand" in (m.get("text") or "") for m in
                                     body["messages"])
    except OSError:
        return False


def stop(process: subprocess.Popen[bytes]) -> None:
    """Kill the stack: the supervisor and everything below it — only that. (Killing every child of the test
    process also took down the session's shared Rasa, and every later test that needed it failed.)"""
    try:
        tree = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        tree = []
    if process.poll() is None:
        process.kill()
    for child in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    process.wait()


@contextmanager
def running_stack(work: Path) -> Iterator[Stack]:
    """A supervised stack in `work`, answering questions; killed with whatever it left afterwards."""
    process, ports = start(work)
    stack = Stack(process, ports, work)
    try:
        eventually(lambda: process.poll() is None and answers(stack), what="the service answers")
        yield stack
    finally:
        stop(process)


FAQ_QUESTIONS = [
    "Was kostet der Versand?",
    "Wie lange dauert die Lieferung?",
    "Ist die Rücksendung kostenlos?",
    "Wie löse ich einen Gutscheincode ein?",
    "Welche Zahlungsarten kann ich nutzen?",
    "Kann ich auf Rechnung bezahlen?",
    "Liefern Sie auch ins Ausland?",
    "Wie erstelle ich ein Kundenkonto?",
    "Kann ich eine Geschenkkarte kaufen?",
    "Wie lange habe ich Zeit, etwas zurückzuschicken?",
]
"""Questions the demo FAQ answers, for load on the real stack (tests and benchmarks/concurrency_benchmark.py)."""
