"""The demo shop once the service has confirmed customers' questions: what learning from them brings.

    .venv/bin/python benchmarks/confirmed_questions.py [--models var/variant-models] [--json OUT]

The shop's dev paraphrases (in scope) stand in for the questions agents answered with an FAQ entry
(knowledge_base/learned_pairs.py): they are written to the service's learned-pairs file, which `train` reads for
the served FAQ folder. Asked: the shop's test paraphrases and the 30 off-topic questions, by the fine-tuned engine
with and without those pairs, and by the base model (which never reads them), in the same run. The int8 export is
skipped (questions go through the full model).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from retrieval import SHOP_QUERIES  # noqa: E402
from training_variants import SHOP_SETS, trained_engine  # noqa: E402

from knowledge_base import learned_pairs, training  # noqa: E402
from knowledge_base.authoring.faq_files import load_faqs  # noqa: E402
from knowledge_base.engine import KnowledgeBase  # noqa: E402
from knowledge_base.schema import FaqEntry  # noqa: E402
from knowledge_base.settings import Settings  # noqa: E402
from knowledge_base.tools.evaluation import OUT_OF_SCOPE, evaluate, read_queries  # noqa: E402

ASKED = ("test", "off-topic")
SHOWN = ("top1", "recall_at_3", "answered_correct", "clarified_correct", "answered_wrong", "handoff",
         "oos_not_answered")


def confirmed_pairs() -> list[learned_pairs.Pair]:
    dev = read_queries(SHOP_QUERIES / SHOP_SETS["dev"])
    return [(query.query, query.faq_id) for query in dev if query.faq_id != OUT_OF_SCOPE]


def asked(kb: KnowledgeBase) -> dict:
    return {split: evaluate(read_queries(SHOP_QUERIES / SHOP_SETS[split]), kb.rank_and_decide).as_dict()
            for split in ASKED}


def base_model(entries: list[FaqEntry], source: str) -> dict:
    kb = KnowledgeBase(Settings(use_trained_model=False), persist=False)
    kb.load_entries(entries, source)
    return asked(kb)


def fine_tuned(settings: Settings, entries: list[FaqEntry], source: str, models: Path) -> dict:
    kb, seconds, _ = trained_engine(entries, source, models, settings)
    return {**asked(kb), "train_seconds": round(seconds, 1)}  # 0 when the model was cached


def main() -> None:
    training.query_model.export_quietly = lambda exports_dir, model_dir: None
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, help="keep the trained models here (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    args = parser.parse_args()
    faq_dir = ROOT / "knowledge_base" / "faqs"
    source = str(faq_dir.resolve())
    entries = [located.entry for located in load_faqs(faq_dir).entries]
    results: dict = {}
    with tempfile.TemporaryDirectory() as scratch:
        models = args.models or Path(scratch)
        none = Settings(faq_dir=faq_dir, learned_pairs_file=Path(scratch) / "none.jsonl")
        pairs_file = Path(scratch) / "confirmed.jsonl"
        learned_pairs.write(pairs_file, confirmed_pairs())
        confirmed = Settings(faq_dir=faq_dir, learned_pairs_file=pairs_file)
        results["base model"] = base_model(entries, source)
        results["fine-tuned, no confirmed questions"] = fine_tuned(none, entries, source, models / "baseline")
        results["fine-tuned, dev paraphrases confirmed"] = fine_tuned(confirmed, entries, source, models / "confirmed")
    for name, result in results.items():
        for split in ASKED:
            shown = {key: result[split][key] for key in SHOWN}
            print(f"{name:40} {split:9} {shown}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
