"""The inbox's view of the knowledge base: search by text, fetch an answer (the FAQ box of the agent's inbox).

The knowledge base itself is the app's one `KnowledgeService` (knowledge_base/service.py, placed in the app by
`bot.integrations.kb_reload.gateway_search`); the editors' pages share it. This adds only what the inbox asks.
"""

from __future__ import annotations

from typing import Any, Protocol

from knowledge_base.service import KnowledgeService


class FaqSearch(Protocol):
    """What the inbox needs; tests put a fake into the config as `FAQ_SEARCH`."""

    def search(self, text: str, limit: int = 5) -> list[dict[str, Any]]: ...

    def answer(self, faq_id: str) -> str | None: ...


class KnowledgeBaseSearch(KnowledgeService):
    """The gateway's knowledge service with the inbox's two lookups; loads on first use like any service."""

    def search(self, text: str, limit: int = 5) -> list[dict[str, Any]]:
        ranking, _decision = self.knowledge_base().rank_and_decide(text, top_k=limit)
        return [{"faq_id": c.faq_id, "question": c.question, "score": round(c.score, 3)} for c in ranking]

    def answer(self, faq_id: str) -> str | None:
        entry = self.knowledge_base().entries.get(faq_id)
        return None if entry is None else entry.answer

    def answers(self) -> dict[str, str]:
        """Every entry's answer: an agent's own reply is compared with them (bot.conversation.learning)."""
        return {faq_id: entry.answer for faq_id, entry in self.knowledge_base().entries.items()}
