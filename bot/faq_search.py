"""The knowledge base as the inbox needs it: search by text, fetch an answer. Loaded lazily, once per app."""

from __future__ import annotations

import threading
from typing import Any, Protocol


class FaqSearch(Protocol):
    def search(self, text: str, limit: int = 5) -> list[dict[str, Any]]: ...

    def answer(self, faq_id: str) -> str | None: ...


class KnowledgeBaseSearch:
    """Wraps knowledge_base.engine.KnowledgeBase; the model loads on the first search, not at start-up."""

    def __init__(self, knowledge_base: Any = None) -> None:
        """`knowledge_base`: an engine already built (tests: a temporary FAQ folder, a fixed model)."""
        self._lock = threading.Lock()
        self._kb: Any = knowledge_base

    def _loaded(self) -> Any:
        with self._lock:
            if self._kb is None:
                from knowledge_base.engine import KnowledgeBase

                kb = KnowledgeBase()
                kb.reload()
                self._kb = kb
            return self._kb

    def knowledge_base(self) -> Any:
        """The engine itself: the unanswered-question list embeds with its model and asks it again."""
        return self._loaded()

    def search(self, text: str, limit: int = 5) -> list[dict[str, Any]]:
        ranking, _decision = self._loaded().rank_and_decide(text, top_k=limit)
        return [{"faq_id": c.faq_id, "question": c.question, "score": round(c.score, 3)} for c in ranking]

    def answer(self, faq_id: str) -> str | None:
        entry = self._loaded().entries.get(faq_id)
        return None if entry is None else entry.answer
