"""What gateway processes share: with `AUSKUNFT_REDIS_URL` set, notifications and locks go through Redis, so
several processes (gunicorn workers, machines) on one database behave as one; without it, in-process versions.

The rest of the shared state is in the database (messages, outbox claims, agent presence, ratings); see the
README's "Several gateway processes" for what stays per process and why that is safe.
"""

from __future__ import annotations

import atexit

import redis
from flask import Flask

from bot.background import background
from bot.hub import Hub
from bot.locks import LocalLocks, RedisLocks
from bot.redis_hub import RedisHub


def init_app(app: Flask) -> None:
    """`hub`, `locks` and `redis` (the client, or None) in `app.extensions`: Redis-backed when `REDIS_URL` is set."""
    url = app.config.get("REDIS_URL") or ""
    if not url:
        app.extensions["redis"] = None
        app.extensions["hub"] = Hub()
        app.extensions["locks"] = LocalLocks()
        return
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=30)
    app.extensions["redis"] = client  # the outbox's holds use it too (bot.channels.holds)
    hub = RedisHub(client)
    app.extensions["hub"] = hub
    app.extensions["locks"] = RedisLocks(client, app.config.get("LOCK_LEASE_SECONDS", 30.0))
    background(app, hub.ensure_started)  # the subscriber: with the server's other background threads
    atexit.register(hub.stop)
