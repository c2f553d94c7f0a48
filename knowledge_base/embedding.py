"""Text embedders: the sentence-transformers model the engine uses (benchmarks/retrieval.py adds USE).

Embedders return L2-normalised float32 rows, so inner product is cosine similarity.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

TextKind = Literal["query", "passage"]


class TextEmbedder(Protocol):
    """What the index needs from an embedding model."""

    @property
    def model_id(self) -> str:
        """Identifies the weights; cached vectors are only reused for the same id."""
        ...

    def encode(self, texts: list[str], kind: TextKind) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded lazily, with the model's query/passage prompts."""

    def __init__(
        self,
        model_name_or_path: str | Path,
        query_prompt: str = "query: ",
        passage_prompt: str = "passage: ",
        threads: int | None = None,
    ) -> None:
        self.model_name_or_path = str(model_name_or_path)
        self.prompts: dict[TextKind, str] = {"query": query_prompt, "passage": passage_prompt}
        self.threads = threads

    @cached_property
    def model(self) -> SentenceTransformer:
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        if self.threads:
            torch.set_num_threads(self.threads)
        return SentenceTransformer(self.model_name_or_path, device="cpu")

    @cached_property
    def model_id(self) -> str:
        path = Path(self.model_name_or_path)
        marker = path / "model.safetensors"
        identity = self.model_name_or_path
        if marker.exists():
            stat = marker.stat()
            identity += f":{stat.st_size}:{stat.st_mtime_ns}"
        identity += repr(sorted(self.prompts.items()))
        return hashlib.sha256(identity.encode()).hexdigest()[:16]

    def encode(self, texts: list[str], kind: TextKind, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            prompt=self.prompts[kind],
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return vectors.astype(np.float32, copy=False)

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())
