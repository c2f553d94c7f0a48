"""One change to the FAQ files at a time — in this process, and across replicas when Redis is configured.

Every write (adding alternatives, the in-browser editor) reads a file, changes it and writes it back; two
writers interleaving would lose one change. Within a process a `threading.Lock` orders them; several gateways on
one shared FAQ folder also take a Redis lock (redis-py `Lock`) with a lease, so a replica that dies while holding
it blocks the others for at most `LEASE_SECONDS`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import redis

LOCK_NAME = "auskunft:kb:faq-write"
LEASE_SECONDS = 60.0
"""Longer than any write (read, change, lint the folder, maybe revert: about a second on the demo FAQ)."""
WAIT_SECONDS = 30.0
"""How long a writer waits for another replica's write before giving up (`FaqsBusy`)."""

_in_process = threading.Lock()


class FaqsBusy(RuntimeError):
    """Another replica holds the write lock too long, or Redis is unreachable: nothing was written."""


@contextmanager
def faq_writing(redis_url: str = "", wait: float = WAIT_SECONDS) -> Iterator[None]:
    """Hold the FAQ write lock: this process's always, the replicas' one in Redis when `redis_url` is set."""
    with _in_process:
        if not redis_url:
            yield
            return
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=5)
        lock = client.lock(LOCK_NAME, timeout=LEASE_SECONDS, blocking_timeout=wait, thread_local=False)
        try:
            acquired = lock.acquire()
        except redis.RedisError as error:
            client.close()
            raise FaqsBusy(f"cannot take the FAQ write lock in Redis: {error}") from error
        if not acquired:
            client.close()
            raise FaqsBusy(f"another replica has held the FAQ write lock for over {wait:.0f} s")
        try:
            yield
        finally:
            with suppress(redis.RedisError):  # the lease ran out or Redis went away: it expires by itself
                lock.release()
            client.close()
