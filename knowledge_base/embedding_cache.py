"""Embeddings kept on disk by content hash, so a rebuild only embeds changed texts."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import numpy as np

from knowledge_base.embedding import TextEmbedder, TextKind


def text_key(kind: TextKind, text: str) -> str:
    return hashlib.sha256(f"{kind}\0{text}".encode()).hexdigest()[:24]


class EmbeddingCache:
    """Vectors of one model, stored as one `embeddings.npz` (keys + matrix) in `folder`.

    Without a folder it is an in-memory cache (temporary indexes, e.g. for `eval`).
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.file = folder / "embeddings.npz" if folder else None
        self.vectors: dict[str, np.ndarray] = {}
        if self.file and self.file.exists():
            try:
                with np.load(self.file) as stored:
                    self.vectors = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
            except (ValueError, OSError, KeyError):
                self.vectors = {}  # a damaged cache is only a slower build

    def embed(
        self, embedder: TextEmbedder, texts: list[str], kind: TextKind, show_progress: bool = False
    ) -> tuple[np.ndarray, int]:
        """Vectors for `texts`, embedding only those not cached; returns (matrix, number embedded)."""
        keys = [text_key(kind, text) for text in texts]
        missing = {key: text for key, text in zip(keys, texts, strict=True) if key not in self.vectors}
        if missing:
            fresh = embedder.encode(list(missing.values()), kind, show_progress=show_progress)
            self.vectors.update(zip(missing.keys(), fresh, strict=True))
        if not keys:
            return np.zeros((0, 0), dtype=np.float32), 0
        return np.stack([self.vectors[key] for key in keys]).astype(np.float32), len(missing)

    def save(self, keep: set[str] | None = None) -> None:
        """Write atomically; `keep` drops vectors of texts no longer in the knowledge base."""
        if self.file is None:
            return
        if keep is not None:
            self.vectors = {k: v for k, v in self.vectors.items() if k in keep}
        self.file.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self.vectors), dtype=str)
        matrix = np.stack(list(self.vectors.values())) if self.vectors else np.zeros((0, 0), np.float32)
        tmp = self.file.with_name(f"embeddings.{socket.gethostname()}.{os.getpid()}.tmp.npz")  # replicas may share
        with tmp.open("wb") as handle:
            np.savez(handle, keys=keys, vectors=matrix)
        os.replace(tmp, self.file)
