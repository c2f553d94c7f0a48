"""Retrieval and decision quality on a labelled query set (`eval`, benchmarks)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from knowledge_base.decision import Candidate, Decision
from knowledge_base.schema import FaqEntry

OUT_OF_SCOPE = "OOS"


class LabelledQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    query: str
    faq_id: str = Field(min_length=1)


@dataclass(frozen=True)
class EvalReport:
    """The metrics `eval --json` prints; see the CLI help for the denominators."""

    top1: float
    recall_at_3: float
    mrr_at_5: float
    answered_correct: float
    clarified_correct: float
    answered_wrong: float
    handoff: float
    oos_not_answered: float | None
    n_queries: int
    n_oos: int

    def as_dict(self) -> dict:
        return asdict(self)


def read_jsonl(path: Path) -> list[dict]:
    """JSON Lines with a clear error naming the bad line."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not valid JSON: {exc.msg}") from exc
        if not isinstance(row, dict):
            raise ValueError(f"{path}:{number}: expected a JSON object")
        rows.append(row)
    return rows


def read_queries(path: Path) -> list[LabelledQuery]:
    queries = []
    for number, row in enumerate(read_jsonl(path), start=1):
        try:
            queries.append(LabelledQuery.model_validate(row))
        except ValidationError as exc:
            raise ValueError(f"{path}: query {number}: {_fields(exc)}") from exc
    return queries


def _fields(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


def read_faq_jsonl(path: Path, updated: str = "2026-01-01") -> list[FaqEntry]:
    """FAQ entries from JSONL (`id`, `question`, `answer`, optional `alternatives`)."""
    entries = []
    for number, row in enumerate(read_jsonl(path), start=1):
        fields = {k: row[k] for k in ("id", "question", "answer", "alternatives") if k in row}
        try:
            entries.append(FaqEntry.model_validate({"updated": updated, **fields}))
        except ValidationError as exc:
            raise ValueError(f"{path}: entry {number}: {_fields(exc)}") from exc
    return entries


def evaluate(
    queries: Iterable[LabelledQuery],
    ask: Callable[[str], tuple[list[Candidate], Decision]],
) -> EvalReport:
    """Score `ask` (question → top-5 ranking and decision) on labelled queries."""
    queries = list(queries)
    in_scope = [q for q in queries if q.faq_id != OUT_OF_SCOPE]
    n_oos = len(queries) - len(in_scope)
    top1 = recall3 = rr5 = answered_correct = clarified_correct = 0.0
    answered_wrong = handoff = oos_not_answered = 0
    for item in queries:
        ranking, decision = ask(item.query)
        ranked = [c.faq_id for c in ranking]
        if decision.action == "handoff":
            handoff += 1
        if item.faq_id == OUT_OF_SCOPE:
            answered_wrong += decision.action == "answer"
            oos_not_answered += decision.action != "answer"
            continue
        top1 += ranked[:1] == [item.faq_id]
        recall3 += item.faq_id in ranked[:3]
        rr5 += 1 / (ranked.index(item.faq_id) + 1) if item.faq_id in ranked[:5] else 0.0
        if decision.action == "answer":
            answered_correct += decision.faq_id == item.faq_id
            answered_wrong += decision.faq_id != item.faq_id
        elif decision.action == "clarify":
            clarified_correct += item.faq_id in {c.faq_id for c in decision.candidates}
    n_in, n_all = max(len(in_scope), 1), max(len(queries), 1)
    return EvalReport(
        top1=round(top1 / n_in, 4),
        recall_at_3=round(recall3 / n_in, 4),
        mrr_at_5=round(rr5 / n_in, 4),
        answered_correct=round(answered_correct / n_in, 4),
        clarified_correct=round(clarified_correct / n_in, 4),
        answered_wrong=round(answered_wrong / n_all, 4),
        handoff=round(handoff / n_all, 4),
        oos_not_answered=round(oos_not_answered / n_oos, 4) if n_oos else None,
        n_queries=len(queries),
        n_oos=n_oos,
    )
