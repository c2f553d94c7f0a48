"""Notifications: who is typing, and "something new in conversation N" for SSE streams and the outbox.

Messages themselves are read from the database, so a stream that missed a notification loses nothing; this only
wakes it early. `Hub` is one process's version; with Redis configured (`AUSKUNFT_REDIS_URL`) `bot.redis_hub`
carries the same notifications to every gateway process (`bot.replicas` chooses).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable

TYPING_SECONDS = 8.0


class Hub:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._versions: defaultdict[int, int] = defaultdict(int)
        self._epoch = 0
        """Added to every version: `wake_all` (a reconnect that may have missed notifications) wakes every stream."""
        self._any = 0
        """Bumped with every conversation: the inbox's list stream waits on it (`wait_any`)."""
        self._typing: dict[tuple[int, str], float] = {}
        self._listeners: list[Callable[[int], None]] = []

    def listen(self, callback: Callable[[int], None]) -> None:
        """Called with the conversation id after every `notify` (the channels' outbox wakes up on it)."""
        self._listeners.append(callback)

    def ensure_started(self) -> None:
        """Nothing to start in one process (the Redis hub starts its subscriber here)."""

    def stop(self) -> None:
        """Nothing to stop in one process."""

    def version(self, conversation_id: int) -> int:
        with self._changed:
            return self._versions[conversation_id] + self._epoch

    def notify(self, conversation_id: int) -> None:
        self._bump(conversation_id)

    def _bump(self, conversation_id: int) -> None:
        """This process's streams and listeners learn that the conversation changed."""
        with self._changed:
            self._versions[conversation_id] += 1
            self._any += 1
            self._changed.notify_all()
        for callback in self._listeners:
            callback(conversation_id)

    def wake_all(self) -> None:
        with self._changed:
            self._epoch += 1
            self._any += 1
            self._changed.notify_all()

    def set_typing(self, conversation_id: int, who: str, typing: bool) -> None:
        """`who` is "bot", "agent" or "contact"; typing expires by itself after a few seconds."""
        with self._changed:
            if typing:
                self._typing[(conversation_id, who)] = time.monotonic() + TYPING_SECONDS
            else:
                self._typing.pop((conversation_id, who), None)
        self.notify(conversation_id)

    def typing(self, conversation_id: int) -> list[str]:
        moment = time.monotonic()
        with self._changed:
            return sorted(
                who for (cid, who), until in self._typing.items() if cid == conversation_id and until > moment
            )

    def wait(self, conversation_id: int, seen: int, timeout: float) -> int:
        """Block until the conversation's version differs from `seen` or time runs out; the version."""
        with self._changed:
            self._changed.wait_for(lambda: self._versions[conversation_id] + self._epoch != seen, timeout)
            return self._versions[conversation_id] + self._epoch

    def any_version(self) -> int:
        """Changes with every notification about any conversation (this process's or, via Redis, another's)."""
        with self._changed:
            return self._any

    def wait_any(self, seen: int, timeout: float) -> int:
        """Block until some conversation changed since `any_version` gave `seen`, or time runs out."""
        with self._changed:
            self._changed.wait_for(lambda: self._any != seen, timeout)
            return self._any
