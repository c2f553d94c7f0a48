"""The editors' list of questions the bot could not answer: captured by the gateway, masked, grouped, marked.

A question lands here when the knowledge base handed it off for low confidence, or when the customer said
"Nein" to its answer ("Nichts davon" to its clarification). The text is masked (bot.pii) before it is
stored; the transcript itself keeps what the customer wrote.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.conversation.question_clusters import MAX_DISTANCE, QuestionEmbeddings, group
from bot.models import Conversation, Direction, Message, UnansweredQuestion, UnansweredStatus, aware, now
from common import pii
from knowledge_base.embedding import TextEmbedder

LOW_CONFIDENCE = "low_confidence"
NOT_HELPFUL = "not_helpful"
NOT_ANSWERED_INTENTS = {
    "/feedback_not_helpful": ("answer", "chosen"),  # "Nein" refers to the last answer
    "/none_of_these": ("clarify",),  # "Nichts davon" refers to the last "Meinten Sie …?"
}
LOOK_BACK = 30
"""Customer messages searched for the question a "Nein" refers to."""
EXAMPLES = 3
MAX_LISTED = 2000
"""Questions grouped per page view, newest first: clustering is quadratic (2000 questions: 0.5 s on 2 cores)."""


def capture(session: Session, conversation: Conversation, message: Message) -> UnansweredQuestion | None:
    """Record `message` (or the question it says "Nein" to) if the bot did not answer it; the caller commits.

    Called after the bot's replies to `message` are stored, so its `payload["decision"]` is there.
    """
    payload = message.payload or {}
    if (wanted := NOT_ANSWERED_INTENTS.get(str(payload.get("intent")))) is not None:
        question = _last_decided_question(session, conversation, message.id)
        if question is not None and question.payload["decision"].get("action") in wanted:
            return _record(session, conversation, question, NOT_HELPFUL)
        return None
    decision = payload.get("decision")
    if isinstance(decision, dict) and decision.get("action") == "handoff":
        return _record(session, conversation, message, LOW_CONFIDENCE)
    return None


def _last_decided_question(session: Session, conversation: Conversation, before: int) -> Message | None:
    recent = session.scalars(
        select(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.direction == Direction.INCOMING,
            Message.id < before,
        )
        .order_by(Message.id.desc())
        .limit(LOOK_BACK)
    )
    return next((m for m in recent if isinstance((m.payload or {}).get("decision"), dict)), None)


def _record(session: Session, conversation: Conversation, question: Message, kind: str) -> UnansweredQuestion | None:
    existing = session.scalar(select(UnansweredQuestion).where(UnansweredQuestion.message_id == question.id))
    if existing is not None:
        return existing  # "Nein" pressed twice, or handed off and then "Nein": one entry per question
    decision: dict[str, Any] = question.payload["decision"]
    # a "Meinten Sie" choice is stored with the button's title; the customer's own words are the question
    text = pii.mask(str(decision.get("question") or question.text)).strip()
    if not text:
        return None
    faq_id, score = _candidate(decision)
    entry = UnansweredQuestion(
        conversation_id=conversation.id,
        message_id=question.id,
        text=text,
        kind=kind,
        faq_id=faq_id,
        score=score,
        channel=conversation.channel,
        status=UnansweredStatus.OPEN,
        created_at=now(),
    )
    session.add(entry)
    session.flush()
    return entry


def _candidate(decision: dict[str, Any]) -> tuple[str | None, float | None]:
    """The entry the bot answered with, else its best candidate, with the score."""
    candidates = [c for c in decision.get("candidates") or [] if isinstance(c, dict)]
    if decision.get("action") in ("answer", "chosen") and decision.get("faq_id"):
        score = next((c.get("score") for c in candidates if c.get("faq_id") == decision["faq_id"]), None)
        return str(decision["faq_id"]), _float(decision.get("confidence") if score is None else score)
    if candidates:
        return candidates[0].get("faq_id"), _float(candidates[0].get("score"))
    return None, None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


# --- the editors' view -----------------------------------------------------------------------------


@dataclass
class Cluster:
    """Questions that ask the same thing, newest first."""

    questions: list[UnansweredQuestion]

    @property
    def ids(self) -> list[int]:
        return [q.id for q in self.questions]

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def newest(self) -> datetime:
        return aware(self.questions[0].created_at)

    @property
    def examples(self) -> list[str]:
        """Up to three different wordings, newest first."""
        seen: dict[str, str] = {}
        for question in self.questions:
            seen.setdefault(" ".join(question.text.lower().split()), question.text)
        return list(seen.values())[:EXAMPLES]

    @property
    def candidate(self) -> tuple[str | None, float | None]:
        """The entry the bot most often had in mind, and its best score for these questions."""
        counts = Counter(q.faq_id for q in self.questions if q.faq_id)
        if not counts:
            return None, None
        faq_id = counts.most_common(1)[0][0]
        scores = [q.score for q in self.questions if q.faq_id == faq_id and q.score is not None]
        return faq_id, max(scores) if scores else None

    @property
    def kinds(self) -> Counter[str]:
        return Counter(q.kind for q in self.questions)

    @property
    def status(self) -> str:
        return self.questions[0].status


def questions(session: Session, status: str | None = UnansweredStatus.OPEN) -> list[UnansweredQuestion]:
    """The newest `MAX_LISTED` questions with `status` (None: any)."""
    query = (
        select(UnansweredQuestion)
        .order_by(UnansweredQuestion.created_at.desc(), UnansweredQuestion.id.desc())
        .limit(MAX_LISTED)
    )
    if status:
        query = query.where(UnansweredQuestion.status == status)
    return list(session.scalars(query))


def clusters(
    session: Session,
    embedder: TextEmbedder,
    embeddings: QuestionEmbeddings,
    status: str | None = UnansweredStatus.OPEN,
    max_distance: float = MAX_DISTANCE,
) -> list[Cluster]:
    """The questions with `status` (None: all) grouped by meaning, the cluster with the newest question first.

    Marked questions are grouped separately by their mark, so a marked cluster never absorbs open ones.
    """
    found = questions(session, status)
    by_status: dict[str, list[UnansweredQuestion]] = {}
    for question in found:
        by_status.setdefault(question.status, []).append(question)
    result: list[Cluster] = []
    for members in by_status.values():
        texts = [q.text for q in members]
        vectors = embeddings.embed(embedder, texts)
        result.extend(Cluster([members[i] for i in indexes]) for indexes in group(texts, vectors, max_distance))
    return sorted(result, key=lambda c: (c.newest, c.questions[0].id), reverse=True)


def sources(session: Session, ids: list[int], wordings: list[str]) -> dict[str, int | None]:
    """Each wording with the conversation of the question `ids` it was taken from (None: the editor's own)."""
    rows = session.execute(
        select(UnansweredQuestion.text, UnansweredQuestion.conversation_id).where(UnansweredQuestion.id.in_(ids))
    )
    by_text = {" ".join(text.split()): conversation_id for text, conversation_id in rows}
    return {wording: by_text.get(" ".join(wording.split())) for wording in wordings}


def mark(
    session: Session,
    ids: list[int],
    status: UnansweredStatus,
    agent_id: int | None,
    faq_id: str | None = None,
) -> int:
    """Give the questions `ids` an editor's mark; the number changed. The caller commits."""
    result = session.execute(
        update(UnansweredQuestion)
        .where(UnansweredQuestion.id.in_(ids))
        .values(status=status, resolved_faq_id=faq_id, resolved_by_id=agent_id, resolved_at=now())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
