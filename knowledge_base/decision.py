"""Turning ranked candidates into what the bot does: answer, clarify or hand off."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from knowledge_base.settings import Thresholds

Action = Literal["answer", "clarify", "handoff"]
MAX_OPTIONS = 3
NO_TEXT = "no text to search"
"""`Decision.reason` for input without letters or digits (empty, emoji only): ask to rephrase."""


@dataclass(frozen=True)
class Candidate:
    """An entry and how well it matched one question."""

    faq_id: str
    question: str
    score: float
    question_similarity: float
    answer_similarity: float
    lexical: float


@dataclass(frozen=True)
class Decision:
    action: Action
    confidence: float
    """The top candidate's fused score (0 when nothing matched)."""
    candidates: list[Candidate] = field(default_factory=list)
    """Ranked best first; for `answer` the first is the answer, for `clarify` these are the options."""
    reason: str = ""
    probability: float | None = None
    """P(the top entry is right) from the knowledge base's calibration; None when fixed thresholds decided."""

    @property
    def faq_id(self) -> str | None:
        return self.candidates[0].faq_id if self.action == "answer" and self.candidates else None


def decide(ranked: list[Candidate], thresholds: Thresholds) -> Decision:
    """Answer only with a clear winner; offer close runners-up; else hand off.

    Wrong answers cost more than a question back, so a confident top score
    alone is not enough: it must also lead the runner-up by `margin`.
    """
    if not ranked:
        return Decision("handoff", 0.0, [], "no candidates")
    top = ranked[0]
    lead = top.score - (ranked[1].score if len(ranked) > 1 else -1.0)
    if top.score >= thresholds.answer and lead >= thresholds.margin:
        return Decision("answer", top.score, ranked[:MAX_OPTIONS], "clear match")
    if top.score >= thresholds.clarify:
        options = [c for c in ranked[:MAX_OPTIONS] if top.score - c.score <= thresholds.clarify_window]
        return Decision("clarify", top.score, options if len(options) > 1 else ranked[:2], "close matches")
    return Decision("handoff", top.score, ranked[:MAX_OPTIONS], "no entry fits well enough")


def decision_json(decision: Decision, ranking: list[Candidate]) -> dict:
    """The decision and the full ranking as `ask --json` prints it (the editors' try-it box shows the same)."""
    return {
        "decision": decision.action,
        "confidence": decision.confidence,
        "reason": decision.reason,
        "probability": decision.probability,
        "faq_id": decision.faq_id,
        "options": [c.faq_id for c in decision.candidates] if decision.action == "clarify" else [],
        "candidates": [c.__dict__ for c in ranking],
    }
