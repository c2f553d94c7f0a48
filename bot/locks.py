"""Named locks that keep one customer's messages in order: per conversation (`bot.conversation.receive`) and per
provider address (`bot.channels.inbound`).

`LocalLocks` serialise the threads of one process. With Redis configured (several gateway processes or machines),
`RedisLocks` serialise them all: a Redis lock with a lease, renewed by a keeper thread for as long as its holder
runs (Rasa may think for a while), so a crashed holder's lock frees itself after `lease` seconds. Whoever waits
holds no database connection (callers end their read first). Redis unreachable: the process's own lock instead,
so one process keeps its order and the gateway keeps answering.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from typing import Protocol

import redis
from redis.lock import Lock as RedisLock

log = logging.getLogger("auskunft.locks")
LEASE_SECONDS = 30.0
POLL_SECONDS = 0.02
"""How often a waiter asks Redis whether the lock is free (Redis locks are not queued)."""


class NamedLock(Protocol):
    def acquire(self, blocking: bool = True) -> bool: ...

    def release(self) -> None: ...

    def __enter__(self) -> object: ...

    def __exit__(self, *exc: object) -> None: ...


class Locks(Protocol):
    def lock(self, name: str) -> NamedLock: ...


class LocalLocks:
    """One threading lock per name, for the threads of this process."""

    def __init__(self) -> None:
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    def lock(self, name: str) -> threading.Lock:
        with self._guard:
            return self._locks[name]


class RedisLocks:
    """Locks shared by every process using this Redis database; each `lock()` is one holder's handle."""

    def __init__(self, client: redis.Redis, lease: float = LEASE_SECONDS) -> None:
        self.client = client
        self.lease = lease
        self.fallback = LocalLocks()
        self._held: set[RedisLock] = set()
        self._held_guard = threading.Lock()
        self._keeper: threading.Thread | None = None

    def lock(self, name: str) -> LeasedLock:
        return LeasedLock(self, name)

    def keep(self, lock: RedisLock) -> None:
        with self._held_guard:
            self._held.add(lock)
            if self._keeper is None:
                self._keeper = threading.Thread(target=self._renew, name="auskunft-lock-keeper", daemon=True)
                self._keeper.start()

    def let_go(self, lock: RedisLock) -> None:
        with self._held_guard:
            self._held.discard(lock)

    def _renew(self) -> None:
        """Every third of the lease, each held lock's lease starts again (its holder is alive and working)."""
        while True:
            time.sleep(self.lease / 3)
            with self._held_guard:
                held = list(self._held)
            for lock in held:
                try:
                    lock.reacquire()
                except redis.RedisError as error:
                    log.warning("lease of %s not renewed: %s", lock.name, error)


class LeasedLock:
    """`acquire`/`release` and `with`, as a threading lock."""

    def __init__(self, locks: RedisLocks, name: str) -> None:
        self.locks = locks
        self.name = name
        self._redis: RedisLock | None = None
        self._local: threading.Lock | None = None

    def acquire(self, blocking: bool = True) -> bool:
        lock = self.locks.client.lock(
            f"auskunft:lock:{self.name}", timeout=self.locks.lease, sleep=POLL_SECONDS, thread_local=False
        )
        try:
            taken = lock.acquire(blocking=blocking)
        except redis.RedisError as error:
            log.warning("Redis unreachable, %s locked in this process only: %s", self.name, error)
            self._local = self.locks.fallback.lock(self.name)
            return self._local.acquire(blocking)
        if taken:
            self._redis = lock
            self.locks.keep(lock)
        return bool(taken)

    def release(self) -> None:
        if self._local is not None:
            self._local, local = None, self._local
            local.release()
            return
        if self._redis is None:
            raise RuntimeError(f"{self.name} is not held")
        self._redis, lock = None, self._redis
        self.locks.let_go(lock)
        try:
            lock.release()
        except redis.RedisError as error:  # the lease ran out: someone else has it
            log.warning("lock %s was lost before its release: %s", self.name, error)

    def __enter__(self) -> LeasedLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
