"""Scale benchmark: messages/s and latency with one vs two Rasa processes and one vs two gateway workers,
at 20 and 50 concurrent widget customers, all in the same run.

    .venv/bin/python benchmarks/scale_benchmark.py [--levels 20,50] [--messages 5] [--json OUT]
    (make scale-benchmark)

Starts the deployment of deploy/ once (tests/support/scale_stack.py: PostgreSQL tracker store, Redis lock store,
two Rasa + two action servers behind nginx, the gateway on PostgreSQL) and one gateway process, restarted for
each configuration: "1 Rasa" points it at the first Rasa directly, "2 Rasa" at nginx's Rasa upstream;
`AUSKUNFT_GATEWAY_WORKERS` 1 or 2. Each customer asks its questions one after the other (the send's response
carries the answer); latency is the send's, from the customer's side. The load average (1 min) is noted before
and after each measurement: other work on the machine shows in it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.scale_load import answers_of, run_load  # noqa: E402
from tests.support.scale_stack import running  # noqa: E402

CONFIGURATIONS = [(1, 1), (2, 1), (1, 2), (2, 2)]
"""(Rasa processes, gateway workers)."""


def measure(levels: list[int], messages: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="auskunft-scale-bench-"))
    results: list[dict[str, Any]] = []
    with running(work, gateway_count=1) as stack:
        known = answers_of(requests.Session(), stack.url)
        for rasa, workers in CONFIGURATIONS:
            stack.gateway_workers = workers
            stack.gateway_overrides = (
                {"AUSKUNFT_RASA_URL": f"http://127.0.0.1:{stack.ports.rasa[0]}"} if rasa == 1 else {}
            )
            stack.restart_gateway(0)
            gateway = stack.gateway_url(0)
            run_load(gateway, [gateway], [gateway], known, customers=5, messages=2, settle=0.5)  # warm the pools
            for customers in levels:
                load_before = os.getloadavg()[0]
                result = run_load(gateway, [gateway], [gateway], known, customers=customers, messages=messages,
                                  settle=0.5)
                figures = result.summary()
                row = {
                    "rasa_processes": rasa,
                    "gateway_workers": workers,
                    "customers": customers,
                    "messages": result.questions,
                    "messages_per_s": figures["messages_per_s"],
                    "latency_median_ms": figures["latency_median_ms"],
                    "latency_p95_ms": figures["latency_p95_ms"],
                    "answered": figures["answered"],
                    "not_answered": result.questions - figures["answered"],
                    "load_1min_before": round(load_before, 2),
                    "load_1min_after": round(os.getloadavg()[0], 2),
                }
                print(json.dumps(row), flush=True)
                results.append(row)
    return {"measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
            "start_seconds": {k: round(v, 1) for k, v in stack.started_in.items()}, "results": results}


def table(report: dict[str, Any]) -> str:
    lines = ["| Rasa | gateway workers | customers | messages/s | median ms | p95 ms | not answered | load (1 min) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in report["results"]:
        lines.append(
            f"| {r['rasa_processes']} | {r['gateway_workers']} | {r['customers']} | {r['messages_per_s']} | "
            f"{r['latency_median_ms']:.0f} | {r['latency_p95_ms']:.0f} | {r['not_answered']} | "
            f"{r['load_1min_before']} → {r['load_1min_after']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="20,50", help="concurrent customers, comma-separated")
    parser.add_argument("--messages", type=int, default=5, help="questions per customer")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    report = measure([int(n) for n in args.levels.split(",")], args.messages)
    print(table(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
