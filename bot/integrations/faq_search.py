"""The knowledge base as the gateway needs it: search by text, fetch an answer. Loaded lazily, once per app.

The inbox's FAQ search and the editors' pages share this one instance; it reloads live like the action
server (a watcher on the FAQ folder, and `reload()` from `POST /admin/kb/reload`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from knowledge_base.authoring.reload_report import ReloadResult
from knowledge_base.engine import KnowledgeBase
from knowledge_base.watcher import FaqWatcher

log = logging.getLogger(__name__)


class FaqSearch(Protocol):
    def search(self, text: str, limit: int = 5) -> list[dict[str, Any]]: ...

    def answer(self, faq_id: str) -> str | None: ...


class KnowledgeBaseSearch:
    """Wraps knowledge_base.engine.KnowledgeBase; the model loads on first use, not at start-up.

    `factory` builds the knowledge base (tests pass a fake embedder and a temporary FAQ folder);
    `watch` starts a file watcher once it is loaded; `on_reload` sees every reload's result (metrics).
    """

    def __init__(
        self,
        factory: Callable[[], KnowledgeBase] = KnowledgeBase,
        watch: bool = False,
        on_reload: Callable[[ReloadResult], None] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._factory = factory
        self._watch = watch
        self._on_reload = on_reload
        self._kb: KnowledgeBase | None = None
        self.watcher: FaqWatcher | None = None

    def knowledge_base(self) -> KnowledgeBase:
        """The loaded knowledge base (loads it on the first call: model + index, seconds)."""
        with self._lock:
            if self._kb is None:
                kb = self._factory()
                self._report(kb.refresh())
                if kb.is_loaded:  # the model's first question costs seconds (torch, spaCy): not an editor's
                    kb.rank("Wie lange dauert die Lieferung?")
                self._kb = kb
                if self._watch:
                    self._start_watching(kb)
            return self._kb

    @property
    def loaded(self) -> KnowledgeBase | None:
        """The knowledge base if it was loaded already; never loads."""
        return self._kb

    def reload(self) -> ReloadResult:
        """Re-read the FAQ files now; errors keep the last good index (the first call loads instead)."""
        with self._lock:
            kb = self._kb
        if kb is None:
            self.knowledge_base()
            assert self._kb is not None and self._kb.last_result is not None
            return self._kb.last_result
        result = kb.refresh()
        self._report(result)
        return result

    def search(self, text: str, limit: int = 5) -> list[dict[str, Any]]:
        ranking, _decision = self.knowledge_base().rank_and_decide(text, top_k=limit)
        return [{"faq_id": c.faq_id, "question": c.question, "score": round(c.score, 3)} for c in ranking]

    def answer(self, faq_id: str) -> str | None:
        entry = self.knowledge_base().entries.get(faq_id)
        return None if entry is None else entry.answer

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    def _report(self, result: ReloadResult) -> None:
        if self._on_reload is not None:
            self._on_reload(result)

    def _start_watching(self, kb: KnowledgeBase) -> None:
        try:
            self.watcher = FaqWatcher(kb.settings.faq_dir, self.reload).start()
        except OSError:  # e.g. no inotify instances left: reload then only through the editors' button
            log.exception("cannot watch %s for FAQ changes", kb.settings.faq_dir)
