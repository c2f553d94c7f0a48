"""Bot benchmark: intent macro-F1 on a held-out set, REST latency with and without our actions, start-up.

    .venv/bin/python benchmarks/bot_benchmark.py [--train] [--cross-validation] [--json OUT] [--ports 5205,5255]

Starts its own Rasa + action server (ports 5205/5255 unless `--ports`, trackers in var/bench-bot/). The parcel row:
held-out "where is MY parcel" questions against general shipping questions (benchmarks/parcel_nlu_test.yml), how
many reach the order look-up or the knowledge base as they should. `--train` also
times a forced `rasa train` without Rasa's component cache; `--cross-validation` runs
`rasa test nlu` with 3 folds (minutes).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from sklearn.metrics import classification_report, f1_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.shared_secret import rasa_token  # noqa: E402
from rasa_runtime import training  # noqa: E402
from rasa_runtime.paths import CONFIG, DATA, RASA, VAR, rasa_env  # noqa: E402
from rasa_runtime.processes import Services, Settings, http_json  # noqa: E402

TEST_SET = ROOT / "benchmarks" / "bot_nlu_test.yml"
PARCEL_SET = ROOT / "benchmarks" / "parcel_nlu_test.yml"
ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")
MESSAGES = 100


def examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs from a Rasa NLU YAML file, entity annotations removed."""
    pairs = []
    for block in (YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
        if "intent" not in block:
            continue
        for line in block["examples"].splitlines():
            if line.strip().startswith("- "):
                pairs.append((ANNOTATION.sub(r"\1", line.strip()[2:]).strip(), block["intent"]))
    return pairs


def check_held_out(test: list[tuple[str, str]]) -> None:
    seen = {text.lower() for path in DATA.rglob("*.yml") for text, _ in examples(path)}
    leaked = [text for text, _ in test if text.lower() in seen]
    if leaked:
        raise SystemExit(f"test utterances found in the training data: {leaked}")


def intent_scores(rasa_url: str, test: list[tuple[str, str]]) -> dict[str, Any]:
    """Top intent from the classifier (nlu_fallback skipped), and where the bot routes the message."""
    truth, predicted, routed_ok = [], [], 0
    for text, intent in test:
        parse = http_json(f"{rasa_url}/model/parse?token={rasa_token()}", {"text": text})
        ranking = [r["name"] for r in parse.get("intent_ranking", []) if r["name"] != "nlu_fallback"]
        truth.append(intent)
        predicted.append(ranking[0] if ranking else "nlu_fallback")
        top = parse["intent"]["name"]
        routed_ok += top == intent or (top == "nlu_fallback" and intent == "ask_question")
    errors = [(t, p, x) for (x, t), p in zip(test, predicted, strict=True) if t != p]
    return {
        "utterances": len(test),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro", zero_division=0)), 4),
        "accuracy": round(sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(test), 4),
        "routing_accuracy": round(routed_ok / len(test), 4),
        "report": classification_report(truth, predicted, zero_division=0, output_dict=True),
        "errors": [{"expected": t, "predicted": p, "text": x} for t, p, x in errors],
    }


def parcel_routing(rasa_url: str, test: list[tuple[str, str]]) -> dict[str, Any]:
    """Own parcel (order_status) vs. general shipping (ask_question, or nlu_fallback: the knowledge base too)."""
    groups = {"order_status": "own_parcel", "ask_question": "general"}
    result: dict[str, Any] = {name: {"total": 0, "routed": 0} for name in groups.values()}
    errors = []
    for text, intent in test:
        top = http_json(f"{rasa_url}/model/parse?token={rasa_token()}", {"text": text})["intent"]["name"]
        ok = top == intent or (top == "nlu_fallback" and intent == "ask_question")
        result[groups[intent]]["total"] += 1
        result[groups[intent]]["routed"] += ok
        if not ok:
            errors.append({"expected": intent, "predicted": top, "text": text})
    result["errors"] = errors
    return result


def post(url: str, sender: str, message: str) -> tuple[float, list[dict[str, Any]]]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        replies = json.load(response)
    return (time.perf_counter() - started) * 1000, replies


def latency(rasa_url: str, messages: list[str]) -> dict[str, float]:
    """Sequential REST round trips; a new conversation every 10 messages and after a handoff."""
    url = f"{rasa_url}/webhooks/rest/webhook"
    sender, timings = uuid.uuid4().hex, []
    for i, message in enumerate(messages):
        if i % 10 == 0:
            sender = uuid.uuid4().hex
        ms, replies = post(url, sender, message)
        timings.append(ms)
        if any("custom" in r for r in replies):
            sender = uuid.uuid4().hex
    timings.sort()
    return {
        "messages": len(timings),
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(0.95 * len(timings)) - 1], 1),
        "max_ms": round(timings[-1], 1),
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 0)
    return 0.0


def cross_validation(folds: int = 3) -> dict[str, Any]:
    out = VAR / "rasa-cv"
    started = time.perf_counter()
    subprocess.run(
        [str(RASA), "test", "nlu", "--nlu", str(DATA / "nlu"), "--config", str(CONFIG), "--cross-validation",
         "--folds", str(folds), "--out", str(out)],
        cwd=ROOT, env=rasa_env(), check=True,
    )
    report = json.loads((out / "intent_report.json").read_text())
    return {
        "folds": folds,
        "macro_f1": round(report["macro avg"]["f1-score"], 4),
        "accuracy": round(report["accuracy"], 4),
        "seconds": round(time.perf_counter() - started, 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", action="store_true", help="time a forced `rasa train`")
    parser.add_argument("--cross-validation", action="store_true", help="`rasa test nlu` with 3 folds")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--ports", default="5205,5255", help="Rasa and action server ports (RASA,ACTIONS)")
    args = parser.parse_args()
    rasa_port, actions_port = (int(port) for port in args.ports.split(","))

    test = examples(TEST_SET)
    check_held_out(test)
    parcel = examples(PARCEL_SET)
    check_held_out(parcel)
    results: dict[str, Any] = {}
    if args.train:
        results["rasa_train_seconds"] = round(training.ensure_trained(force=True, use_cache=False) or 0.0, 1)
    else:
        training.ensure_trained()

    bench = VAR / "bench-bot"
    settings = Settings(rasa_port=rasa_port, actions_port=actions_port, tracker_db=bench / "trackers.db", log_dir=bench)
    with Services(settings) as services:
        services.wait_until_ready()
        results["ready_seconds"] = {k: round(v, 1) for k, v in services.ready_after.items()}
        results["intents"] = intent_scores(settings.rasa_url, test)
        results["parcel_routing"] = parcel_routing(settings.rasa_url, parcel)
        questions = [text for text, intent in test if intent == "ask_question"][:-1]  # the weather goes to a human
        post(f"{settings.rasa_url}/webhooks/rest/webhook", "bench-warm", "Hallo")
        small_talk = ["Hallo", "Danke", "Tschüss", "bist du ein Bot?"]  # responses only, no action server
        results["latency_bare_rasa"] = latency(settings.rasa_url, small_talk * 25)
        results["latency_with_actions"] = latency(settings.rasa_url, (questions * 3)[:MESSAGES])
        results["rss_mb"] = {
            "rasa": rss_mb(services.rasa.pid) if services.rasa else 0.0,
            "actions": rss_mb(services.actions.pid) if services.actions else 0.0,
        }
    if args.cross_validation:
        results["cross_validation"] = cross_validation()

    summary = {k: v for k, v in results.items() if k != "intents"}
    summary["intents"] = {k: v for k, v in results["intents"].items() if k != "report"}
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
