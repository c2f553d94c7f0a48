"""Lexical matching over normalised German terms: BM25 and IDF-weighted query coverage."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
from rank_bm25 import BM25Okapi

from knowledge_base.german_text import GermanAnalyzer


class LexicalIndex:
    """Term statistics of the knowledge base's entries (one document per entry)."""

    def __init__(self, documents: list[str], analyzer: GermanAnalyzer | None = None) -> None:
        self.analyzer = analyzer or GermanAnalyzer()
        plain_terms = [self.analyzer.terms(doc) for doc in documents]
        self.analyzer.vocabulary = {term for terms in plain_terms for term in terms}
        self.doc_terms = [self.analyzer.terms(doc) for doc in documents]
        self.doc_sets = [set(terms) for terms in self.doc_terms]
        n_docs = max(len(documents), 1)
        df = Counter(term for terms in self.doc_sets for term in terms)
        self.idf = {t: math.log(1 + (n_docs - n + 0.5) / (n + 0.5)) for t, n in df.items()}
        self.unknown_idf = math.log(1 + (n_docs + 0.5) / 0.5)
        self._bm25 = BM25Okapi(self.doc_terms) if any(self.doc_terms) else None
        postings: dict[str, list[int]] = {}
        for i, doc in enumerate(self.doc_sets):
            for term in doc:
                postings.setdefault(term, []).append(i)
        self._postings = {term: np.array(docs, dtype=np.int64) for term, docs in postings.items()}
        """Term → the documents containing it: a question costs a few array operations, not a loop over all."""

    def bm25(self, query: str) -> np.ndarray:
        """Plain Okapi BM25 scores per document (the baseline)."""
        terms = self.analyzer.terms(query)
        if self._bm25 is None or not terms:
            return np.zeros(len(self.doc_terms), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(terms), dtype=np.float32)

    def coverage(self, query: str) -> np.ndarray:
        """Share of the query's IDF mass each document contains (0–1).

        Unlike raw BM25 this is comparable across queries, so it can be fused
        with cosine similarities and thresholded; words the knowledge base never
        uses ("Schrank", "Aufbau") lower every document's coverage.
        """
        terms = set(self.analyzer.terms(query))
        scores = np.zeros(len(self.doc_sets), dtype=np.float32)
        if not terms:
            return scores
        weights = {t: self.idf.get(t, self.unknown_idf) for t in terms}
        total = sum(weights.values())
        found = np.zeros(len(self.doc_sets), dtype=np.float64)
        for term, weight in weights.items():
            if (docs := self._postings.get(term)) is not None:
                found[docs] += weight
        return (found / total).astype(np.float32)
