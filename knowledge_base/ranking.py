"""All scoring in one place: fuse the per-entry signals into one ranked list."""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from knowledge_base.decision import Candidate
from knowledge_base.faq_index import FaqIndex, Signals

MAX_QUESTION_CHARS = 1000
"""Longer input is cut: the model reads 512 tokens at most, and stories put the question early or late."""
_SPACES = re.compile(r"\s+")


def clean_question(text: str) -> str:
    """Drop control/format characters, collapse whitespace, cap the length."""
    kept = "".join(
        ch if unicodedata.category(ch)[0] != "C" else " " for ch in text[: MAX_QUESTION_CHARS * 4]
    )
    cleaned = _SPACES.sub(" ", kept).strip()
    if len(cleaned) <= MAX_QUESTION_CHARS:
        return cleaned
    # Keep beginning and end: a long story usually states the question at one of them.
    half = MAX_QUESTION_CHARS // 2
    return f"{cleaned[:half]} … {cleaned[-half:]}"


def has_searchable_text(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def fuse(signals: Signals, answer_weight: float, lexical_weight: float) -> np.ndarray:
    """Weighted mean of the signals, so the result stays on the cosine scale thresholds use."""
    total = 1.0 + answer_weight + lexical_weight
    return (
        signals.question + answer_weight * signals.answer + lexical_weight * signals.lexical
    ) / total


def rank(
    index: FaqIndex,
    signals: Signals,
    answer_weight: float,
    lexical_weight: float,
    top_k: int = 5,
) -> list[Candidate]:
    """The `top_k` entries by fused score, best first."""
    if not len(index):
        return []
    scores = fuse(signals, answer_weight, lexical_weight)
    order = np.argsort(-scores, kind="stable")[:top_k]
    return [
        Candidate(
            faq_id=index.entries[i].id,
            question=index.entries[i].question,
            score=round(float(scores[i]), 4),
            question_similarity=round(float(signals.question[i]), 4),
            answer_similarity=round(float(signals.answer[i]), 4),
            lexical=round(float(signals.lexical[i]), 4),
        )
        for i in order
    ]
