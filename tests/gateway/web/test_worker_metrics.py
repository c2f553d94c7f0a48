"""/metrics of a gateway running several gunicorn workers (`AUSKUNFT_GATEWAY_WORKERS`): the counts of every worker
add up, those of a worker that died and was replaced included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil
import requests
from prometheus_client.parser import text_string_to_metric_families

from rasa_runtime.paths import ROOT
from tests.support.replicas import fresh_redis
from tests.support.supervised import environment, eventually, http, stack_ports, stop

UNREACHABLE_RASA = "http://127.0.0.1:9"


def workers(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    return psutil.Process(process.pid).children()


def answering(base: str) -> bool:
    try:
        return requests.get(f"{base}/", timeout=10).status_code == 200
    except requests.RequestException:  # not yet up, or a worker going away meanwhile
        return False


def customers_write(base: str, count: int) -> None:
    """`count` new conversations, one message each (Rasa is away: each is stored, told and queued)."""
    for number in range(count):
        status, body = http(f"{base}/api/widget/conversations", {})
        assert status == 201
        status, _ = http(f"{base}/api/widget/conversations/{body['token']}/messages", {"text": f"Frage {number}"})
        assert status == 201


def customer_messages(base: str) -> float:
    text = requests.get(f"{base}/metrics", timeout=30).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "auskunft_messages_total" and sample.labels == {"channel": "web", "sender": "contact"}:
                return sample.value
    return 0.0


def test_metrics_add_up_across_workers_and_a_replaced_worker(tmp_path: Path) -> None:
    port = stack_ports()["gateway"]
    env = {
        **environment(tmp_path, {"gateway": port, "rasa": 9, "actions": 9}),
        "AUSKUNFT_GATEWAY_WORKERS": "2",
        "AUSKUNFT_GATEWAY_THREADS": "8",
        "AUSKUNFT_REDIS_URL": fresh_redis(),
        "AUSKUNFT_METRICS_DIR": str(tmp_path / "metrics"),
        "AUSKUNFT_RASA_URL": UNREACHABLE_RASA,
    }
    (tmp_path / "log").mkdir()
    # the deploy step first: a gateway refuses a schema behind its code
    subprocess.run([sys.executable, "-m", "flask", "--app", "bot", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=300)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with (tmp_path / "gateway.out").open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "gateway", "--port", str(port)], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        eventually(lambda: len(workers(process)) == 2, limit=120, what="two gateway workers")
        eventually(lambda: answering(base), limit=120, what="the gateway answers")
        customers_write(base, 6)
        for worker in workers(process):  # each replaced by a fresh one; what it counted must stay counted
            worker.terminate()
            worker.wait(30)
            eventually(lambda: len(workers(process)) == 2 and answering(base), limit=120,
                       what="a new worker in its place")  # fmt: skip
        customers_write(base, 4)
        assert customer_messages(base) == 10
    finally:
        stop(process)
