"""The serving gateway's background threads (owed answers: `bot.conversation.pending`; channel deliveries:
`bot.channels.delivery`), started when a server process starts or else at the first request."""

from __future__ import annotations

import threading
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


class BackgroundThread:
    """One daemon thread running `_run` until `stop()`: started once by `ensure_started`, whichever caller comes
    first (a server process starting, or the first request). The outbox, the owed-answer retrier and the Redis
    hub's subscriber are each one."""

    thread_name = "auskunft-background"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def ensure_started(self) -> None:
        """Start the thread once (cheap after the first call)."""
        if self._thread is None and not self._stop.is_set():
            with self._guard:
                if self._thread is None:
                    self.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._interrupt()
        if self._thread is not None:
            self._thread.join(timeout)

    def _interrupt(self) -> None:
        """Wake `_run` from whatever it waits on, so that it sees the stop."""

    def _run(self) -> None:
        raise NotImplementedError
