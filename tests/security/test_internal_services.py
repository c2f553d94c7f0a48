"""Issue 13, first row and second row: the internal services are closed by default, probed as an attacker would.

Against the session's real Rasa + action server (`rasa_services`, started by rasa_runtime exactly as
`python -m bot run` starts them): the action server listens on 127.0.0.1 only and runs no action without the
actions token; Rasa's HTTP API (transcripts, events, model) answers 401 without the Rasa token, and neither token
is readable from a command line. The bot still answers through Rasa and the action server.
"""

from __future__ import annotations

import socket
import uuid
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from bot.integrations.rasa_client import RasaClient
from common.feedback_log import FeedbackLog
from common.shared_secret import actions_token, rasa_token
from rasa_runtime.processes import Services

pytestmark = pytest.mark.rasa


def feedback_call(sender: str) -> dict[str, Any]:
    """What the security review sent: `action_feedback` on a made-up tracker under somebody's sender id."""
    return {
        "next_action": "action_feedback",
        "sender_id": sender,
        "tracker": {
            "sender_id": sender,
            "slots": {"last_faq_id": "versand-kosten", "last_question": "eingeschleust"},
            "latest_message": {"intent": {"name": "feedback_helpful"}, "text": "/feedback_helpful"},
            "events": [],
            "active_loop": {},
        },
        "domain": {},
        "version": "3.6.21",
    }


def listening(pid: int, port: int) -> set[str]:
    """The addresses process `pid` (or a child of it) listens on at `port`."""
    process = psutil.Process(pid)
    addresses = set()
    for proc in [process, *process.children(recursive=True)]:
        for connection in proc.net_connections(kind="inet"):
            if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port:
                addresses.add(connection.laddr.ip)
    return addresses


def outside_address() -> str | None:
    """An IPv4 address of this machine that is not loopback (where a neighbour on the network would knock)."""
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and not address.address.startswith("127."):
                return address.address
    return None


def test_both_services_listen_on_loopback_only(rasa_services: Services) -> None:
    settings = rasa_services.settings
    assert rasa_services.actions is not None and rasa_services.rasa is not None
    assert listening(rasa_services.actions.pid, settings.actions_port) == {"127.0.0.1"}
    assert listening(rasa_services.rasa.pid, settings.rasa_port) == {"127.0.0.1"}
    if (address := outside_address()) is not None:
        for port in (settings.actions_port, settings.rasa_port):
            with socket.socket() as probe, pytest.raises(OSError):
                probe.settimeout(3)
                probe.connect((address, port))


def test_action_webhook_refuses_calls_without_the_actions_token(rasa_services: Services, rasa_dir: Path) -> None:
    webhook = f"{rasa_services.settings.actions_url}/webhook"
    feedback = FeedbackLog(rasa_dir / "feedback.db")
    for params in ({}, {"token": "falsch"}, {"token": ""}):
        sender = f"opfer-{uuid.uuid4().hex[:8]}"
        response = requests.post(webhook, params=params, json=feedback_call(sender), timeout=60)
        assert response.status_code == 401, params
        assert "events" not in response.json() and "AUSKUNFT_ACTIONS_TOKEN" in response.json()["error"]
        assert feedback.rows([sender]) == []  # nothing executed: no row under the customer's sender id

    # the same call with the token runs the action: the refusal above is the token's doing
    sender = f"echt-{uuid.uuid4().hex[:8]}"
    response = requests.post(webhook, params={"token": actions_token()}, json=feedback_call(sender), timeout=120)
    assert response.status_code == 200 and response.json()["events"]
    assert [row["faq_id"] for row in feedback.rows([sender])] == ["versand-kosten"]


def test_the_bot_still_answers_through_rasa_and_the_action_server(rasa_services: Services) -> None:
    replies = RasaClient(rasa_services.settings.rasa_url, timeout=120).send(
        f"kunde-{uuid.uuid4().hex[:8]}", "Was kostet der Versand?"
    )
    assert any("Versand" in (reply.get("text") or "") for reply in replies)  # the knowledge base's answer


def test_rasa_http_api_needs_the_rasa_token(rasa_services: Services) -> None:
    rasa = rasa_services.settings.rasa_url
    sender = f"kunde-{uuid.uuid4().hex[:8]}"
    RasaClient(rasa, timeout=120).send(sender, "Was kostet der Versand?")
    tracker = f"{rasa}/conversations/{sender}/tracker"
    for params in ({}, {"token": "falsch"}):
        assert requests.get(tracker, params=params, timeout=30).status_code == 401
        assert requests.delete(f"{rasa}/model", params=params, timeout=30).status_code == 401
        pause = [{"event": "pause"}]
        assert requests.post(f"{tracker}/events", params=params, json=pause, timeout=30).status_code == 401
        assert requests.get(f"{rasa}/status", params=params, timeout=30).status_code == 401
    answered = requests.get(tracker, params={"token": rasa_token()}, timeout=30)
    assert answered.status_code == 200
    assert "Was kostet der Versand?" in [e.get("text") for e in answered.json()["events"] if e["event"] == "user"]
    assert requests.get(f"{rasa}/status", params={"token": rasa_token()}, timeout=30).json()["model_id"]


def test_rasa_client_tells_the_operator_when_the_token_is_wrong(rasa_services: Services) -> None:
    from bot.integrations.rasa_client import RasaUnavailable

    with pytest.raises(RasaUnavailable, match="AUSKUNFT_RASA_TOKEN") as refused:
        RasaClient(rasa_services.settings.rasa_url, timeout=60, token="falsch").replies_to("x", 1)
    assert "falsch" not in str(refused.value)


def test_no_token_on_any_command_line(rasa_services: Services) -> None:
    """`ps` shows every process's arguments to every local user: the tokens travel by environment."""
    assert rasa_services.actions is not None and rasa_services.rasa is not None
    secrets = (rasa_token(), actions_token())
    for pid in (rasa_services.rasa.pid, rasa_services.actions.pid):
        for proc in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
            command_line = " ".join(proc.cmdline())
            assert not any(secret in command_line for secret in secrets)
