"""Text embedders: the sentence-transformers model the engine uses (benchmarks/retrieval.py adds USE).

Embedders return L2-normalised float32 rows, so inner product is cosine similarity.
"""

from __future__ import annotations

import gc
import hashlib
import threading
from collections import OrderedDict
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from common import heap

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from knowledge_base.query_model import OnnxQueryModel

TextKind = Literal["query", "passage"]
QUESTION_CACHE_SIZE = 1024
"""Recent questions kept with their vectors: customers repeat the same short questions ("versandkosten")."""


class TextEmbedder(Protocol):
    """What the index needs from an embedding model."""

    @property
    def model_id(self) -> str:
        """Identifies the weights; cached vectors are only reused for the same id."""
        ...

    def encode(self, texts: list[str], kind: TextKind) -> np.ndarray: ...


def question_vector(embedder: TextEmbedder, text: str) -> np.ndarray:
    """One customer question's vector: through the embedder's fast path when it has one."""
    fast = getattr(embedder, "encode_question", None)
    return fast(text) if fast is not None else embedder.encode([text], "query")[0]


class _QuestionCache:
    """A small thread-safe LRU of question → read-only vector."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> np.ndarray | None:
        with self._lock:
            vector = self._vectors.get(text)
            if vector is not None:
                self._vectors.move_to_end(text)
            return vector

    def put(self, text: str, vector: np.ndarray) -> None:
        vector.flags.writeable = False
        with self._lock:
            self._vectors[text] = vector
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded lazily, with the model's query/passage prompts."""

    def __init__(
        self,
        model_name_or_path: str | Path,
        query_prompt: str = "query: ",
        passage_prompt: str = "passage: ",
        threads: int | None = None,
        query_exports: Path | None = None,
    ) -> None:
        """`query_exports`: where int8 ONNX exports live; single questions use this folder's when there is one."""
        self.model_name_or_path = str(model_name_or_path)
        self.prompts: dict[TextKind, str] = {"query": query_prompt, "passage": passage_prompt}
        self.threads = threads
        self.query_exports = query_exports
        self._questions = _QuestionCache(QUESTION_CACHE_SIZE)

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

    @cached_property
    def query_model(self) -> OnnxQueryModel | None:
        """The int8 ONNX export of this folder (None: off, not exported, or a hub name)."""
        if self.query_exports is None:
            return None
        from knowledge_base.query_model import load

        return load(self.query_exports, Path(self.model_name_or_path), self.threads)

    def encode_question(self, text: str) -> np.ndarray:
        """One question (the served path): the fast model when available, recent questions from the cache."""
        vector = self._questions.get(text)
        if vector is None:
            fast = self.query_model
            prompted = self.prompts["query"] + text
            vector = fast.encode([prompted])[0] if fast is not None else self.encode([text], "query")[0]
            self._questions.put(text, vector)
        return vector

    def release_full_model(self) -> bool:
        """Drop the PyTorch model once a build is done, when the int8 export answers questions; True if dropped.

        It holds ~400 MB (float weights, a second tokenizer) that a serving process only needs for the next
        build that embeds new texts, which loads it again (a few seconds, once per reload with changes).
        """
        if self.query_model is None or "model" not in self.__dict__:
            return False
        del self.__dict__["model"]
        gc.collect()  # the model's modules refer to each other: free the weights now, not at some later collection
        heap.return_freed_memory()  # glibc keeps ~300 MB of a dropped model
        return True

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())
