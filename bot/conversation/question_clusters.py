"""Grouping customer questions by meaning: embed with the knowledge base's model, cluster by cosine distance.

Agglomerative clustering with average linkage and a distance threshold needs no number of clusters in
advance and keeps a cluster together only when its questions are close on average, so one vague question
cannot chain two topics together (single linkage would). Vectors are cached by text, per model.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from knowledge_base.embedding import TextEmbedder
from knowledge_base.embedding_cache import EmbeddingCache

MAX_DISTANCE = 0.14
"""Cosine distance (1 − similarity, e5-small base model, `query:` prompt) below which questions share a cluster.

Chosen with `benchmarks/cluster_threshold.py` on `benchmarks/data/unanswered_paraphrases.json` (36 German
questions, 8 topics): see docs/unanswered-clusters.md for the sweep. e5's similarities are compressed
(unrelated German questions still score ~0.75), so the useful range is narrow.
"""


class QuestionEmbeddings:
    """Vectors for question texts, cached per model: a page view embeds only new questions.

    With a `folder` the cache is also kept on disk (`folder/<model id>/embeddings.npz`), so a restarted
    gateway does not embed the whole list again (1000 questions: 29 s on 2 cores; cached: 2 ms).

    Several gateways need nothing shared here: a vector depends only on the model and the text, so each replica
    computing its own gets the same clusters (the questions and their marks are in the shared database). A
    folder shared between replicas is safe too: writes are atomic, and one replica's write replacing another's
    only drops cached vectors, which are embedded again when needed.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self._caches: dict[str, EmbeddingCache] = {}
        self._lock = threading.Lock()

    def embed(self, embedder: TextEmbedder, texts: list[str]) -> np.ndarray:
        with self._lock:
            model = embedder.model_id
            if model not in self._caches:
                self._caches[model] = EmbeddingCache(self.folder / model if self.folder else None)
            cache = self._caches[model]
            vectors, embedded = cache.embed(embedder, texts, "query")
            if embedded:
                cache.save()
            return vectors


def cluster_labels(vectors: np.ndarray, max_distance: float = MAX_DISTANCE) -> list[int]:
    """One label per row; rows with the same label belong together. Rows must be L2-normalised."""
    if len(vectors) == 0:
        return []
    if len(vectors) == 1:
        return [0]
    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=max_distance
    )
    return [int(label) for label in model.fit_predict(vectors)]


def group(texts: list[str], vectors: np.ndarray, max_distance: float = MAX_DISTANCE) -> list[list[int]]:
    """Indexes of `texts` grouped by meaning; identical texts (after case and spaces) always together."""
    labels = cluster_labels(vectors, max_distance)
    by_text: dict[str, int] = {}
    groups: dict[int, list[int]] = {}
    for index, (text, label) in enumerate(zip(texts, labels, strict=True)):
        label = by_text.setdefault(" ".join(text.lower().split()), label)
        groups.setdefault(label, []).append(index)
    return list(groups.values())
