"""The knowledge base as the bot uses it: load FAQ files, keep an index, answer questions.

Everything one question needs is one immutable `ServedState`; a reload builds a new one and swaps
the single reference, so a question in flight finishes on the state it started with. A broken FAQ
file never takes a running service down: `refresh` keeps the last good state and reports the lint
findings. A model fine-tuned by `train` is swapped in when it appears, without blocking on it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from knowledge_base import calibration, training
from knowledge_base.authoring.faq_files import (
    FaqCollection,
    Finding,
    LocatedEntry,
    content_hash,
    files_digest,
    load_faqs,
)
from knowledge_base.authoring.lint import lint
from knowledge_base.authoring.reload_report import ReloadResult
from knowledge_base.decision import NO_TEXT, Candidate, Decision, decide
from knowledge_base.embedding import SentenceTransformerEmbedder, TextEmbedder, question_vector
from knowledge_base.embedding_cache import EmbeddingCache
from knowledge_base.faq_index import BuildStats, FaqIndex, build_index
from knowledge_base.ranking import clean_question, has_searchable_text, rank
from knowledge_base.schema import FaqEntry
from knowledge_base.settings import Settings, Thresholds

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServedState:
    """One consistent version of the knowledge base: index, model, thresholds and where entries are written.

    Never changed after it is built; callers that ask several things in a row (the bot's follow-up logic,
    the editors' try-it box) take one with `KnowledgeBase.snapshot()` so a reload cannot change it under them.
    """

    embedder: TextEmbedder
    index: FaqIndex
    thresholds: Thresholds
    trained: bool
    content_hash: str
    answer_weight: float
    lexical_weight: float
    model: str = "fixed"
    """The model's name or folder (`fixed` for an embedder given by tests)."""
    located: Mapping[str, LocatedEntry] = field(default_factory=dict)
    """File and line of each entry (empty for entries not read from files)."""
    loaded_at: float = field(default_factory=time.time)
    calibration: calibration.CalibrationResult | None = None
    """The decision fitted to this index (knowledge_base/calibration.py); None: fixed thresholds by choice."""
    entries: Mapping[str, FaqEntry] = field(init=False, repr=False)
    """The served entries by id (read-only)."""

    @property
    def model_kind(self) -> str:
        if self.model == "fixed":
            return "fixed"
        return "trained" if self.trained else "base"

    def __post_init__(self) -> None:
        by_id = MappingProxyType({entry.id: entry for entry in self.index.entries})
        object.__setattr__(self, "entries", by_id)  # frozen: set once, here

    def rank(self, question: str, top_k: int = 5) -> list[Candidate]:
        text = clean_question(question)
        if not has_searchable_text(text):
            return []
        vector = question_vector(self.embedder, text)
        signals = self.index.signals(vector, text)
        return rank(self.index, signals, self.answer_weight, self.lexical_weight, top_k)

    def rank_and_decide(self, question: str, top_k: int = 5) -> tuple[list[Candidate], Decision]:
        ranking = self.rank(question, top_k)
        if not ranking:
            return ranking, Decision("handoff", 0.0, [], NO_TEXT)
        fitted = self.calibration.calibration if self.calibration else None
        return ranking, fitted.decide(ranking) if fitted else decide(ranking, self.thresholds)

    @property
    def calibration_summary(self) -> list[str]:
        """German lines on what the bot is expected to do with questions (`lint`, the editors' FAQ page)."""
        return calibration.summary_lines(self.calibration, fixed=self.calibration is None)

    def ask(self, question: str) -> Decision:
        return self.rank_and_decide(question)[1]


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
        self._served: ServedState | None = None
        self._reload_lock = threading.Lock()
        self.last_stats: BuildStats | None = None
        self.last_result: ReloadResult | None = None
        """The latest `refresh`, accepted or not (the editors' page shows it)."""
        self._base_embedder: TextEmbedder | None = None
        self._last_key: tuple[str, str] | None = None
        """(files digest, served model) of `last_result`: the same files again need no second build."""

    # --- loading -------------------------------------------------------------------------
    def reload(self, show_progress: bool = False) -> FaqCollection:
        """Re-read the FAQ files; on errors keep serving the last good index."""
        collection = self.refresh(show_progress).collection
        assert collection is not None
        return collection

    def refresh(self, show_progress: bool = False) -> ReloadResult:
        """Load the files, lint them, embed what changed, swap the state; errors keep the old state.

        Reloads run one at a time; questions never wait for them (they read the current state). Files unchanged
        since the last refresh (the file watcher and an explicit reload after the same save) give the last result
        again, without building anything.
        """
        with self._reload_lock:
            started = time.perf_counter()
            key = (files_digest(self.settings.faq_dir), self._served.model if self._served else "")
            if self.last_result is not None and key == self._last_key:
                return self.last_result
            collection = load_faqs(self.settings.faq_dir)
            previous = self._served
            if collection.errors:
                findings = tuple(lint(collection))
                result = ReloadResult(
                    accepted=False,
                    findings=findings,
                    entries=len(previous.index) if previous else 0,
                    model=previous.model_kind if previous else "",
                    content_hash=previous.content_hash if previous else "",
                    seconds={"load_and_lint": time.perf_counter() - started, "total": time.perf_counter() - started},
                    collection=collection,
                )
                log.warning("FAQ files have %d errors; keeping the last good index", len(result.errors))
                self.last_result, self._last_key = result, key
                return result
            loaded = time.perf_counter()
            state, stats = self._build([located.entry for located in collection.entries], collection.entries,
                                       show_progress)
            indexed = time.perf_counter()
            findings = tuple(lint(collection, phrasing_vectors=_phrasing_vectors(state.index)))
            self._served = state  # the swap: one reference, read once per question
            done = time.perf_counter()
            added, changed, removed = _differences(previous, state)
            result = ReloadResult(
                accepted=True,
                findings=findings,
                entries=stats.entries,
                texts=stats.texts,
                embedded=stats.embedded,
                added=added,
                changed=changed,
                removed=removed,
                model=state.model_kind,
                content_hash=state.content_hash,
                seconds={
                    "load_and_lint": (loaded - started) + (done - indexed),
                    "index": indexed - loaded,
                    "total": done - started,
                },
                collection=collection,
            )
            self.last_result, self._last_key = result, (key[0], state.model)
            return result

    @property
    def files_version(self) -> str:
        """The digest of the FAQ files the last refresh read (`files_digest`); empty before the first."""
        return self._last_key[0] if self._last_key else ""

    def check(self) -> list[Finding]:
        """The lint report of the files as they are now, collisions with the served model; serves nothing new.

        Uses the embedding cache like a reload, so only texts changed since the last reload are embedded;
        under the reload lock, because both write the cache files.
        """
        last, key = self.last_result, self._last_key
        if last is not None and key is not None and files_digest(self.settings.faq_dir) == key[0]:
            return list(last.findings)  # the watcher keeps this fresh: no index build per page view
        collection = load_faqs(self.settings.faq_dir)
        if collection.errors:
            return lint(collection)
        embedder = self.snapshot().embedder
        cache_folder = self.settings.index_dir / embedder.model_id if self._persist else None
        with self._reload_lock:
            index, _ = build_index([located.entry for located in collection.entries], embedder, cache_folder)
        return lint(collection, phrasing_vectors=_phrasing_vectors(index))

    def load_entries(self, entries: list[FaqEntry], source: str, show_progress: bool = False) -> None:
        """Serve entries that do not come from FAQ files (`eval` on a JSONL file)."""
        with self._reload_lock:
            self.source = source
            self._served, _ = self._build(entries, [], show_progress)

    def use_trained_model_if_ready(self) -> bool:
        """Swap in the model fine-tuned on the served content when it appeared since; True if swapped.

        After an editor's change the served model (fine-tuned on an earlier content, or the base model)
        keeps serving the new content until `train` has finished for it.
        """
        served = self._served
        if served is None or self._fixed_embedder is not None or not self.settings.use_trained_model:
            return False
        wanted = training.find_trained_model(self.settings, served.content_hash, self.source)
        if wanted is None or str(wanted) == served.model:
            return False
        with self._reload_lock:
            current = self._served or served
            self._served, _ = self._build(list(current.index.entries), list(current.located.values()), False)
        return bool(self._served and self._served.model == str(wanted))

    def _build(
        self, entries: list[FaqEntry], located: list[LocatedEntry], show_progress: bool
    ) -> tuple[ServedState, BuildStats]:
        digest = content_hash(entries)
        embedder, trained = self._choose_embedder(digest)
        cache_folder = self.settings.index_dir / embedder.model_id if self._persist else None
        index, stats = build_index(entries, embedder, cache_folder, show_progress)
        unseen = training.unseen_phrasings(Path(embedder.model_name_or_path), entries) if trained else None
        if self.settings.fixed_thresholds:
            fitted = None
        elif trained and unseen is None:
            # a model that learnt every phrasing calibration would test it on would trust itself far too much:
            # its measured hand-set thresholds decide (models trained before phrasings were held out)
            fitted = calibration.CalibrationResult(None, calibration.TRAINED_NOTE)
        else:  # a fine-tuned model is tested only on the phrasings it never learnt
            fitted = self._calibrate(index, embedder, cache_folder, unseen)
        if not self.settings.keep_full_model and (release := getattr(embedder, "release_full_model", None)):
            release()  # questions go through the int8 export; the next build loads the full model again
        state = ServedState(
            embedder=embedder,
            index=index,
            thresholds=self.settings.trained_thresholds if trained else self.settings.thresholds,
            trained=trained,
            content_hash=digest,
            answer_weight=self.settings.answer_weight,
            lexical_weight=self.settings.lexical_weight,
            model=getattr(embedder, "model_name_or_path", "fixed") if self._fixed_embedder is None else "fixed",
            located=MappingProxyType({item.entry.id: item for item in located}),
            calibration=fitted,
        )
        self.last_stats = stats
        log.info("serving %d entries (%s model, %d texts embedded)", len(entries), state.model_kind, stats.embedded)
        return state, stats

    def _calibrate(
        self, index: FaqIndex, embedder: TextEmbedder, cache_folder: Path | None, unseen: set[str] | None = None
    ) -> calibration.CalibrationResult:
        """Fit the decision to this index and model; the probes' vectors are cached like the index's."""
        started = time.perf_counter()
        probes = calibration.probe_questions()
        cache = EmbeddingCache(cache_folder / "calibration" if cache_folder else None)
        vectors, embedded = cache.embed(embedder, probes, "query")
        if embedded:
            cache.save()
        result = calibration.fit(index, probes, vectors, self.settings.answer_weight, self.settings.lexical_weight,
                                 self.settings.max_wrong_rate, unseen)
        if cache_folder:
            calibration.save(result, cache_folder)
        log.info("calibration in %.2f s: %s", time.perf_counter() - started,
                 " ".join(calibration.summary_lines(result)))
        return result

    def base_embedder(self) -> TextEmbedder:
        """The base model, whatever is served: for work whose thresholds were set on it (clustering questions).

        The served one when it is the base model; else loaded once beside the fine-tuned one.
        """
        if self._fixed_embedder is not None:
            return self._fixed_embedder
        served = self.snapshot().embedder
        if getattr(served, "model_name_or_path", None) == str(self.settings.embedding_model):
            return served
        with self._reload_lock:
            if self._base_embedder is None:
                self._base_embedder = SentenceTransformerEmbedder(
                    self.settings.embedding_model,
                    self.settings.query_prompt,
                    self.settings.passage_prompt,
                    self.settings.torch_threads,
                    self.settings.fast_query_exports,
                )
            return self._base_embedder

    def _choose_embedder(self, content_hash: str) -> tuple[TextEmbedder, bool]:
        """The served model stays when it still fits, so a reload embeds only the changed texts."""
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
            self.settings.fast_query_exports,
        )
        return embedder, trained_path is not None

    # --- asking --------------------------------------------------------------------------
    def snapshot(self) -> ServedState:
        """The state serving now (loaded on first use); hold it for everything one request asks."""
        served = self._served
        if served is None:
            result = self.refresh()
            served = self._served
            if served is None:
                problems = "; ".join(str(f) for f in result.errors[:5])
                raise RuntimeError(f"the FAQ files have errors and no index was ever built: {problems}")
        return served

    @property
    def served(self) -> ServedState:
        return self.snapshot()

    @property
    def is_loaded(self) -> bool:
        return self._served is not None

    @property
    def entries(self) -> Mapping[str, FaqEntry]:
        return self.snapshot().entries

    @property
    def using_trained_model(self) -> bool:
        return self.snapshot().trained

    def rank(self, question: str, top_k: int = 5) -> list[Candidate]:
        return self.snapshot().rank(question, top_k)

    def ask(self, question: str) -> Decision:
        """Decide how to respond to one customer question; never raises for odd input."""
        return self.snapshot().ask(question)

    def rank_and_decide(self, question: str, top_k: int = 5) -> tuple[list[Candidate], Decision]:
        """The ranking (for evaluation and editors) and the decision made from it, from one state."""
        return self.snapshot().rank_and_decide(question, top_k)


def _phrasing_vectors(index: FaqIndex) -> np.ndarray | None:
    """The index's question/alternative vectors in file order, for lint's collision check."""
    return index.texts.reconstruct_n(0, index.texts.ntotal) if index.texts.ntotal else None


def _differences(previous: ServedState | None, new: ServedState) -> tuple[tuple[str, ...], ...]:
    """Entry ids added, changed and removed between two states (all "added" on the first load)."""
    before = previous.entries if previous else {}
    after = new.entries
    added = tuple(sorted(set(after) - set(before)))
    removed = tuple(sorted(set(before) - set(after)))
    changed = tuple(sorted(i for i in set(after) & set(before) if after[i] != before[i]))
    return added, changed, removed
