"""How far the fitted decision's P(right) holds on real questions: the pseudo-queries the fit learns from beside the
labelled questions customers ask, bucketed by P(right), for the served fine-tuned models.

    .venv/bin/python benchmarks/calibration_reliability.py [--models var/variant-models/baseline] [--json OUT]

For the demo shop (its dev and test paraphrases and 30 off-topic questions) and each COVID-QA fold
(benchmarks/retrieval.py's split): per P(right) bucket, how many pseudo-queries / real questions fall in it and how
many of them the top entry answers rightly (out-of-scope ones never are); where the fit spends its wrong-answer
budget (in-scope mistakes or out-of-scope probes); and, for COVID-QA, how many top-1 misses name an entry whose
question nearly repeats the right one's (different sources asking the same thing: no ranking can tell them apart).
Models are trained as `train` does (cached in --models, so a `training_variants.py --models` run is reused).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from retrieval import SHOP_QUERIES, covid_folds  # noqa: E402
from training_variants import SHOP_SETS, trained_engine  # noqa: E402

from knowledge_base import calibration, training  # noqa: E402
from knowledge_base.authoring.faq_files import load_faqs  # noqa: E402
from knowledge_base.engine import KnowledgeBase  # noqa: E402
from knowledge_base.schema import FaqEntry  # noqa: E402
from knowledge_base.tools.evaluation import OUT_OF_SCOPE, LabelledQuery, read_queries  # noqa: E402

EDGES = (0.0, 0.5, 0.8, 0.9, 0.95, 1.0)
NEAR_REPEAT = 0.5
"""Word overlap (Jaccard) of two entries' questions from which one nearly repeats the other."""


def fit_view(kb: KnowledgeBase, entries: list[FaqEntry]) -> dict:
    """The served fit's pseudo-queries with their cross-validated P(right), and where the budget goes."""
    state, settings = kb.snapshot(), kb.settings
    probes = calibration.probe_questions()
    data = calibration.pseudo_queries(state.index, probes, state.embedder.encode(probes, "query"),
                                      settings.answer_weight, settings.lexical_weight,
                                      unseen=training.unseen_phrasings(Path(state.model), entries))
    p = calibration.cross_validated(data.features, data.right_at_top, data.group, data.weight)
    answered = p >= state.calibration.calibration.answer_at
    wrong = (1 - p) * data.weight * answered / data.weight.sum()
    return {"p": p, "right": data.right_at_top == 1, "in_scope": data.in_scope,
            "expected_wrong_in_scope": round(float(wrong[data.in_scope].sum()), 4),
            "expected_wrong_out_of_scope": round(float(wrong[~data.in_scope].sum()), 4)}


def asked(kb: KnowledgeBase, queries: list[LabelledQuery]) -> dict:
    rows = []
    for query in queries:
        ranking, decision = kb.rank_and_decide(query.query)
        top = ranking[0].faq_id if ranking else None
        rows.append((decision.probability or 0.0, top == query.faq_id, query.faq_id != OUT_OF_SCOPE, top))
    p, right, in_scope, top = zip(*rows, strict=True)
    return {"p": np.array(p), "right": np.array(right), "in_scope": np.array(in_scope), "top": list(top)}


def buckets(view: dict) -> list[dict]:
    """Per P(right) bucket: in-scope count and how many ranked right, out-of-scope count."""
    out = []
    for low, high in itertools.pairwise(EDGES):
        inside = (view["p"] >= low) & ((view["p"] < high) if high < 1 else True)
        scope = inside & view["in_scope"]
        outside = inside & ~view["in_scope"]
        out.append({"p": f"{low:.2f}–{high:.2f}", "in_scope": int(scope.sum()),
                    "right": int((scope & view["right"]).sum()), "out_of_scope": int(outside.sum())})
    return out


def merged(views: list[dict]) -> dict:
    return {key: np.concatenate([v[key] for v in views]) for key in ("p", "right", "in_scope")}


def near_repeats(entries: list[FaqEntry], queries: list[LabelledQuery], view: dict) -> int:
    """Top-1 misses whose top entry's question shares at least NEAR_REPEAT of its words with the right one's."""
    question = {entry.id: set(re.findall(r"\w+", entry.question.lower())) for entry in entries}
    count = 0
    for query, top, right in zip(queries, view["top"], view["right"], strict=True):
        if not right and top is not None and query.faq_id in question:
            a, b = question[query.faq_id], question[top]
            count += len(a & b) / len(a | b) >= NEAR_REPEAT
    return count


def print_table(title: str, pseudo: list[dict], real: list[dict]) -> None:
    print(f"\n{title}\n| P(right) | pseudo-queries in scope: right / n | out of scope | "
          "real questions in scope: right / n | out of scope |\n|---|---|---|---|---|")
    for f, r in zip(pseudo, real, strict=True):
        print(f"| {f['p']} | {f['right']} / {f['in_scope']} | {f['out_of_scope']} | {r['right']} / {r['in_scope']} | "
              f"{r['out_of_scope']} |")


def main() -> None:
    training.query_model.export_quietly = lambda exports_dir, model_dir: None  # questions need no int8 export here
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=ROOT / "var" / "variant-models" / "baseline")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = {}

    faq_dir = ROOT / "knowledge_base" / "faqs"
    shop = [located.entry for located in load_faqs(faq_dir).entries]
    kb, _, _ = trained_engine(shop, str(faq_dir.resolve()), args.models)
    fit = fit_view(kb, shop)
    real = merged([asked(kb, read_queries(SHOP_QUERIES / name)) for name in SHOP_SETS.values()])
    results["shop"] = {"pseudo": buckets(fit), "real": buckets(real),
                       **{k: v for k, v in fit.items() if k.startswith("expected")}}
    print_table("demo shop (dev, test and off-topic questions)", results["shop"]["pseudo"], results["shop"]["real"])

    fits, reals, repeats, misses, budget = [], [], 0, 0, []
    for number, (entries, queries) in enumerate(covid_folds()):
        kb, _, _ = trained_engine(entries, f"covidqa-de-cv-fold{number}", args.models)
        fit, view = fit_view(kb, entries), asked(kb, queries)
        fits.append(fit)
        reals.append(view)
        repeats += near_repeats(entries, queries, view)
        misses += int((~view["right"]).sum())
        budget.append((fit["expected_wrong_in_scope"], fit["expected_wrong_out_of_scope"]))
    results["covid"] = {"pseudo": buckets(merged(fits)), "real": buckets(merged(reals)), "top1_misses": misses,
                        "misses_to_a_near_repeat": repeats, "expected_wrong_per_fold": budget}
    print_table("COVID-QA, 5 folds pooled", results["covid"]["pseudo"], results["covid"]["real"])
    print(f"\nexpected wrong answers at the fitted threshold (share of all questions), in scope / out of scope: "
          f"shop {results['shop']['expected_wrong_in_scope']} / {results['shop']['expected_wrong_out_of_scope']}; "
          f"COVID-QA folds {budget}")
    print(f"COVID-QA top-1 misses: {misses}, of which to an entry whose question nearly repeats the right one: "
          f"{repeats}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
