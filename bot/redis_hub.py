"""The hub across gateway processes and machines: notifications through Redis publish/subscribe, typing in Redis.

Each process bumps its own streams at once and publishes the conversation id; one subscriber thread per process
bumps its streams (and wakes its outbox) for what the others publish. Redis being away costs only speed: the
publisher's own streams still wake, the others' find the message at their next keep-alive read, and the
subscriber reconnects by itself and then wakes every stream once (it may have missed something meanwhile).
"""

from __future__ import annotations

import logging
import time
import uuid

import redis

from bot.background import BackgroundThread
from bot.hub import TYPING_SECONDS, Hub

log = logging.getLogger("auskunft.hub")
RECONNECT_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)


def channel_name(client: redis.Redis) -> str:
    """Publish/subscribe channels ignore Redis's database numbers: the number goes into the name, so gateways on
    different databases of one Redis (two stacks, tests) never hear each other."""
    return f"auskunft:{client.connection_pool.connection_kwargs.get('db', 0)}:hub"


class RedisHub(BackgroundThread, Hub):
    thread_name = "auskunft-hub"

    def __init__(self, client: redis.Redis) -> None:
        Hub.__init__(self)
        BackgroundThread.__init__(self)
        self.client = client
        self.channel = channel_name(client)
        self.origin = uuid.uuid4().hex  # our own publications were bumped here already

    def notify(self, conversation_id: int) -> None:
        self._bump(conversation_id)
        try:
            self.client.publish(self.channel, f"{self.origin}:{conversation_id}")
        except redis.RedisError as error:
            log.warning("Redis unreachable, other gateway processes learn of conversation %s later: %s",
                        conversation_id, error)  # fmt: skip


    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                self.wake_all()  # whatever was published while we were not listening: every stream reads again
                failures = 0
                while not self._stop.is_set():
                    if (message := pubsub.get_message(timeout=1.0)) is not None:
                        self._received(message["data"])
            except redis.RedisError as error:
                delay = RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)]
                failures += 1
                log.warning("hub subscription lost (%s); reconnecting in %.1f s", error, delay)
                self._stop.wait(delay)
            finally:
                pubsub.close()

    def _received(self, data: bytes | str) -> None:
        text = data.decode() if isinstance(data, bytes) else data
        origin, _, conversation = text.rpartition(":")
        if origin != self.origin and conversation.isdigit():
            self._bump(int(conversation))

    def set_typing(self, conversation_id: int, who: str, typing: bool) -> None:
        """Typing state in a sorted set per conversation (member = who, score = until when); it expires by itself."""
        key = f"auskunft:typing:{conversation_id}"
        try:
            with self.client.pipeline() as pipe:
                if typing:
                    pipe.zadd(key, {who: time.time() + TYPING_SECONDS})
                    pipe.expire(key, int(TYPING_SECONDS) + 2)
                else:
                    pipe.zrem(key, who)
                pipe.execute()
        except redis.RedisError as error:
            log.warning("typing state not stored (Redis unreachable): %s", error)
        self.notify(conversation_id)

    def typing(self, conversation_id: int) -> list[str]:
        try:
            members = self.client.zrangebyscore(f"auskunft:typing:{conversation_id}", f"({time.time()}", "+inf")
        except redis.RedisError:
            return []  # nobody shown typing rather than a broken stream
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)
