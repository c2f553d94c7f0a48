"""Addresses an SMS webhook is answering in its own TwiML response right now: the outbox leaves them alone meanwhile
(`Outbox.hold`). In this process, or in Redis when several gateway processes share the outbox, so another
process's outbox does not send the same customer's messages beside the webhook's answer."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import redis

log = logging.getLogger("auskunft.delivery")
HOLD_SECONDS = 120
"""A webhook's hold ends by itself after this long (its process died mid-request); a TwiML answer is due in 15 s."""


class Holds(Protocol):
    def hold(self, channel: str, address: str) -> Iterator[None]: ...

    def is_held(self, channel: str, address: str | None) -> bool: ...


class LocalHolds:
    def __init__(self) -> None:
        self._held: dict[tuple[str, str | None], int] = {}
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, channel: str, address: str) -> Iterator[None]:
        key = (channel, address)
        with self._guard:
            self._held[key] = self._held.get(key, 0) + 1
        try:
            yield
        finally:
            with self._guard:
                self._held[key] -= 1
                if not self._held[key]:
                    del self._held[key]

    def is_held(self, channel: str, address: str | None) -> bool:
        with self._guard:
            return (channel, address) in self._held


class RedisHolds:
    """A counter per address in Redis, expiring by itself; Redis away: the address counts as not held (the claims
    still keep every message sent once)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    @staticmethod
    def key(channel: str, address: str | None) -> str:
        return f"auskunft:held:{channel}:{address}"

    @contextmanager
    def hold(self, channel: str, address: str) -> Iterator[None]:
        key = self.key(channel, address)
        try:
            with self.client.pipeline() as pipe:
                pipe.incr(key).expire(key, HOLD_SECONDS).execute()
            held = True
        except redis.RedisError as error:
            log.warning("hold of %s not shared (Redis unreachable): %s", key, error)
            held = False
        try:
            yield
        finally:
            if held:
                try:
                    self.client.decr(key)
                except redis.RedisError as error:
                    log.warning("hold of %s not released (it expires by itself): %s", key, error)

    def is_held(self, channel: str, address: str | None) -> bool:
        try:
            return int(self.client.get(self.key(channel, address)) or 0) > 0
        except redis.RedisError:
            return False
