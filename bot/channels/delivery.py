"""The outbox: every bot, agent and system message for a Messenger or SMS customer is stored `pending` first
(`conversations.add_message`), then pushed by one background thread, in order per conversation.

A provider that fails or times out is retried with exponential backoff; after the last attempt the message
stays `failed`, visible to agents in the inbox, who can send it again. Nothing is lost: the message is in the
database before any send. The thread wakes on every hub notification (a new message anywhere) and when the
next retry is due. Whoever sends a message first claims it (`claim`: one conditional UPDATE), so the outbox and an
SMS webhook answering in TwiML can never both send it. One gateway process: a message left `sending` by a crash is
pending again at the next start.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Channel, DeliveryError
from bot.hub import Hub
from bot.models import Conversation, DeliveryStatus, Message, aware, now

log = logging.getLogger("auskunft.delivery")
MAX_WAIT_SECONDS = 30.0


class Outbox:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: dict[str, Channel],
        hub: Hub,
        max_attempts: int = 6,
        backoff_seconds: float = 2.0,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self.sessions = sessions
        self.channels = channels
        self.hub = hub
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._soon: deque[Callable[[], None]] = deque()
        self._held: dict[tuple[str, str | None], int] = {}
        self._held_guard = threading.Lock()

    def start(self) -> None:
        with self.sessions() as session:  # claimed before a crash or restart, never confirmed: send again
            session.execute(
                update(Message)
                .where(Message.delivery_status == DeliveryStatus.SENDING)
                .values(delivery_status=DeliveryStatus.PENDING)
            )
            session.commit()
        self._thread = threading.Thread(target=self._run, name="auskunft-outbox", daemon=True)
        self._thread.start()

    def ensure_started(self) -> None:
        """Start the sending thread once (called before every request; cheap after the first)."""
        if self._thread is None and not self._stop.is_set():
            with self._held_guard:
                if self._thread is None:
                    self.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self, _conversation_id: int | None = None) -> None:
        self._wake.set()

    def soon(self, action: Callable[[], None]) -> None:
        """Something transient for the sending thread (Messenger's typing indicator), before the next pass."""
        self._soon.append(action)
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                wait = self.run_once()
            except Exception:  # a locked or vanished database: try again shortly, never die
                log.exception("outbox pass failed")
                wait = 1.0
            self._wake.wait(MAX_WAIT_SECONDS if wait is None else min(wait, MAX_WAIT_SECONDS))

    def run_once(self) -> float | None:
        """Send everything due; seconds until the next retry is due (None: nothing waiting)."""
        while self._soon:
            try:
                self._soon.popleft()()
            except Exception:
                log.exception("outbox action failed")
        with self.sessions() as session:
            pending = session.scalars(
                select(Message).where(Message.delivery_status == DeliveryStatus.PENDING).order_by(Message.id)
            ).all()
            by_conversation: dict[int, list[Message]] = {}
            for message in pending:
                by_conversation.setdefault(message.conversation_id, []).append(message)
            waits = [self._deliver(session, messages) for messages in by_conversation.values()]
        due = [w for w in waits if w is not None]
        return min(due) if due else None

    def _deliver(self, session: Session, messages: list[Message]) -> float | None:
        """One conversation's pending messages, oldest first; stops at one that is not due yet, so a later
        message never overtakes an earlier one (one that failed for good no longer holds the others back)."""
        conversation = session.get(Conversation, messages[0].conversation_id)
        assert conversation is not None
        for message in messages:
            if self.is_held(conversation):  # an SMS webhook is answering in its TwiML response right now
                return 0.2
            session.refresh(message)
            if message.delivery_status != DeliveryStatus.PENDING:
                continue
            moment = self.clock()
            if message.next_attempt_at is not None and aware(message.next_attempt_at) > moment:
                return (aware(message.next_attempt_at) - moment).total_seconds()
            if not self._attempt(session, conversation, message) and message.delivery_status != DeliveryStatus.FAILED:
                return self._after(message)
        return None

    def is_held(self, conversation: Conversation) -> bool:
        with self._held_guard:
            return (conversation.channel, conversation.channel_address) in self._held

    @contextmanager
    def hold(self, channel: str, address: str) -> Iterator[None]:
        """While a webhook answers in its own response (TwiML), the outbox leaves that address alone; the
        webhook takes the pending messages itself. Whatever it leaves is sent afterwards."""
        key = (channel, address)
        with self._held_guard:
            self._held[key] = self._held.get(key, 0) + 1
        try:
            yield
        finally:
            with self._held_guard:
                self._held[key] -= 1
                if not self._held[key]:
                    del self._held[key]
            self.wake()

    def _after(self, message: Message) -> float:
        return max(0.0, (aware(message.next_attempt_at or self.clock()) - self.clock()).total_seconds())

    def _attempt(self, session: Session, conversation: Conversation, message: Message) -> bool:
        if not claim(session, message):
            return True  # an SMS webhook took it into its TwiML response meanwhile
        channel = self.channels.get(conversation.channel)
        try:
            if channel is None:
                raise DeliveryError(f"Kanal {conversation.channel!r} ist nicht eingerichtet")
            if channel.blocked(session, conversation, message):
                message.delivery_status = DeliveryStatus.OPTED_OUT
            else:
                message.provider_message_id = channel.send(session, conversation, message)
                message.delivery_status = DeliveryStatus.SENT
                message.delivery_error = None
                message.next_attempt_at = None
            message.delivery_attempts += 1
            session.commit()
            return True
        except Exception as error:  # DeliveryError, or a bug in rendering: kept and retried, never lost
            session.rollback()
            permanent = isinstance(error, DeliveryError) and error.permanent
            if not isinstance(error, DeliveryError):
                log.exception("sending message %s failed unexpectedly", message.id)
            self.record_failure(session, message, str(error) or type(error).__name__, permanent)
            return False

    def record_failure(self, session: Session, message: Message, error: str, permanent: bool = False) -> None:
        message.delivery_attempts += 1
        message.delivery_error = error[:1000]
        if permanent or message.delivery_attempts >= self.max_attempts:
            message.delivery_status = DeliveryStatus.FAILED
            message.next_attempt_at = None
            log.warning("message %s not delivered after %s attempts: %s", message.id, message.delivery_attempts, error)
        else:
            message.delivery_status = DeliveryStatus.PENDING  # claimed for this attempt: released for the next
            delay = self.backoff_seconds * 2 ** (message.delivery_attempts - 1)
            message.next_attempt_at = self.clock() + timedelta(seconds=delay)
        session.commit()
        self.hub.notify(message.conversation_id)  # the inbox shows the failure (and the outbox wakes: harmless)


def claim(session: Session, message: Message) -> bool:
    """Take a pending message for sending (`sending`, committed); False if another sender was first."""
    taken = session.execute(
        update(Message)
        .where(Message.id == message.id, Message.delivery_status == DeliveryStatus.PENDING)
        .values(delivery_status=DeliveryStatus.SENDING)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    session.refresh(message)
    return taken == 1


def retry(session: Session, message: Message) -> None:
    """An agent sends a failed message again: back to pending, attempts from zero; the caller commits."""
    message.delivery_status = DeliveryStatus.PENDING
    message.delivery_attempts = 0
    message.next_attempt_at = None


def undelivered(limit: int = 20) -> list[Message]:
    """Messages every attempt failed for, newest first: the inbox's queue page lists them for agents."""
    from bot.db import get_session

    return list(
        get_session().scalars(
            select(Message)
            .where(Message.delivery_status == DeliveryStatus.FAILED)
            .order_by(Message.id.desc())
            .limit(limit)
        )
    )
