"""What the bot says for a customer question, from the knowledge base's decision.

Plain data in, plain data out (message dicts for `dispatcher.utter_message`, slot values), so
the dialogue rules around the knowledge base are tested without Rasa.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from common.protocol import CandidateDict, DecisionPayload
from knowledge_base.decision import NO_TEXT, Candidate, Decision
from knowledge_base.engine import KnowledgeBase, ServedState
from knowledge_base.schema import FaqEntry

FOLLOW_UP_MAX_WORDS = 8


@dataclass
class Reply:
    messages: list[dict[str, Any]] = field(default_factory=list)
    """Keyword arguments for `dispatcher.utter_message`, in order."""
    slots: dict[str, Any] = field(default_factory=dict)
    handoff_reason: str | None = None
    """Set when a human must take over; the action then runs the handoff."""
    decision: dict[str, Any] | None = None
    """What the knowledge base decided, for the gateway's analytics (sent as a custom message, not shown)."""


def decision_payload(action: str, question: str, decision: Decision | None = None, faq_id: str | None = None) -> dict:
    """The protocol's decision (common/protocol.py): answer / clarify / handoff / chosen (a "Meinten Sie" button),
    with the scores.

    The gateway stores it with the customer's message; analytics, the editors' unanswered list and the
    entry history read it from there.
    """
    return DecisionPayload(
        action=action,
        question=question,
        faq_id=faq_id if faq_id is not None else (decision.faq_id if decision else None),
        confidence=round(decision.confidence, 3) if decision else None,
        reason=decision.reason if decision else None,
        candidates=candidates_payload(decision.candidates) if decision else [],
    ).to_dict()


def candidates_payload(candidates: list[Candidate]) -> list[CandidateDict]:
    """The knowledge base's candidates as JSON for slots and the handoff payload."""
    return [{"faq_id": c.faq_id, "question": c.question, "score": round(c.score, 3)} for c in candidates]


def choose_faq_payload(faq_id: str) -> str:
    return "/choose_faq" + json.dumps({"faq_id": faq_id}, separators=(",", ":"))


def topic_of(entry: FaqEntry) -> str:
    """What a follow-up question is read with: the entry's first tag ("retoure"), else its question.

    A tag steers the follow-up to the topic; the whole previous question would drag it back to
    the previous answer.
    """
    return entry.tags[0] if entry.tags else entry.question


def answer_reply(entry: FaqEntry, question: str | None, candidates: list[Candidate] | None = None) -> Reply:
    """The entry's Markdown answer followed by the feedback question."""
    return Reply(
        messages=[{"text": entry.answer.strip()}, {"response": "utter_ask_feedback"}],
        slots={
            "last_faq_id": entry.id,
            "topic": topic_of(entry),
            "last_question": question,
            "pending": "feedback",
            "kb_candidates": candidates_payload(candidates or []),
        },
    )


def clarify_reply(decision: Decision, question: str) -> Reply:
    """ "Meinten Sie …?" with one button per candidate and a way out."""
    buttons = [{"title": c.question, "payload": choose_faq_payload(c.faq_id)} for c in decision.candidates]
    buttons.append({"title": "Nichts davon", "payload": "/none_of_these"})
    return Reply(
        messages=[{"text": "Meinten Sie …?", "buttons": buttons}],
        slots={
            "last_question": question,
            "pending": "clarify",
            "kb_candidates": candidates_payload(decision.candidates),
        },
    )


FOLLOW_UP_START = re.compile(r"^\s*(und|aber|also|auch|dann|oder|wie ist es|was ist mit)\b", re.IGNORECASE)
FOLLOW_UP_REFERENCE = re.compile(r"\b(das|dafür|dabei|damit|davon|dazu|dort|dann|es)\b", re.IGNORECASE)
RANK = {"answer": 2, "clarify": 1, "handoff": 0}


def is_follow_up(question: str) -> bool:
    """Short questions that start like a continuation or point back ("und wie lange dauert das?")."""
    if len(question.split()) > FOLLOW_UP_MAX_WORDS:
        return False
    return bool(FOLLOW_UP_START.search(question) or FOLLOW_UP_REFERENCE.search(question))


def decide_with_context(kb: KnowledgeBase | ServedState, question: str, topic: str | None) -> Decision:
    """A follow-up question is read together with the previous topic, unless that makes it worse.

    Other questions are decided alone: a new topic must not be bent towards the old one.
    """
    if not topic or not is_follow_up(question):
        return kb.ask(question)
    with_topic = kb.ask(f"{topic} {question}")
    if with_topic.action == "answer":
        return with_topic
    alone = kb.ask(question)
    return with_topic if RANK[with_topic.action] > RANK[alone.action] else alone


def plan_answer(kb: KnowledgeBase, question: str, topic: str | None, failed_attempts: float) -> Reply:
    """Answer, ask back, ask to rephrase (no text), or hand off (low confidence / repeated failure).

    Everything is read from one snapshot: a live reload in between must not make the decided entry vanish.
    """
    state = kb.snapshot()
    decision = decide_with_context(state, question, topic)
    if decision.reason == NO_TEXT:
        return Reply(messages=[{"response": "utter_rephrase"}], slots={"pending": None})
    if decision.action == "answer":  # decided on this snapshot: its entry is in it
        reply = answer_reply(state.entries[decision.faq_id], question, decision.candidates)
    elif decision.action == "clarify":
        reply = clarify_reply(decision, question)
    else:
        failed = failed_attempts + 1
        reply = Reply(
            slots={"failed_attempts": failed, "kb_candidates": candidates_payload(decision.candidates)},
            handoff_reason="repeated_failure" if failed >= 2 else "low_confidence",
        )
    reply.decision = decision_payload(decision.action, question, decision)
    return reply
