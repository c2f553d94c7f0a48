"""Customer messages still owed a bot answer — left by a crash (`pending`) or by a Rasa outage (`notified`) —
answered by one background thread per gateway: at start (recovery) and then every few seconds until Rasa answers.

It never waits for a conversation's lock: a busy lock means a request is handling that conversation, and a
request answers the conversation's owed messages first (`receive.answer_pending`), in order. Asking again is
idempotent toward Rasa: a message Rasa may have seen is looked up in its tracker first (`RasaClient.replies_to`).
Several gateway processes each run one: the conversation's lock is then shared through Redis (`bot.locks`), and
the owed messages are read again under it, so no two ask Rasa about the same message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.background import BackgroundThread
from bot.conversation import receive
from bot.conversation.availability import Availability
from bot.hub import Hub
from bot.integrations.rasa_client import RasaClient
from bot.locks import Locks
from bot.models import PENDING_OUTCOMES, Conversation, Message, Outcome, now

log = logging.getLogger("auskunft.pending")


class Retrier(BackgroundThread):
    thread_name = "auskunft-pending"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        rasa: RasaClient,
        hub: Hub,
        availability: Availability | None = None,
        locks: Locks | None = None,
        clock: Callable[[], datetime] = now,
        interval: float = 5.0,
    ) -> None:
        self.sessions = sessions
        self.rasa = rasa
        self.hub = hub
        self.availability = availability
        self.locks = locks
        self.clock = clock
        self.interval = interval
        super().__init__()


    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a locked or vanished database: try again at the next pass, never die
                log.exception("answering owed messages failed")
            self._stop.wait(self.interval)

    def run_once(self) -> int:
        """One pass over the conversations with owed messages; how many are still owed afterwards."""
        with self.sessions() as session:
            ids = session.scalars(
                select(Message.conversation_id).where(Message.outcome.in_(PENDING_OUTCOMES)).distinct()
            ).all()
        for conversation_id in sorted(ids):
            if not self._answer(conversation_id):
                break  # Rasa is still down: the next pass tries again
        with self.sessions() as session:
            return len(session.scalars(select(Message.id).where(Message.outcome.in_(PENDING_OUTCOMES))).all())

    def _answer(self, conversation_id: int) -> bool:
        """False when Rasa did not answer."""
        lock = receive.lock(conversation_id, self.locks)
        if not lock.acquire(blocking=False):
            return True  # a request has it and answers what is owed
        try:
            with self.sessions() as session:
                conversation = session.get(Conversation, conversation_id)
                if conversation is None:
                    return True
                receive.answer_pending(
                    session, conversation, self.rasa, self.hub, self.availability, self.clock()
                )
                return not session.scalar(
                    select(Message.id).where(
                        Message.conversation_id == conversation_id, Message.outcome == Outcome.NOTIFIED
                    ).limit(1)
                )
        finally:
            lock.release()
