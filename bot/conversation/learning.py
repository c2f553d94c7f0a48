"""Learning from the service: questions the customer service answered become training pairs for the next `train`.

- An agent's one-click FAQ answer (inbox `send_faq`): the customer's question(s) before it and the chosen entry
  are an explicit pair, confirmed at once.
- An agent's own reply that is (nearly) an FAQ answer: the same pair, but only a suggestion — an editor
  confirms or rejects it on /admin/learning/ (the agent may have answered something else in the same words).
- A wording an editor adds to an entry from the unanswered list is already an alternative in the FAQ files,
  which `train` reads; it is recorded here only so the editors' page can count it.

Questions are masked before they are stored (common.pii: e-mail, phone, IBAN, order number; and the contact's
own name): they become training data that outlives the conversation. The confirmed inbox pairs are written to
the knowledge base's file (knowledge_base/learned_pairs.py) after every change, the customer's erasure
included, so `train` never sees a pair whose customer was deleted.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.models import (
    Conversation,
    Direction,
    LearnedPair,
    Message,
    Outcome,
    PairSource,
    PairStatus,
    Sender,
    now,
)
from common import pii
from knowledge_base import learned_pairs
from knowledge_base.authoring.faq_files import files_digest, load_faqs
from knowledge_base.settings import Settings as KbSettings
from knowledge_base.training import MARKER

log = logging.getLogger("auskunft.learning")

QUESTIONS_BEFORE = 3
"""Customer messages before an answer taken as its question (joined): "Wo bleibt mein Paket?" + "LG-123456"."""
LOOK_BACK = 30
"""Messages searched back from the answer for them."""
MAX_QUESTION_CHARS = 500
MIN_ANSWER_CHARS = 20
"""Shorter FAQ answers ("Ja.") match too many replies to say which entry the agent meant."""
ANSWER_COVERED = 0.8
"""Share of the FAQ answer's characters an agent's reply must contain, in order, to suggest a pair."""
REPLY_COVERED = 0.5
"""Share of the reply that must be that answer: a greeting around it is fine, a different letter is not."""
NAME = "[NAME]"
EXPORTED_SOURCES = (PairSource.FAQ_BUTTON, PairSource.AGENT_REPLY)
"""The unanswered list's wordings are alternatives in the FAQ files already: `train` reads them there."""


# --- capture ------------------------------------------------------------------------------------------------


def record_faq_answer(
    session: Session, conversation: Conversation, answer: Message, faq_id: str, agent_id: int | None
) -> LearnedPair | None:
    """The agent chose `faq_id` for the customer's last question(s): a confirmed pair. The caller commits."""
    return _record(session, conversation, answer, faq_id, agent_id, PairSource.FAQ_BUTTON, PairStatus.CONFIRMED)


def suggest_from_reply(
    session: Session, conversation: Conversation, reply: Message, answers: Mapping[str, str], agent_id: int | None
) -> LearnedPair | None:
    """An agent's own reply that is one of `answers` (faq_id → answer): a pending pair. The caller commits."""
    faq_id = matching_answer(reply.text, answers)
    if faq_id is None:
        return None
    return _record(session, conversation, reply, faq_id, agent_id, PairSource.AGENT_REPLY, PairStatus.PENDING)


def record_wordings(
    session: Session, faq_id: str, wordings: list[str], conversation_id: int | None, agent_id: int | None
) -> list[LearnedPair]:
    """Wordings an editor added to `faq_id` from the unanswered list (already masked there). The caller commits."""
    pairs = [
        LearnedPair(
            question=wording, faq_id=faq_id, source=PairSource.UNANSWERED, status=PairStatus.CONFIRMED,
            conversation_id=conversation_id, agent_id=agent_id, decided_by_id=agent_id, decided_at=now(),
            created_at=now(),
        )
        for wording in wordings
    ]
    session.add_all(pairs)
    session.flush()
    return pairs


def _record(
    session: Session,
    conversation: Conversation,
    answer: Message,
    faq_id: str,
    agent_id: int | None,
    source: PairSource,
    status: PairStatus,
) -> LearnedPair | None:
    question = question_before(session, conversation, answer.id)
    if question is None:
        return None
    confirmed = status == PairStatus.CONFIRMED
    pair = LearnedPair(
        question=question,
        faq_id=faq_id,
        source=source,
        status=status,
        conversation_id=conversation.id,
        message_id=answer.id,
        agent_id=agent_id,
        decided_by_id=agent_id if confirmed else None,
        decided_at=now() if confirmed else None,
        created_at=now(),
    )
    session.add(pair)
    session.flush()
    return pair


def question_before(session: Session, conversation: Conversation, before: int) -> str | None:
    """The customer's words an answer replied to, masked: their messages since the previous agent message
    (up to `QUESTIONS_BEFORE`), oldest first; None when there are none."""
    recent = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.id < before)
        .order_by(Message.id.desc())
        .limit(LOOK_BACK)
    )
    texts: list[str] = []
    for message in recent:
        if message.direction == Direction.INCOMING and message.sender == Sender.CONTACT:
            if words := _customer_words(message):
                texts.append(words)
            if len(texts) == QUESTIONS_BEFORE:
                break
        elif message.sender == Sender.AGENT and message.direction == Direction.OUTGOING and texts:
            break  # an earlier answer: what came before it was answered there
    question = pseudonymise(" ".join(reversed(texts)), conversation.contact.name)[:MAX_QUESTION_CHARS].strip()
    return question or None


def _customer_words(message: Message) -> str:
    """What the customer asked: a question the knowledge base decided on (a "Meinten Sie" choice carries the
    question it chose for), or a message a person was to answer. Not what the bot answered without asking the
    knowledge base — a greeting, "Ich möchte einen Menschen", a button — which says nothing about the entry."""
    payload: dict[str, Any] = message.payload or {}
    decision = payload.get("decision")
    if isinstance(decision, dict) and decision.get("question"):
        return " ".join(str(decision["question"]).split())
    if str(payload.get("intent", "")).startswith("/") or message.outcome == Outcome.ANSWERED:
        return ""
    return " ".join(message.text.split())


def pseudonymise(text: str, name: str | None = None) -> str:
    """`text` with personal data masked (common.pii) and each word of the customer's `name` replaced."""
    text = pii.mask(text)
    for word in sorted({w for w in re.split(r"[\s,]+", name or "") if len(w) > 1}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", NAME, text, flags=re.IGNORECASE)
    return text


def _plain(text: str) -> str:
    """Answer text without Markdown marks, lower case, single spaces: what an agent would paste or retype."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[*_`#>|]", " ", text)
    return " ".join(text.lower().split())


def matching_answer(reply: str, answers: Mapping[str, str]) -> str | None:
    """The entry whose answer `reply` (nearly) is — covered in order, allowing edits and a greeting around it."""
    said = _plain(reply)
    said_words = set(said.split())
    best: tuple[float, str] | None = None
    for faq_id, answer in answers.items():
        wanted = _plain(answer)
        if len(wanted) < MIN_ANSWER_CHARS:
            continue
        words = set(wanted.split())
        if len(words & said_words) < ANSWER_COVERED * len(words):
            continue  # cheap test first: most answers share few words with the reply
        matcher = SequenceMatcher(None, wanted, said, autojunk=False)
        common = sum(block.size for block in matcher.get_matching_blocks())
        if common >= ANSWER_COVERED * len(wanted) and common >= REPLY_COVERED * len(said):
            share = common / len(wanted)
            if best is None or share > best[0]:
                best = (share, faq_id)
    return best[1] if best else None


def file_answers(faq_dir: Path) -> dict[str, str]:
    """faq_id → answer, read from the FAQ files (no model): for a reply while the gateway's knowledge base is
    not loaded. Parsed again only when the files changed."""
    return _file_answers(faq_dir, files_digest(faq_dir))


@lru_cache(maxsize=4)
def _file_answers(faq_dir: Path, _digest: str) -> dict[str, str]:
    return {located.entry.id: located.entry.answer for located in load_faqs(faq_dir).entries}


def trained_at(model: str) -> datetime | None:
    """When the served model folder `model` was fine-tuned (its `training.json`); None for the base model."""
    try:
        info = json.loads((Path(model) / MARKER).read_text())
        return datetime.fromtimestamp(float(info["completed_at"]), UTC)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def pairs_file(config: Mapping[str, Any]) -> Path:
    """Where the gateway writes the confirmed pairs: `LEARNED_PAIRS_FILE` in the app's config (tests), else the
    knowledge base's setting, which `train` reads (`AUSKUNFT_LEARNED_PAIRS_FILE`, default var/)."""
    return Path(config.get("LEARNED_PAIRS_FILE") or KbSettings().learned_pairs_path)


# --- editors ------------------------------------------------------------------------------------------------


def pending(session: Session, limit: int = 200) -> list[LearnedPair]:
    """Suggestions waiting for an editor, oldest first (they came first, and the list stays stable)."""
    return list(
        session.scalars(
            select(LearnedPair).where(LearnedPair.status == PairStatus.PENDING).order_by(LearnedPair.id).limit(limit)
        )
    )


def decide(session: Session, ids: list[int], confirm: bool, agent_id: int | None) -> int:
    """Confirm (`Übernehmen`) or reject (`Verwerfen`) pending pairs; the number changed. The caller commits."""
    result = session.execute(
        update(LearnedPair)
        .where(LearnedPair.id.in_(ids), LearnedPair.status == PairStatus.PENDING)
        .values(
            status=PairStatus.CONFIRMED if confirm else PairStatus.REJECTED, decided_by_id=agent_id, decided_at=now()
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class Summary:
    pending: int
    """Suggestions an editor has not decided yet."""
    new: int
    """Confirmed since the served model was trained (all, while the base model serves): the next `train`'s."""
    confirmed: int


def summary(session: Session, trained_at: datetime | None) -> Summary:
    def count(*conditions: Any) -> int:
        return int(session.scalar(select(func.count(LearnedPair.id)).where(*conditions)) or 0)

    confirmed = LearnedPair.status == PairStatus.CONFIRMED
    newer = [LearnedPair.decided_at > trained_at] if trained_at is not None else []
    return Summary(
        pending=count(LearnedPair.status == PairStatus.PENDING),
        new=count(confirmed, *newer),
        confirmed=count(confirmed),
    )


def export(session: Session, path: Path) -> int:
    """Write the confirmed inbox pairs to the knowledge base's file (replacing it); the number of pairs."""
    rows = session.execute(
        select(LearnedPair.question, LearnedPair.faq_id).where(
            LearnedPair.status == PairStatus.CONFIRMED, LearnedPair.source.in_(EXPORTED_SOURCES)
        )
    )
    return learned_pairs.write(path, [(question, faq_id) for question, faq_id in rows])


def export_quietly(session: Session, path: Path) -> None:
    """`export`, a failure logged: the request that changed the pairs is done, and the next change writes again."""
    try:
        export(session, path)
    except OSError:
        log.exception("could not write the learned pairs to %s", path)
