"""Fast questions against the full model, in one run: quality on both data sets and `ask` latency.

    .venv/bin/python benchmarks/query_speed.py [--train] [--sets shop covid] [--json OUT]

Each knowledge base's index is built once (phrasings and answers by the full model, as served); the same
index then answers with questions embedded by the full PyTorch model ("full") and by the int8 ONNX export
("fast", the default when exported: `python -m knowledge_base.query_model models/e5-small-st`). Latency is
`ServedState.ask` on one thread over the shop-test questions, the two alternating question by question so
both see the same machine load; "fast, repeated" asks them all again (the question cache). Each is given as
wall time and as the thread's CPU time (`time.thread_time`), which on a loaded machine is the better estimate
of a quiet one's wall time, with the load average before and after.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.retrieval import SHOP_QUERIES, covid_folds  # noqa: E402
from knowledge_base import training  # noqa: E402
from knowledge_base.authoring.faq_files import content_hash, load_faqs  # noqa: E402
from knowledge_base.embedding import QUESTION_CACHE_SIZE, TextKind, _QuestionCache  # noqa: E402
from knowledge_base.engine import KnowledgeBase, ServedState  # noqa: E402
from knowledge_base.schema import FaqEntry  # noqa: E402
from knowledge_base.settings import Settings  # noqa: E402
from knowledge_base.tools.evaluation import LabelledQuery, evaluate, read_queries  # noqa: E402

METRICS = ("top1", "recall_at_3", "answered_correct", "clarified_correct", "answered_wrong", "oos_not_answered")


class FullQueries:
    """The served embedder without its fast path: every question through the full PyTorch model."""

    def __init__(self, embedder) -> None:
        self.inner = embedder
        self.model_id = embedder.model_id

    def encode(self, texts: list[str], kind: TextKind, show_progress: bool = False) -> np.ndarray:
        return self.inner.encode(texts, kind, show_progress)


def served_pair(entries: list[FaqEntry], source: str, trained: bool) -> tuple[ServedState, ServedState]:
    """(fast, full) on one index."""
    settings = Settings(use_trained_model=trained)
    if trained:
        training.train(settings, entries, content_hash(entries), source, show_progress=False)
    kb = KnowledgeBase(settings, persist=False)
    kb.load_entries(entries, source)
    fast = kb.snapshot()
    if getattr(fast.embedder, "query_model", None) is None:
        sys.exit(f"no fast query model for {getattr(fast.embedder, 'model_name_or_path', '?')}: export it first")
    return fast, dataclasses.replace(fast, embedder=FullQueries(fast.embedder))


def compare(queries: list[LabelledQuery], pair: tuple[ServedState, ServedState]) -> dict[str, dict]:
    return {name: evaluate(queries, state.rank_and_decide).as_dict() for name, state in zip(("fast", "full"), pair,
                                                                                            strict=True)}


def pooled(reports: list[dict]) -> dict:
    total = sum(r["n_queries"] for r in reports)
    return {key: round(sum(r[key] * r["n_queries"] for r in reports) / total, 4)
            for key in METRICS if key != "oos_not_answered"} | {"n_queries": total}


def latency(pair: tuple[ServedState, ServedState], questions: list[str]) -> dict[str, float]:
    fast, full = pair
    fast.embedder._questions = _QuestionCache(QUESTION_CACHE_SIZE)  # cold: every question embedded
    fast.ask(questions[0] + " warm")
    full.ask(questions[0] + " warm")
    load_before = os.getloadavg()[0]
    timings: dict[str, list[float]] = {}

    def timed(name: str, state: ServedState, question: str) -> None:
        started, cpu = time.perf_counter(), time.thread_time()
        state.ask(question)
        timings.setdefault(f"{name} cpu", []).append((time.thread_time() - cpu) * 1000)
        timings.setdefault(name, []).append((time.perf_counter() - started) * 1000)

    for question in questions:
        for name, state in (("fast", fast), ("full", full)):
            timed(name, state, question)
    for question in questions:
        timed("fast, repeated", fast, question)
    return {f"{name} {stat}": round(value, 2) for name, values in timings.items()
            for stat, value in (("median_ms", statistics.median(values)),
                                ("p95_ms", float(np.percentile(values, 95))))} | {
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)]}


def run(trained: bool, sets: list[str]) -> dict:
    label = "trained" if trained else "base"
    faq_dir = ROOT / "knowledge_base" / "faqs"
    entries = [located.entry for located in load_faqs(faq_dir).entries]
    shop = served_pair(entries, str(faq_dir.resolve()), trained)
    results: dict = {}
    for split in ("dev", "test") if "shop" in sets else ():
        results[f"shop-{split}"] = compare(read_queries(SHOP_QUERIES / f"shop-queries-{split}.jsonl"), shop)
        print(f"{label} shop-{split} {results[f'shop-{split}']}", file=sys.stderr, flush=True)
    results["speed"] = latency(shop, [q.query for q in read_queries(SHOP_QUERIES / "shop-queries-test.jsonl")])
    print(f"{label} speed {results['speed']}", file=sys.stderr, flush=True)
    if "covid" not in sets:
        return results
    folds = {"fast": [], "full": []}
    for number, (fold_entries, queries) in enumerate(covid_folds()):
        for name, report in compare(queries, served_pair(fold_entries, f"covidqa-de-cv-fold{number}",
                                                         trained)).items():
            folds[name].append(report)
    results["covid-cv"] = {name: pooled(reports) for name, reports in folds.items()}
    print(f"{label} covid-cv {results['covid-cv']}", file=sys.stderr, flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="also with the fine-tuned models (slow)")
    parser.add_argument("--sets", nargs="+", choices=("shop", "covid"), default=["shop", "covid"],
                        help="quality on these data sets (latency is always measured on the shop)")
    parser.add_argument("--json", type=Path, help="write all results to this file")
    args = parser.parse_args()
    results = {"base": run(trained=False, sets=args.sets)}
    if args.train:
        results["trained"] = run(trained=True, sets=args.sets)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
