"""The gateway under gunicorn (`python -m bot gateway`, started and watched by `python -m bot run`).

Werkzeug's server is a development server; gunicorn's `gthread` worker was chosen by measurement
(docs/supervision.md, benchmarks/wsgi_servers.py): one process, a thread per request. The widget and the inbox
keep a Server-Sent-Events stream open per browser, each holding a thread for as long as it is open, so `threads`
(`AUSKUNFT_GATEWAY_THREADS`) must exceed the streams expected at once plus the messages being answered
meanwhile. SIGTERM lets requests in flight finish for up to GRACEFUL_SECONDS, then the worker is stopped.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from bot import config
from bot.errors import redact_tokens
from common.logging_setup import configure_logging

GRACEFUL_SECONDS = 10


class ProjectLogger(Logger):
    """gunicorn's loggers without gunicorn's handlers: `common/logging_setup.py` routes them (no duplicates).
    Access lines carry no conversation token (`/api/widget/conversations/[token]/…`): whoever reads the log
    could otherwise read and write those conversations."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact_tokens(value) if isinstance(value, str) else value for key, value in atoms.items()}

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
            logger.propagate = True


class GatewayServer(BaseApplication):  # type: ignore[misc]
    """gunicorn embedded: worker processes (one by default), each building the app itself (not preloaded: its
    threads are its own)."""

    def __init__(self, host: str, port: int, threads: int, workers: int = 1) -> None:
        self.options = {
            "bind": f"{host}:{port}",
            "workers": workers,  # AUSKUNFT_GATEWAY_WORKERS; each builds its own app (threads, pools, hub)
            "worker_class": "gthread",
            "threads": threads,
            "graceful_timeout": GRACEFUL_SECONDS,
            "timeout": 60,  # the worker's heartbeat, not a request limit: SSE streams stay open longer
            "accesslog": "-",  # request lines: to the console only (logging_setup), as Werkzeug's were
            "logger_class": ProjectLogger,
            "proc_name": "auskunft-gateway",
            "control_socket_disable": True,  # one fixed path per machine (~/.gunicorn): two stacks would share it
        }
        super().__init__()

    def load_config(self) -> None:
        configure_logging("gateway")  # the master's lines; the worker's app sets up the same again
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Runs in the worker (at its start, also a worker gunicorn started again after it was killed)."""
        from bot import create_app
        from bot.background import start_background

        app = create_app()
        start_background(app)  # owed answers and deliveries left by a crash: now, not at the first request
        return app


def serve(host: str, port: int | None = None) -> None:
    """Run the gateway until SIGTERM/SIGINT; the port and threads default to the settings."""
    settings = config.load_settings(config.GatewaySettings)
    logging.getLogger(__name__).info(
        "gateway on %s:%s with %d worker(s) of %d threads", host, port, settings.gateway_workers,
        settings.gateway_threads,
    )
    GatewayServer(host, port or settings.gateway_port, settings.gateway_threads, settings.gateway_workers).run()
