"""`eval`: metric definitions (exact, on scripted rankings) and the CLI on the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from knowledge_base.decision import Candidate, Decision
from knowledge_base.tools.cli import cli
from knowledge_base.tools.evaluation import LabelledQuery, evaluate
from tests.conftest import write

KEYS = ["top1", "recall_at_3", "mrr_at_5", "answered_correct", "clarified_correct", "answered_wrong",
        "handoff", "oos_not_answered", "n_queries", "n_oos"]


def _c(faq_id: str) -> Candidate:
    return Candidate(faq_id, faq_id, 0.5, 0.5, 0.0, 0.0)


SCRIPT = {
    # query: (ranking, decision)
    "q1": (["a", "b", "c"], "answer"),  # right, answered
    "q2": (["b", "a", "c"], "clarify"),  # right one second, offered
    "q3": (["c", "d", "e", "f", "a"], "answer"),  # wrong answer; right at rank 5
    "q4": (["d", "e"], "handoff"),
    "oos1": (["a"], "answer"),  # any answer to OOS is wrong
    "oos2": (["b", "c"], "clarify"),
}
GOLD = {"q1": "a", "q2": "a", "q3": "a", "q4": "a", "oos1": "OOS", "oos2": "OOS"}


def _ask(query: str) -> tuple[list[Candidate], Decision]:
    ids, action = SCRIPT[query]
    ranking = [_c(i) for i in ids]
    return ranking, Decision(action, 0.5, ranking[:2] if action == "clarify" else ranking[:3])


def test_metric_definitions() -> None:
    report = evaluate([LabelledQuery(query=q, faq_id=g) for q, g in GOLD.items()], _ask)
    assert report.as_dict() == {
        "top1": 0.25,
        "recall_at_3": 0.5,
        "mrr_at_5": round((1 + 0.5 + 0.2) / 4, 4),
        "answered_correct": 0.25,
        "clarified_correct": 0.25,
        "answered_wrong": round(2 / 6, 4),
        "handoff": round(1 / 6, 4),
        "oos_not_answered": 0.5,
        "n_queries": 6,
        "n_oos": 2,
    }


def test_no_oos_queries_gives_null() -> None:
    report = evaluate([LabelledQuery(query="q1", faq_id="a")], _ask)
    assert report.oos_not_answered is None and report.n_oos == 0


FAQS = [
    {"id": "versand-kosten", "question": "Was kostet der Versand?", "answer": "4,95 €, ab 50 € frei.",
     "alternatives": ["Versandkosten", "Wie teuer ist die Lieferung?"]},
    {"id": "retoure-frist", "question": "Wie lange kann ich Artikel zurückgeben?",
     "answer": "Sie haben 30 Tage Zeit.", "alternatives": ["Rückgabefrist"]},
    {"id": "konto-passwort", "question": "Ich habe mein Passwort vergessen.",
     "answer": "Klicken Sie auf „Passwort vergessen?“."},
    {"id": "zahlung-methoden", "question": "Welche Zahlungsarten gibt es?",
     "answer": "PayPal, Kreditkarte, Rechnung."},
]
QUERIES = [
    {"query": "Wie viel kostet das Verschicken?", "faq_id": "versand-kosten"},
    {"query": "Passwort weg, was tun", "faq_id": "konto-passwort"},
    {"query": "Kann ich mit PayPal zahlen?", "faq_id": "zahlung-methoden"},
    {"query": "Bis wann kann ich zurückschicken?", "faq_id": "retoure-frist"},
    {"query": "Wie wird das Wetter morgen in Berlin?", "faq_id": "OOS"},
]


@pytest.fixture
def eval_files(tmp_path: Path) -> tuple[Path, Path]:
    faqs = write(tmp_path / "faqs.jsonl", "\n".join(json.dumps(f, ensure_ascii=False) for f in FAQS))
    queries = write(tmp_path / "queries.jsonl", "\n".join(json.dumps(q, ensure_ascii=False) for q in QUERIES))
    return faqs, queries


@pytest.mark.slow
def test_eval_cli_json_on_real_model(eval_files: tuple[Path, Path], real_embedder) -> None:
    faqs, queries = eval_files
    result = CliRunner().invoke(cli, ["eval", "--faqs", str(faqs), "--queries", str(queries), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert list(report) == KEYS
    assert (report["n_queries"], report["n_oos"]) == (5, 1)
    assert report["top1"] == 1.0  # four distinct topics: the real model must rank all first
    assert report["oos_not_answered"] == 1.0
    assert report["answered_wrong"] == 0.0
    assert report["answered_correct"] + report["clarified_correct"] + report["handoff"] * 5 / 4 >= 1.0 - 1e-9


def test_eval_cli_reports_bad_files(tmp_path: Path, eval_files: tuple[Path, Path]) -> None:
    faqs, queries = eval_files
    bad = write(tmp_path / "bad.jsonl", '{"query": "a", "faq_id": "x"}\n{"query": "x"}\n')
    result = CliRunner().invoke(cli, ["eval", "--faqs", str(faqs), "--queries", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: query 2: faq_id: Field required" in result.output
    broken = write(tmp_path / "broken.jsonl", '{"id": "a", "question": "q"}\n')
    result = CliRunner().invoke(cli, ["eval", "--faqs", str(broken), "--queries", str(queries)])
    assert result.exit_code == 1
    assert f"{broken}: entry 1: answer: Field required" in result.output
