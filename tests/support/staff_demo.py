"""Conversations for looking at every staff page: each state, handoff reason, sender and channel, a bot answer
in Markdown, times today, on another day and in another year, unanswered questions of both kinds, a learned
training pair and a suggestion.

Written with the analytics seed's `Script` (what the gateway would have stored), so the pages read it as real data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.analytics.seed import FEEDBACK_BUTTONS, Script, demo_agent
from bot.conversation import unanswered
from bot.db import get_session
from bot.models import (
    Contact,
    ContactIdentifier,
    Conversation,
    ConversationNote,
    Direction,
    LearnedPair,
    NoteKind,
    PairSource,
    PairStatus,
    Sender,
    State,
    UnansweredQuestion,
)
from common.labels import HANDOFF_REASONS, handoff_headline
from tests.conftest import SMALL_KB, write

MARKDOWN_ANSWER = (
    "Wir liefern in **2–3 Werktagen**. Den Stand sehen Sie unter "
    "[Sendung verfolgen](https://shop.example/verfolgen)."
)
"""A bot answer as the FAQ writes it: bold and a link (staff must see them rendered, not as source)."""
CUSTOMER_EMAIL = "eva@example.com"
TRY_QUESTION = "Was kostet der Versand?"  # the fake embedder answers it with versand-kosten: a clear match
TRY_ANSWER = "Der **Versand kostet 4,95 €**, ab 50 € ist er kostenlos: [Versand](https://shop.example/versand)."
"""versand-kosten's answer in `markdown_faq`: bold and a link for the try-it box."""


def markdown_faq(folder: Path) -> Path:
    """The tests' small FAQ (tests/conftest.py) in `folder`, the answer to TRY_QUESTION in Markdown."""
    plain = "answer: Der Versand kostet 4,95 €, ab 50 € ist er kostenlos."
    assert plain in SMALL_KB
    write(folder / "versand.yml", SMALL_KB.replace(plain, f"answer: '{TRY_ANSWER}'"))
    return folder


@dataclass(frozen=True)
class StaffDemo:
    conversation_ids: list[int]
    contact_id: int
    answered_id: int
    """The web conversation whose bot answer is `MARKDOWN_ANSWER` (waiting for an agent)."""


def seed(app: Flask, now: datetime) -> StaffDemo:
    """One customer with a conversation per handoff reason across all channels and states (the newest today, one a
    few days ago, one last year), a conversation only with the bot, and two unanswered questions."""
    reasons = list(HANDOFF_REASONS)  # requested, low_confidence, repeated_failure, frustration, bot_unavailable
    channels = ["web", "messenger", "sms"]
    starts = [now - timedelta(days=400), now - timedelta(days=3), *[now - timedelta(minutes=50 - 5 * i)
                                                                    for i in range(len(reasons) - 1)]]
    with app.app_context():
        session = get_session()
        agent = demo_agent(session, "anna.demo@auskunft.local", "Anna")
        contact = Contact(email=CUSTOMER_EMAIL)
        contact.identifiers.append(ContactIdentifier(kind="email", value=CUSTOMER_EMAIL, source="widget"))
        session.add(contact)
        session.flush()
        ids = []
        answered_id = 0
        for i, reason in enumerate(reasons):
            script = Script(session, channels[i % len(channels)], starts[i])
            script.conversation.contact = contact
            question = script.customer("Wann kommt mein Paket?", after=0, payload={"decision": {
                "type": "decision", "action": "answer", "question": "Wann kommt mein Paket?",
                "faq_id": "versand-lieferzeit", "confidence": 0.81, "reason": "clear match", "candidates": []}})
            script.bot(MARKDOWN_ANSWER, payload={"faq_id": "versand-lieferzeit"})
            script.bot("Hat Ihnen das geholfen?", 0, {"buttons": FEEDBACK_BUTTONS})
            script.customer("Nein", payload={"intent": "/feedback_not_helpful"})
            script.handoff(reason)
            script.conversation.handoff = {
                "reason": reason,
                # the first two as stored before summaries were German: the page must still show words
                "summary": f"Übergabe: {reason}." if i < 2 else handoff_headline(reason),
                "candidates": [{"faq_id": "versand-lieferzeit", "question": "Wie lange dauert die Lieferung?",
                                "score": 0.61}],
                "last_question": question.text,
            }
            if i % 3 == 1:  # with an agent, who answered (and noted something, and handed it on once)
                script.take(agent)
                script.agent_reply(agent, "Guten Tag, ich schaue nach.")
                for kind, text in ((NoteKind.NOTE, "Rückruf vereinbart"), (NoteKind.TRANSFER, "An Anna übergeben")):
                    session.add(ConversationNote(conversation_id=script.conversation.id, author=agent, kind=kind,
                                                 text=text, created_at=now))
            elif i % 3 == 2 and i != len(reasons) - 1:
                script.take(agent)
                script.close()
            else:
                answered_id = answered_id or script.conversation.id
            ids.append(script.conversation.id)
        only_bot = Script(session, "web", now - timedelta(minutes=5))
        only_bot.conversation.contact = contact
        only_bot.ask("Was kostet der Versand?", "chosen", "versand-kosten")
        ids.append(only_bot.conversation.id)
        asked = ((unanswered.LOW_CONFIDENCE, "Kann ich in Raten zahlen?"), (unanswered.NOT_HELPFUL, "Porto?"))
        for kind, text in asked:
            session.add(UnansweredQuestion(conversation_id=ids[0], text=text, kind=kind,
                                           faq_id="versand-kosten", score=0.5, channel="web", created_at=now))
        for source, decided in ((PairSource.AGENT_REPLY, None), (PairSource.FAQ_BUTTON, now)):
            session.add(LearnedPair(question="Was zahle ich fürs Porto?", faq_id="versand-kosten", source=source,
                                    status=PairStatus.CONFIRMED if decided else PairStatus.PENDING,
                                    conversation_id=ids[0], created_at=now, decided_at=decided))
        session.commit()
        states = {c.state for c in contact_conversations(session, contact.id)}
        assert states == {State.BOT, State.WAITING, State.WITH_AGENT, State.CLOSED}, states
        senders = {m.sender for c in contact_conversations(session, contact.id) for m in c.messages}
        assert senders == set(Sender), senders
        assert {m.direction for c in contact_conversations(session, contact.id) for m in c.messages} == set(Direction)
        return StaffDemo(ids, contact.id, answered_id)


def contact_conversations(session: Session, contact_id: int) -> list[Conversation]:
    return list(session.scalars(select(Conversation).where(Conversation.contact_id == contact_id)))
