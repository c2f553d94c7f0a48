"""Editor checks on the FAQ files: every problem at once, each with file and line."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from knowledge_base.authoring.faq_files import FaqCollection, Finding, LocatedEntry
from knowledge_base.embedding import TextEmbedder
from knowledge_base.german_text import fold
from knowledge_base.schema import SMS_MAX_CHARS

COLLISION_THRESHOLD = 0.93
"""Cosine (e5-small, query prompt) above which phrasings of two entries are confusable."""
_MARKDOWN = re.compile(r"[*_`#>\[\]]|\(https?://[^)]*\)")


@dataclass(frozen=True)
class _Phrasing:
    located: LocatedEntry
    text: str
    line: int


def sms_length(markdown: str) -> int:
    """Length of an answer once Markdown syntax is stripped for SMS."""
    return len(_MARKDOWN.sub("", markdown).strip())


def lint(
    collection: FaqCollection,
    embedder: TextEmbedder | None = None,
    collision_threshold: float = COLLISION_THRESHOLD,
    phrasing_vectors: np.ndarray | None = None,
) -> list[Finding]:
    """All findings: load/schema errors, SMS length, and collisions (when an embedder or vectors are given).

    `phrasing_vectors` are the vectors of every question and alternative in file order, as the index
    holds them: a live reload passes its index's vectors instead of embedding everything a second time.
    """
    findings = list(collection.findings)
    for located in collection.entries:
        entry = located.entry
        if entry.short_answer is None and sms_length(entry.answer) > SMS_MAX_CHARS:
            findings.append(
                Finding(
                    located.path,
                    located.line,
                    "warning",
                    f"entry {entry.id!r}: answer has {sms_length(entry.answer)} characters, too long "
                    f"for SMS (max {SMS_MAX_CHARS}); add a `short_answer`",
                )
            )
    if embedder is None and phrasing_vectors is None:
        findings.extend(_exact_duplicates(collection.entries))
    else:  # identical phrasings have similarity 1.0, so this also finds exact duplicates
        findings.extend(_collisions(collection.entries, embedder, collision_threshold, phrasing_vectors))
    return sorted(findings, key=lambda f: (str(f.path), f.line, f.message))


def _phrasings(entries: list[LocatedEntry]) -> list[_Phrasing]:
    return [
        _Phrasing(located, text, located.phrasing_line(i))
        for located in entries
        for i, text in enumerate(located.entry.match_texts)
    ]


def _exact_duplicates(entries: list[LocatedEntry]) -> list[Finding]:
    seen: dict[str, _Phrasing] = {}
    findings = []
    for phrasing in _phrasings(entries):
        key = " ".join(fold(phrasing.text).split()).strip("?!. ")
        first = seen.setdefault(key, phrasing)
        if first is not phrasing and first.located.entry.id != phrasing.located.entry.id:
            findings.append(_collision_finding(first, phrasing, 1.0))
    return findings


def _collisions(
    entries: list[LocatedEntry],
    embedder: TextEmbedder | None,
    threshold: float,
    vectors: np.ndarray | None = None,
) -> list[Finding]:
    """Phrasings closer to another entry than to their own entry's other phrasings.

    Such a phrasing, asked by a customer, would be matched to the other entry; a
    high similarity alone is common between neighbouring topics and not a problem.
    """
    phrasings = _phrasings(entries)
    if len(phrasings) < 2:
        return []
    if vectors is None:
        assert embedder is not None
        vectors = embedder.encode([p.text for p in phrasings], "query")
    elif len(vectors) != len(phrasings):
        raise ValueError(f"{len(vectors)} phrasing vectors for {len(phrasings)} phrasings")
    owner = np.array([id(p.located) for p in phrasings])
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -1.0)
    same_entry = owner[:, None] == owner[None, :]
    own_best = np.where(same_entry, similarity, -1.0).max(axis=1)
    other = np.where(same_entry, -1.0, similarity)
    worst: dict[tuple[str, str], tuple[float, int, int]] = {}
    for i in range(len(phrasings)):
        j = int(other[i].argmax())
        if other[i, j] < threshold or other[i, j] <= own_best[i]:
            continue
        pair = tuple(sorted((phrasings[i].located.entry.id, phrasings[j].located.entry.id)))
        if pair not in worst or other[i, j] > worst[pair][0]:
            worst[pair] = (float(other[i, j]), j, i)
    return [_collision_finding(phrasings[j], phrasings[i], s) for s, j, i in worst.values()]


def _collision_finding(first: _Phrasing, second: _Phrasing, similarity: float) -> Finding:
    other = first.located
    return Finding(
        second.located.path,
        second.line,
        "warning",
        f"collision: entry {second.located.entry.id!r} phrasing {second.text!r} is closer "
        f"({similarity:.2f}) to entry {other.entry.id!r} phrasing {first.text!r} "
        f"({other.path.name}:{first.line}) than to its own entry; customers may get the wrong answer — "
        "reword or merge",
    )
