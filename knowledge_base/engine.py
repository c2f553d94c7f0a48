"""The knowledge base as the bot uses it: load FAQ files, keep an index, answer questions.

A broken FAQ file never takes a running service down: `reload` keeps the last
good index and reports the lint errors. A model fine-tuned by `train` is
swapped in when it appears, without blocking start-up on it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from knowledge_base import training
from knowledge_base.decision import NO_TEXT, Candidate, Decision, decide
from knowledge_base.embedding import SentenceTransformerEmbedder, TextEmbedder
from knowledge_base.faq_files import FaqCollection, content_hash, load_faqs
from knowledge_base.faq_index import BuildStats, FaqIndex, build_index
from knowledge_base.ranking import clean_question, has_searchable_text, rank
from knowledge_base.schema import FaqEntry
from knowledge_base.settings import Settings, Thresholds

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Served:
    """Everything one question needs, swapped as a unit so in-flight questions stay consistent."""

    embedder: TextEmbedder
    index: FaqIndex
    thresholds: Thresholds
    trained: bool
    content_hash: str


class KnowledgeBase:
    """Answers questions from the FAQ files in `settings.faq_dir`."""

    def __init__(
        self,
        settings: Settings | None = None,
        embedder: TextEmbedder | None = None,
        persist: bool = True,
    ) -> None:
        """`embedder` fixes the model (tests, benchmarks); `persist=False` keeps the index in memory."""
        self.settings = settings or Settings()
        self.source = str(self.settings.faq_dir.resolve())
        self._fixed_embedder = embedder
        self._persist = persist
        self._served: _Served | None = None
        self._reload_lock = threading.Lock()
        self.last_stats: BuildStats | None = None

    # --- loading -------------------------------------------------------------------------
    def reload(self, show_progress: bool = False) -> FaqCollection:
        """Re-read the FAQ files; on errors keep serving the last good index."""
        with self._reload_lock:
            collection = load_faqs(self.settings.faq_dir)
            if collection.errors:
                log.warning("FAQ files have %d errors; keeping the last good index", len(collection.errors))
                return collection
            self._serve([located.entry for located in collection.entries], show_progress)
            return collection

    def load_entries(self, entries: list[FaqEntry], source: str, show_progress: bool = False) -> None:
        """Serve entries that do not come from FAQ files (`eval` on a JSONL file)."""
        with self._reload_lock:
            self.source = source
            self._serve(entries, show_progress)

    def use_trained_model_if_ready(self) -> bool:
        """Swap in a fine-tuned model that appeared since the last load; True if swapped."""
        served = self._served
        if served is None or served.trained or self._fixed_embedder is not None:
            return False
        if not self.settings.use_trained_model:
            return False
        if training.find_trained_model(self.settings, served.content_hash, self.source) is None:
            return False
        with self._reload_lock:
            self._serve(list(served.index.entries), False)
        return bool(self._served and self._served.trained)

    def _serve(self, entries: list[FaqEntry], show_progress: bool) -> None:
        digest = content_hash(entries)
        embedder, trained = self._choose_embedder(digest)
        cache_folder = self.settings.index_dir / embedder.model_id if self._persist else None
        index, stats = build_index(entries, embedder, cache_folder, show_progress)
        thresholds = self.settings.trained_thresholds if trained else self.settings.thresholds
        self._served = _Served(embedder, index, thresholds, trained, digest)
        self.last_stats = stats
        log.info("serving %d entries (%s model, %d texts embedded)", len(entries),
                 "trained" if trained else "base", stats.embedded)

    def _choose_embedder(self, content_hash: str) -> tuple[TextEmbedder, bool]:
        if self._fixed_embedder is not None:
            return self._fixed_embedder, False
        current = self._served
        trained_path = (
            training.find_trained_model(self.settings, content_hash, self.source)
            if self.settings.use_trained_model
            else None
        )
        model = str(trained_path) if trained_path else self.settings.embedding_model
        if current is not None and getattr(current.embedder, "model_name_or_path", None) == model:
            return current.embedder, trained_path is not None
        embedder = SentenceTransformerEmbedder(
            model,
            self.settings.query_prompt,
            self.settings.passage_prompt,
            self.settings.torch_threads,
        )
        return embedder, trained_path is not None

    # --- asking --------------------------------------------------------------------------
    @property
    def served(self) -> _Served:
        if self._served is None:
            collection = self.reload()
            if self._served is None:
                problems = "; ".join(str(f) for f in collection.errors[:5])
                raise RuntimeError(f"the FAQ files have errors and no index was ever built: {problems}")
        return self._served

    @property
    def entries(self) -> dict[str, FaqEntry]:
        return {entry.id: entry for entry in self.served.index.entries}

    @property
    def using_trained_model(self) -> bool:
        return self.served.trained

    def rank(self, question: str, top_k: int = 5) -> list[Candidate]:
        served = self.served
        text = clean_question(question)
        if not has_searchable_text(text):
            return []
        vector = served.embedder.encode([text], "query")[0]
        signals = served.index.signals(vector, text)
        return rank(served.index, signals, self.settings.answer_weight, self.settings.lexical_weight, top_k)

    def ask(self, question: str) -> Decision:
        """Decide how to respond to one customer question; never raises for odd input."""
        return self.rank_and_decide(question)[1]

    def rank_and_decide(self, question: str, top_k: int = 5) -> tuple[list[Candidate], Decision]:
        """The ranking (for evaluation and editors) and the decision made from it."""
        ranking = self.rank(question, top_k)
        if not ranking:
            return ranking, Decision("handoff", 0.0, [], NO_TEXT)
        return ranking, decide(ranking, self.served.thresholds)
