"""`python -m bot run` as operators run it: real processes, killed and signalled.

One stack (Rasa, action server, gunicorn gateway) serves the tests after the first two, which need none; they run
in file order and the last one stops it. Waits are "eventually" with generous limits, never timing assertions.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from rasa_runtime.children import port_in_use
from rasa_runtime.paths import ROOT
from tests.support.net import free_port
from tests.support.rest_chat import Chat, custom

pytestmark = pytest.mark.rasa
LIMIT = 240.0


def eventually(check: Callable[[], Any], limit: float = LIMIT, what: str = "") -> Any:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    raise AssertionError(f"not within {limit:.0f} s: {what}")


def http(url: str, body: Any = None, timeout: float = 60) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.load(response)
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

    def child(self, marker: str) -> psutil.Process | None:
        """The supervisor's child whose command line contains `marker` (`actions.server`, `rasa`, `gateway`)."""
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
        "SECRET_KEY": "test",
    }


def start(work: Path) -> tuple[subprocess.Popen[bytes], dict[str, int]]:
    ports = {"gateway": free_port(), "rasa": free_port(), "actions": free_port()}
    (work / "log").mkdir(parents=True, exist_ok=True)
    with (work / "run.out").open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=environment(work, ports), stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, ports


def gone(processes: list[psutil.Process]) -> bool:
    return not [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_a_taken_port_stops_the_start_naming_it(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        ports = {"gateway": free_port(), "rasa": taken, "actions": free_port()}
        result = subprocess.run(
            [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=environment(tmp_path, ports), capture_output=True,
            text=True, timeout=120,
        )
    assert result.returncode == 1
    assert f"port {taken} (Rasa) already in use" in result.stderr


def test_children_die_with_a_killed_supervisor(tmp_path: Path) -> None:
    process, ports = start(tmp_path)
    stack = Stack(process, ports, tmp_path)
    try:
        children = eventually(lambda: stack.child("actions.server") and stack.child("rasa") and stack.descendants(),
                              what="Rasa and the action server started")
        process.kill()
        process.wait()
        eventually(lambda: gone(children), limit=60, what="children gone after SIGKILL of the supervisor")
        eventually(lambda: not port_in_use(ports["actions"]) and not port_in_use(ports["rasa"]), limit=60,
                   what="ports free")
    finally:
        for child in psutil.Process().children(recursive=True):  # only if the test failed
            child.kill()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("supervised")
    process, ports = start(work)
    running = Stack(process, ports, work)
    try:
        eventually(lambda: process.poll() is None and answers(running), what="the service answers")
        yield running
    finally:
        if process.poll() is None:
            process.kill()
        for child in psutil.Process().children(recursive=True):
            child.kill()


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


def faq_answer_over_rasa(stack: Stack) -> bool:
    """Rasa answers and its action server decides (the knowledge base's decision comes with the reply)."""
    try:
        return custom(Chat(f"http://127.0.0.1:{stack.ports['rasa']}").say("Was kostet der Versand?"),
                      "decision")["action"] == "answer"
    except (OSError, AssertionError):
        return False


def test_a_killed_action_server_is_started_again(stack: Stack) -> None:
    old = stack.child("actions.server")
    assert old is not None
    old.kill()
    eventually(lambda: (new := stack.child("actions.server")) is not None and new.pid != old.pid,
               what="a new action server")
    eventually(lambda: faq_answer_over_rasa(stack), what="answers from the knowledge base again")
    assert stack.process.poll() is None


def test_a_killed_rasa_is_started_again(stack: Stack) -> None:
    old = stack.child(".venv-rasa")
    assert old is not None
    old.kill()
    eventually(lambda: (new := stack.child(".venv-rasa")) is not None and new.pid != old.pid, what="a new Rasa")
    eventually(lambda: answers(stack), what="customers answered again")
    assert stack.process.poll() is None


def test_sigterm_lets_a_request_in_flight_finish_then_stops_everything(stack: Stack) -> None:
    rasa = stack.child(".venv-rasa")
    assert rasa is not None
    _, conversation = http(f"{stack.gateway}/api/widget/conversations", {})
    base = f"{stack.gateway}/api/widget/conversations/{conversation['token']}"
    reply: dict[str, Any] = {}
    rasa.suspend()  # the customer's message waits for Rasa: in flight for as long as we like
    try:
        def send() -> None:
            reply["status"], reply["body"] = http(f"{base}/messages", {"text": "Was kostet der Versand?"}, timeout=120)

        sender = threading.Thread(target=send)
        sender.start()
        eventually(lambda: any(m.get("sender") == "contact" for m in http(base)[1]["messages"]), limit=60,
                   what="the message stored, its reply pending")
        children = stack.descendants()
        stack.process.send_signal(signal.SIGTERM)
    finally:
        rasa.resume()
    sender.join(120)
    assert reply.get("status") == 201, reply
    assert any(m.get("sender") == "bot" for m in reply["body"]["messages"]), reply
    assert stack.process.wait(120) == 0
    eventually(lambda: gone(children), limit=60, what="every child gone")
    assert not any(port_in_use(port) for port in stack.ports.values())
