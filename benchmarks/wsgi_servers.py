"""Werkzeug's server vs gunicorn (gthread, gevent) for the gateway: SSE streams held open + message latency.

The gateway runs as its own process in front of a stub Rasa (a fixed 50 ms answer, so the figures are the
server's, not Rasa's); N widget customers each keep their SSE stream open while they send messages. Per server:
streams that opened, messages answered, latency p50/p95/max, errors. Results: docs/supervision.md.

    .venv/bin/python benchmarks/wsgi_servers.py --streams 60 --customers 20 --messages 10
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.net import free_port  # noqa: E402

SERVERS = {
    "werkzeug": "from werkzeug.serving import run_simple; from bot import create_app; "
                "run_simple('127.0.0.1', {port}, create_app(), threaded=True)",
    "gunicorn-gthread": None,  # python -m bot gateway, as make run starts it
    "gunicorn-gevent": None,
}


class StubRasa(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(0.05)
        data = json.dumps([{"recipient_id": body.get("sender"), "text": f"Echo: {body.get('message')}"}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def post(url: str, body: object) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def start_gateway(kind: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    if kind == "werkzeug":
        command = [sys.executable, "-c", SERVERS[kind].format(port=port)]
    elif kind == "gunicorn-gthread":
        command = [sys.executable, "-m", "bot", "gateway", "--port", str(port)]
    else:
        command = [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", "1", "--worker-connections", "1000",
                   "-b", f"127.0.0.1:{port}", "bot:create_app()"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def open_stream(base: str, token: str, opened: list[int], stop: threading.Event) -> None:
    try:
        with urllib.request.urlopen(f"{base}/api/widget/conversations/{token}/events", timeout=120) as response:
            response.readline()
            opened.append(1)
            while not stop.is_set() and response.readline():
                pass
    except OSError:
        pass


def measure(kind: str, streams: int, customers: int, messages: int, rasa_port: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"wsgi-{kind}-"))
    port = free_port()
    env = {**os.environ, "AUSKUNFT_DATABASE_URL": f"sqlite:///{work / 'gw.db'}", "AUSKUNFT_LOG_DIR": str(work),
           "AUSKUNFT_RASA_URL": f"http://127.0.0.1:{rasa_port}", "AUSKUNFT_ACTIONS_URL": "http://127.0.0.1:9",
           "AUSKUNFT_KB_WATCH": "false", "SECRET_KEY": "bench", "AUSKUNFT_GATEWAY_THREADS": str(streams + 40),
           "AUSKUNFT_RATELIMIT_ENABLED": "false"}  # every simulated customer comes from 127.0.0.1
    subprocess.run([sys.executable, "-m", "flask", "--app", "bot", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)  # the deploy step: a gateway refuses an unmigrated database
    gateway = start_gateway(kind, port, env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/", timeout=2).close()
                break
            except OSError:
                time.sleep(0.5)
        tokens = [post(f"{base}/api/widget/conversations", {})["token"] for _ in range(streams)]
        opened: list[int] = []
        stop = threading.Event()
        for token in tokens:
            threading.Thread(target=open_stream, args=(base, token, opened, stop), daemon=True).start()
        deadline = time.monotonic() + 30
        while len(opened) < streams and time.monotonic() < deadline:
            time.sleep(0.1)
        latencies: list[float] = []
        errors = 0

        def customer(token: str) -> None:
            nonlocal errors
            for number in range(messages):
                started = time.perf_counter()
                try:
                    post(f"{base}/api/widget/conversations/{token}/messages", {"text": f"Frage {number}"})
                    latencies.append(time.perf_counter() - started)
                except OSError:
                    errors += 1

        with ThreadPoolExecutor(customers) as pool:
            list(pool.map(customer, tokens[:customers]))
        stop.set()
        q = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else [0.0] * 19
        return {"server": kind, "streams_open": len(opened), "streams": streams, "answered": len(latencies),
                "errors": errors, "p50_ms": round(statistics.median(latencies) * 1000, 1),
                "p95_ms": round(q[18] * 1000, 1), "max_ms": round(max(latencies) * 1000, 1)}
    finally:
        os.killpg(gateway.pid, signal.SIGKILL)  # master and worker; open SSE streams would hold a graceful stop
        gateway.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=60)
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rasa = ThreadingHTTPServer(("127.0.0.1", free_port()), StubRasa)
    threading.Thread(target=rasa.serve_forever, daemon=True).start()
    results = []
    for kind in args.servers.split(","):
        results.append(measure(kind, args.streams, args.customers, args.messages, rasa.server_address[1]))
        print(json.dumps(results[-1]), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
