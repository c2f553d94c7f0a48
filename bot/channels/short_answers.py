"""The SMS version of an FAQ answer: the entry's `short_answer`, found through the knowledge base's decision.

The bot sends the long Markdown answer; which entry it came from is in the customer's question
(`payload["decision"]["faq_id"]`, stored by `bot.channel.store_replies`) or, for an answer an agent sent from
the inbox, in the message itself (`payload["faq_id"]`). The FAQ files are read directly (YAML, no model) and
read again when one of them changes.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Direction, Message, Sender
from knowledge_base.authoring.faq_files import faq_paths, load_faqs
from knowledge_base.schema import FaqEntry


class ShortAnswers:
    def __init__(self, faq_dir: Path) -> None:
        self.faq_dir = faq_dir
        self._lock = threading.Lock()
        self._stamp: tuple[tuple[str, float], ...] = ()
        self._entries: dict[str, FaqEntry] = {}

    def entries(self) -> dict[str, FaqEntry]:
        stamp = tuple((str(p), p.stat().st_mtime) for p in faq_paths(self.faq_dir)) if self.faq_dir.exists() else ()
        with self._lock:
            if stamp != self._stamp:
                self._entries = {located.entry.id: located.entry for located in load_faqs(self.faq_dir).entries}
                self._stamp = stamp
            return self._entries

    def entry_for(self, session: Session, message: Message) -> FaqEntry | None:
        """The FAQ entry whose full answer this message is, or None (any other text)."""
        faq_id = (message.payload or {}).get("faq_id")
        if faq_id is None and message.sender == Sender.BOT:
            question = session.scalar(
                select(Message)
                .where(
                    Message.conversation_id == message.conversation_id,
                    Message.direction == Direction.INCOMING,
                    Message.id < message.id,
                )
                .order_by(Message.id.desc())
                .limit(1)
            )
            faq_id = ((question.payload or {}).get("decision") or {}).get("faq_id") if question else None
        entry = self.entries().get(str(faq_id)) if faq_id else None
        if entry is None or entry.answer.strip() != message.text.strip():
            return None
        return entry
