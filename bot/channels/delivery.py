"""The outbox: every bot, agent and system message for a Messenger or SMS customer is stored `pending` first
(`conversations.add_message`), then pushed by one background thread, in order per conversation.

A provider that fails or times out is retried with exponential backoff; after the last attempt the message
stays `failed`, visible to agents in the inbox, who can send it again. Nothing is lost: the message is in the
database before any send. The thread wakes on every hub notification (a new message anywhere) and when the
next retry is due. Whoever sends a message first claims it (`claim`: `sending` with a lease, one conditional
UPDATE), so two gateway processes' outboxes, or an outbox and an SMS webhook answering in TwiML, never both send it;
another process's message in flight holds back the conversation's later ones, so order holds across processes.
A claim whose lease ran out (its process crashed mid-send) is taken over by any outbox; none is taken earlier.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.background import BackgroundThread
from bot.channels.base import Channel, DeliveryError
from bot.channels.holds import Holds, LocalHolds
from bot.hub import Hub
from bot.models import Conversation, DeliveryStatus, Message, aware, now

log = logging.getLogger("auskunft.delivery")
MAX_WAIT_SECONDS = 30.0
LEASE_SECONDS = 60.0
IN_FLIGHT_RECHECK_SECONDS = 0.5
"""Another process is sending a conversation's earlier message: look again this soon (its success notifies too)."""


class Outbox(BackgroundThread):
    thread_name = "auskunft-outbox"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: dict[str, Channel],
        hub: Hub,
        max_attempts: int = 6,
        backoff_seconds: float = 2.0,
        clock: Callable[[], datetime] = now,
        lease_seconds: float = LEASE_SECONDS,
        holds: Holds | None = None,
    ) -> None:
        self.sessions = sessions
        self.channels = channels
        self.hub = hub
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.identity = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        super().__init__()
        self.holds: Holds = holds or LocalHolds()
        self._soon: deque[Callable[[], None]] = deque()

    def _interrupt(self) -> None:
        self._wake.set()

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
                select(Message)
                .where(Message.delivery_status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]))
                .order_by(Message.id)
            ).all()
            by_conversation: dict[int, list[Message]] = {}
            for message in pending:
                by_conversation.setdefault(message.conversation_id, []).append(message)
            waits = [self._deliver(session, messages) for messages in by_conversation.values()]
        due = [w for w in waits if w is not None]
        return min(due) if due else None

    def _deliver(self, session: Session, messages: list[Message]) -> float | None:
        """One conversation's pending (and in-flight) messages, oldest first; stops at one that is not due yet or
        that another sender has in flight, so a later message never overtakes an earlier one (one that failed for
        good no longer holds the others back)."""
        conversation = session.get(Conversation, messages[0].conversation_id)
        assert conversation is not None
        for message in messages:
            if self.is_held(conversation):  # an SMS webhook is answering in its TwiML response right now
                return 0.2
            session.refresh(message)
            moment = self.clock()
            if message.delivery_status == DeliveryStatus.SENDING:
                if message.claimed_until is not None and aware(message.claimed_until) > moment:
                    return IN_FLIGHT_RECHECK_SECONDS  # another sender has it: ours come after it
            elif message.delivery_status != DeliveryStatus.PENDING:
                continue
            if message.next_attempt_at is not None and aware(message.next_attempt_at) > moment:
                return (aware(message.next_attempt_at) - moment).total_seconds()
            if not claim(session, message, self.identity, self.lease_seconds, moment):
                return 0.2  # another sender took it this instant: ours wait until it is through
            if not self._attempt(session, conversation, message) and message.delivery_status != DeliveryStatus.FAILED:
                return self._after(message)
        return None

    def is_held(self, conversation: Conversation) -> bool:
        return self.holds.is_held(conversation.channel, conversation.channel_address)

    @contextmanager
    def hold(self, channel: str, address: str) -> Iterator[None]:
        """While a webhook answers in its own response (TwiML), every outbox leaves that address alone; the
        webhook takes the pending messages itself. Whatever it leaves is sent afterwards."""
        try:
            with self.holds.hold(channel, address):
                yield
        finally:
            self.wake()

    def _after(self, message: Message) -> float:
        return max(0.0, (aware(message.next_attempt_at or self.clock()) - self.clock()).total_seconds())

    def _attempt(self, session: Session, conversation: Conversation, message: Message) -> bool:
        """Send a message this outbox has claimed; False when it failed (recorded, retried or given up)."""
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
            message.claimed_until = None
            session.commit()
            self.hub.notify(message.conversation_id)  # another process's outbox may hold this conversation's next
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
        message.claimed_until = None
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


def claimable(moment: datetime) -> ColumnElement[bool]:
    """Pending, or `sending` under a lease that has run out (or none: claimed by a gateway before leases)."""
    return or_(
        Message.delivery_status == DeliveryStatus.PENDING,
        and_(
            Message.delivery_status == DeliveryStatus.SENDING,
            or_(Message.claimed_until.is_(None), Message.claimed_until < moment),
        ),
    )


def claim(
    session: Session,
    message: Message,
    by: str = "",
    lease_seconds: float = LEASE_SECONDS,
    moment: datetime | None = None,
) -> bool:
    """Take a message for sending (`sending` until `moment` + lease, committed); False if another sender was first.

    One conditional UPDATE decides; on PostgreSQL the row is first locked with SKIP LOCKED, so a sender never
    waits on a row another is claiming this instant (it is theirs anyway).
    """
    moment = (moment or now()).astimezone(UTC)  # SQLite compares the stored UTC text
    condition = and_(Message.id == message.id, claimable(moment))
    locking = session.get_bind().dialect.name == "postgresql"
    if locking and session.scalar(select(Message.id).where(condition).with_for_update(skip_locked=True)) is None:
        session.rollback()
        session.refresh(message)
        return False
    taken = session.execute(
        update(Message)
        .where(condition)
        .values(
            delivery_status=DeliveryStatus.SENDING,
            claimed_until=moment + timedelta(seconds=lease_seconds),
            claimed_by=by[:64] or None,
        )
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
