"""`python -m bot run` as operators run it: real processes, killed and signalled.

One stack (Rasa, action server, gunicorn gateway) serves the tests after the first two, which need none; they run
in file order and the last one stops it. Waits are "eventually" with generous limits, never timing assertions.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from common.child_processes import port_in_use
from rasa_runtime.paths import ROOT
from tests.support.net import free_port
from tests.support.rest_chat import Chat, custom
from tests.support.supervised import Stack, answers, environment, eventually, gone, http, running_stack, start, stop

pytestmark = pytest.mark.rasa


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
    children: list[psutil.Process] = []
    try:
        children = eventually(lambda: stack.child("actions.server") and stack.child("rasa") and stack.descendants(),
                              what="Rasa and the action server started")
        process.kill()
        process.wait()
        eventually(lambda: gone(children), limit=60, what="children gone after SIGKILL of the supervisor")
        eventually(lambda: not port_in_use(ports["actions"]) and not port_in_use(ports["rasa"]), limit=60,
                   what="ports free")
    finally:  # only if the test failed: this stack's processes, never the session's shared Rasa
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        stop(process)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("supervised")) as running:
        yield running


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
