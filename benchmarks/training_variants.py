"""Fine-tuning recipes side by side: each variant alone against the baseline, on both data sets, same run.

    .venv/bin/python benchmarks/training_variants.py [--variants baseline,hard-negatives,augment]
                                                     [--folds 5] [--json OUT]

Trains the served engine (fused ranking + decision) once per variant on the demo shop (asked: its unseen dev and
test paraphrases, and 30 off-topic questions: small talk, general knowledge, near-domain services) and once per
COVID-QA fold (benchmarks/retrieval.py's 5-fold split), each variant into its own models folder, and prints the
pooled metrics and the training seconds.
A variant switches one module setting of knowledge_base/training.py; the results are in docs/benchmarks.md.
"all-pairs" trains on every phrasing (none held out for calibration), so its hand-set thresholds decide;
the others hold out alternatives as training.held_out chooses (flat-*: a fixed share) and are calibrated on
them. The int8 export is skipped (questions go through the full model).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from retrieval import SHOP_QUERIES, covid_folds  # noqa: E402

from knowledge_base import training  # noqa: E402
from knowledge_base.authoring.faq_files import content_hash, load_faqs  # noqa: E402
from knowledge_base.engine import KnowledgeBase  # noqa: E402
from knowledge_base.schema import FaqEntry  # noqa: E402
from knowledge_base.settings import Settings  # noqa: E402
from knowledge_base.tools.evaluation import LabelledQuery, evaluate, read_queries  # noqa: E402

VARIANTS = {
    "all-pairs": {"HOLD_OUT_SHARE": 0.0},
    "baseline": {},
    "hard-negatives": {"HARD_NEGATIVES": True},
    "augment": {"AUGMENT": True},
    "flat-25": {"HOLD_OUT_SHARE": 0.25, "HOLD_OUT_AT_LEAST": 0},
    "flat-15": {"HOLD_OUT_SHARE": 0.15, "HOLD_OUT_AT_LEAST": 0},
    "share-15": {"HOLD_OUT_SHARE": 0.15},
}
DEFAULTS = {setting: getattr(training, setting)
            for setting in ("HARD_NEGATIVES", "AUGMENT", "HOLD_OUT_SHARE", "HOLD_OUT_AT_LEAST")}
SHOP_SETS = {"dev": "shop-queries-dev.jsonl", "test": "shop-queries-test.jsonl", "off-topic": "shop-off-topic.jsonl"}
KEYS = ("top1", "recall_at_3", "mrr_at_5", "answered_correct", "clarified_correct", "answered_wrong", "handoff")


def trained_engine(entries: list[FaqEntry], source: str, models: Path,
                   settings: Settings | None = None) -> tuple[KnowledgeBase, float, float]:
    """The engine serving the model `train` makes for `entries` (trained into `models` unless cached there), with
    the training's wall-clock and CPU seconds. `settings`: the rest of the settings (e.g. a learned-pairs file)."""
    settings = (settings or Settings()).model_copy(update={"models_dir": models})
    started = time.process_time()
    result = training.train(settings, entries, content_hash(entries), source, show_progress=False)
    cpu = time.process_time() - started
    kb = KnowledgeBase(settings, persist=False)
    kb.load_entries(entries, source)
    return kb, result.seconds, cpu


def trained_report(entries: list[FaqEntry], source: str, queries: list[LabelledQuery], models: Path) -> tuple:
    kb, seconds, cpu = trained_engine(entries, source, models)
    return evaluate(queries, kb.rank_and_decide), seconds, cpu


def run_variant(name: str, models: Path, folds: int) -> dict:
    for setting, value in {**DEFAULTS, **VARIANTS[name]}.items():
        setattr(training, setting, value)
    out: dict = {"train_seconds": [], "train_cpu_seconds": []}
    faq_dir = ROOT / "knowledge_base" / "faqs"
    entries = [located.entry for located in load_faqs(faq_dir).entries]
    for split, file_name in SHOP_SETS.items():
        report, seconds, cpu = trained_report(entries, str(faq_dir.resolve()), read_queries(SHOP_QUERIES / file_name),
                                              models)
        out[f"shop-{split}"] = report.as_dict()
        if split == "dev":
            out["train_seconds"].append(round(seconds, 1))
            out["train_cpu_seconds"].append(round(cpu, 1))
        print(f"{name} shop-{split} {out[f'shop-{split}']}", file=sys.stderr, flush=True)
    reports = []
    for number, (fold_entries, queries) in enumerate(covid_folds()[:folds]):
        report, seconds, cpu = trained_report(fold_entries, f"covidqa-de-cv-fold{number}", queries, models)
        reports.append(report)
        out["train_seconds"].append(round(seconds, 1))
        out["train_cpu_seconds"].append(round(cpu, 1))
        print(f"{name} covid fold {number}: top1={report.top1} r@3={report.recall_at_3} ({seconds:.0f} s)",
              file=sys.stderr, flush=True)
    total = sum(r.n_queries for r in reports)
    if not total:
        return out
    out["covid-cv"] = {key: round(sum(getattr(r, key) * r.n_queries for r in reports) / total, 4) for key in KEYS}
    out["covid-cv"]["n_queries"] = total
    print(f"{name} covid-cv {out['covid-cv']}", file=sys.stderr, flush=True)
    return out


def main() -> None:
    # the int8 export only speeds questions up (same rankings within 0.01, docs/benchmarks.md): skip its minutes
    training.query_model.export_quietly = lambda exports_dir, model_dir: None
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated, of: " + ", ".join(VARIANTS))
    parser.add_argument("--folds", type=int, default=5, help="COVID-QA folds to run (of 5)")
    parser.add_argument("--models", type=Path, help="keep the trained models here (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = args.models or Path(scratch)
        results = {name: run_variant(name, base / name, args.folds) for name in args.variants.split(",")}
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
