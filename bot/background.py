"""The serving gateway's background threads (owed answers: `bot.conversation.pending`; channel deliveries:
`bot.channels.delivery`), started when a server process starts or else at the first request."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask


def background(app: Flask, ensure_started: Callable[[], None]) -> None:
    """A background thread of the serving gateway: started by `start_background` when a server process starts
    (gunicorn's worker, `bot.wsgi_server`), and by the first request otherwise (Werkzeug, tests) — never by
    `create_app` itself, so `flask --app bot create-agent` beside a running gateway starts none."""
    app.extensions.setdefault("background", []).append(ensure_started)
    app.before_request(ensure_started)


def start_background(app: Flask) -> None:
    """Start the background threads now, not at the first request: a gateway restarted after a crash has messages
    owed an answer (and deliveries owed a send) although nobody may ask it anything for a long while."""
    for ensure_started in app.extensions.get("background", []):
        ensure_started()
