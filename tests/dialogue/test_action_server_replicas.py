"""Two real action servers (`python -m actions.server`) on one FAQ folder and one Redis, as two machines would run
them: an FAQ edit saved once, and announced to one of them the way the gateway does (`POST /kb/reload`), is
answered with the new text by both — the other learns it from the broadcast alone. Their file watchers are off,
as on a network volume that reports no changes. The time from the save until both answer is printed (README).

Ports: `AUSKUNFT_TEST_REPLICA_PORTS=a,b`, else two free ones.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from common.child_processes import kill_group
from knowledge_base.authoring.faq_alternatives import write_atomically
from knowledge_base.reload_token import authorization_header
from knowledge_base.settings import PROJECT_ROOT
from tests.support.net import free_port
from tests.support.redis_db import test_redis_url

pytestmark = pytest.mark.slow

OLD_TEXT = "kostet **4,95 €**"
NEW_TEXT = "kostet **3,95 €**"
START_TIMEOUT = 240.0
ACTIONS_TOKEN = uuid.uuid4().hex
RELOAD_TOKEN = uuid.uuid4().hex


@dataclass
class Replica:
    url: str
    process: subprocess.Popen[bytes]

    def answer(self, faq_id: str) -> str:
        """The text the action server answers for entry `faq_id` (the "Meinten Sie" button's action)."""
        body = {
            "next_action": "action_choose_faq",
            "sender_id": f"replica-{uuid.uuid4().hex[:8]}",
            "tracker": {"sender_id": "replica", "slots": {"faq_id": faq_id}, "latest_message": {}, "events": [],
                        "active_loop": {}},
            "domain": {},
            "version": "3.6.21",
        }
        response = requests.post(f"{self.url}/webhook", params={"token": ACTIONS_TOKEN}, json=body, timeout=60)
        response.raise_for_status()
        return " ".join(r.get("text") or "" for r in response.json()["responses"])


def ports() -> list[int]:
    configured = os.environ.get("AUSKUNFT_TEST_REPLICA_PORTS")
    return [int(p) for p in configured.split(",")] if configured else [free_port(), free_port()]


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[Replica]]]:
    work = tmp_path_factory.mktemp("replicas")
    faq_dir = shutil.copytree(PROJECT_ROOT / "knowledge_base" / "faqs", work / "faqs")
    env = {
        **os.environ,
        "AUSKUNFT_FAQ_DIR": str(faq_dir),
        "AUSKUNFT_REDIS_URL": test_redis_url(),
        "AUSKUNFT_KB_WATCH": "false",
        "AUSKUNFT_USE_TRAINED_MODEL": "false",
        "AUSKUNFT_ACTIONS_TOKEN": ACTIONS_TOKEN,
        "AUSKUNFT_RELOAD_TOKEN": RELOAD_TOKEN,
        "AUSKUNFT_ORDER_API_URL": "",
    }
    started: list[Replica] = []
    try:
        for number, port in enumerate(ports()):
            replica_env = {  # each machine its own index and databases; only the FAQ folder and Redis are shared
                **env,
                "AUSKUNFT_INDEX_DIR": str(work / f"index-{number}"),
                "AUSKUNFT_FEEDBACK_DB": str(work / f"feedback-{number}.db"),
                "AUSKUNFT_ORDERS_DB": str(work / f"orders-{number}.db"),
            }
            log = (work / f"actions-{number}.log").open("wb")
            process = subprocess.Popen([sys.executable, "-m", "actions.server", "-p", str(port)], cwd=PROJECT_ROOT,
                                       env=replica_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            started.append(Replica(f"http://127.0.0.1:{port}", process))
        for replica in started:
            wait_until_answering(replica, work)
        yield faq_dir, started
    finally:
        for replica in started:
            kill_group(replica.process)
            replica.process.wait(timeout=30)


def wait_until_answering(replica: Replica, work: Path) -> None:
    """Until the action server answers from its loaded knowledge base (the first answer loads it)."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert replica.process.poll() is None, f"an action server exited; see the logs in {work}"
        try:
            if replica.answer("versand-kosten"):
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, f"not answering after {START_TIMEOUT:.0f} s; see the logs in {work}"
        time.sleep(0.5)


def test_an_edit_saved_once_is_answered_by_both_action_servers(replicas: tuple[Path, list[Replica]]) -> None:
    faq_dir, (told, other) = replicas
    assert all(OLD_TEXT in replica.answer("versand-kosten") for replica in (told, other))
    faq_file = faq_dir / "versand.yml"
    saved = time.monotonic()
    write_atomically(faq_file, faq_file.read_text(encoding="utf-8").replace(OLD_TEXT, NEW_TEXT))
    response = requests.post(f"{told.url}/kb/reload", headers=authorization_header(RELOAD_TOKEN), timeout=120)
    assert response.status_code == 200 and response.json()["changed"] == ["versand-kosten"]
    waiting = {"told": told, "other": other}
    answered_after: dict[str, float] = {}
    while waiting:
        for name, replica in list(waiting.items()):
            if NEW_TEXT in replica.answer("versand-kosten"):
                answered_after[name] = time.monotonic() - saved
                del waiting[name]
        assert time.monotonic() - saved < 60, f"still the old answer after a minute: {sorted(waiting)}"
        time.sleep(0.1)
    print(f"\nsaved → new answer: {', '.join(f'{k} {v:.2f} s' for k, v in answered_after.items())}")
