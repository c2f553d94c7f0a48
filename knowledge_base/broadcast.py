"""FAQ reloads across replicas: a Redis pub/sub channel on which every process that serves the knowledge base
listens, and to which whoever changed or noticed a change publishes the FAQ folder's digest.

File watchers see only this machine's writes (and on NFS or other network volumes may miss even those), so with
several gateways and action servers on one shared FAQ folder the broadcast is the reliable path. Pub/sub is
at-most-once: a replica that is disconnected when a message goes out misses it, so the listener also asks for a
check after every (re)connect and every `CHECK_SECONDS` while idle — cheap, since a reload with unchanged files
builds nothing (`KnowledgeBase.refresh`).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable

import redis

log = logging.getLogger(__name__)

CHANNEL = "auskunft:kb"
"""Followed by the Redis database number: pub/sub ignores databases, deployments on one server must not."""
CHECK_SECONDS = 30.0
"""While no message comes: compare the files with what is served this often (a missed message heals)."""
RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0)
"""Waits between reconnects while Redis is unreachable; the last one repeats."""


def origin() -> str:
    """This holder, as named in its messages (its own messages need no reload): machine, process, instance."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class KbBroadcast:
    """Publishes "the FAQ files are now at `version`" and calls `on_change(version)` for every such message
    (`version` None: a periodic or after-reconnect check) from one daemon thread, reconnecting for ever."""

    def __init__(self, url: str, check_seconds: float = CHECK_SECONDS) -> None:
        self._client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        self.channel = f"{CHANNEL}:{self._client.connection_pool.connection_kwargs.get('db', 0)}"
        self.check_seconds = check_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.origin = origin()

    def publish(self, version: str) -> int | None:
        """Tell every replica; the number of listeners that got it, None when Redis is unreachable (logged:
        the others then catch up by their periodic check)."""
        message = json.dumps({"event": "reload", "version": version, "origin": self.origin})
        try:
            return int(self._client.publish(self.channel, message))
        except redis.RedisError as error:
            log.warning("could not broadcast the FAQ reload to the other replicas: %s", error)
            return None

    def listen(self, on_change: Callable[[str | None], None]) -> KbBroadcast:
        """Subscribe now (so a publish right after this returns is heard) and keep listening in a thread."""
        pubsub = self._subscribe()
        self._thread = threading.Thread(target=self._run, args=(on_change, pubsub), name="kb-broadcast",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._client.close()

    def _subscribe(self) -> redis.client.PubSub | None:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.channel)
            log.info("listening for FAQ reloads on %s", self.channel)
            return pubsub
        except redis.RedisError as error:
            log.warning("cannot listen for FAQ reloads on Redis (%s); retrying", error)
            pubsub.close()
            return None

    def _run(self, on_change: Callable[[str | None], None], pubsub: redis.client.PubSub | None) -> None:
        failures = 0
        while not self._stop.is_set():
            if pubsub is None:
                if self._stop.wait(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]):
                    break
                failures += 1
                pubsub = self._subscribe()
                if pubsub is None:
                    continue
                self._notify(on_change, None)  # messages may have gone out while we were away
            failures = 0
            try:
                self._listen(on_change, pubsub)
            except (redis.RedisError, OSError) as error:
                log.warning("lost the FAQ reload channel (%s); reconnecting", error)
            pubsub.close()
            pubsub = None

    def _listen(self, on_change: Callable[[str | None], None], pubsub: redis.client.PubSub) -> None:
        idle = 0.0
        while not self._stop.is_set():
            message = pubsub.get_message(timeout=1.0)
            if message is None:
                idle += 1.0
                if idle >= self.check_seconds:
                    idle = 0.0
                    self._notify(on_change, None)
                continue
            idle = 0.0
            reload = _reload_message(message.get("data"))
            if reload is not None and reload.get("origin") != self.origin:
                self._notify(on_change, reload["version"])

    def _notify(self, on_change: Callable[[str | None], None], version: str | None) -> None:
        try:
            on_change(version)
        except Exception:  # the listener must survive a failing reload; the old index keeps serving
            log.exception("reload after an FAQ broadcast failed")


def _reload_message(data: object) -> dict[str, str] | None:
    """A well-formed reload message, else None (anything else on the channel is ignored)."""
    try:
        message = json.loads(data)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if isinstance(message, dict) and message.get("event") == "reload" and isinstance(message.get("version"), str):
        return message
    return None
