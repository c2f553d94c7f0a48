"""The gateway under gunicorn (`python -m bot gateway`, started and watched by `python -m bot run`).

Werkzeug's server is a development server; gunicorn's `gthread` worker was chosen by measurement
(docs/supervision.md, benchmarks/wsgi_servers.py): a thread per request, in one worker process or, with
`AUSKUNFT_GATEWAY_WORKERS` > 1 (and Redis, `bot.replicas`), in several. Several workers count their Prometheus
metrics into files that /metrics adds up: prometheus_client chooses that mode when it is imported, so the gateway
sets PROMETHEUS_MULTIPROC_DIR and starts itself again before gunicorn runs, and gunicorn's `child_exit` hook marks
a dead worker's gauges gone. The widget and the inbox
keep a Server-Sent-Events stream open per browser, each holding a thread for as long as it is open, so `threads`
(`AUSKUNFT_GATEWAY_THREADS`) must exceed the streams expected at once plus the messages being answered
meanwhile. SIGTERM lets requests in flight finish for up to GRACEFUL_SECONDS, then the worker is stopped.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from prometheus_client import multiprocess

from bot import config
from bot.errors import redact_tokens
from bot.web.metrics_endpoint import MULTIPROC_ENV
from common.logging_setup import configure_logging
from common.settings_errors import SettingsError
from common.shared_secret import rasa_token
from knowledge_base.reload_token import reload_token

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
    """gunicorn embedded: worker processes that build the app themselves (not preloaded: their threads are their
    own)."""

    def __init__(self, host: str, port: int, threads: int, workers: int = 1) -> None:
        self.options: dict[str, Any] = {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "graceful_timeout": GRACEFUL_SECONDS,
            "timeout": 60,  # the worker's heartbeat, not a request limit: SSE streams stay open longer
            "accesslog": "-",  # request lines: to the console only (logging_setup), as Werkzeug's were
            "logger_class": ProjectLogger,
            "proc_name": "auskunft-gateway",
            "control_socket_disable": True,  # one fixed path per machine (~/.gunicorn): two stacks would share it
        }
        if os.environ.get(MULTIPROC_ENV):
            self.options["on_starting"] = empty_metrics_dir  # counts of an earlier run would add up with ours
            self.options["child_exit"] = worker_gone
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


def empty_metrics_dir(_server: Any) -> None:
    """gunicorn's `on_starting` (the master, before any worker): an empty directory for the workers' counts."""
    directory = Path(os.environ[MULTIPROC_ENV])
    for entry in directory.glob("*.db"):
        entry.unlink()


def worker_gone(_server: Any, worker: Any) -> None:
    """gunicorn's `child_exit`: a dead worker's live gauges stop counting (its counters stay in the sums)."""
    multiprocess.mark_process_dead(worker.pid)


def restart_with_metrics_dir(host: str, port: int, directory: Path) -> None:
    """Start this command again with PROMETHEUS_MULTIPROC_DIR set (never returns): this process has imported
    prometheus_client already, in its one-process mode."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    argv = [sys.executable, "-m", "bot", "gateway", "--host", host, "--port", str(port)]
    os.execve(sys.executable, argv, {**os.environ, MULTIPROC_ENV: str(directory)})


def serve(host: str, port: int | None = None) -> None:
    """Run the gateway until SIGTERM/SIGINT; the port, threads and workers default to the settings."""
    try:
        settings = config.load_settings(config.GatewaySettings)
        # the secrets the workers need, checked here: in production a missing one stops the start with its name,
        # instead of workers that fail to boot over and over
        config.secret_key(config.VAR / "secret_key"), rasa_token(), reload_token()
    except SettingsError as error:
        sys.exit(str(error))
    port = port or settings.gateway_port
    if settings.gateway_workers > 1 and not os.environ.get(MULTIPROC_ENV):
        restart_with_metrics_dir(host, port, settings.metrics_dir or config.VAR / f"metrics-{port}")
    logging.getLogger(__name__).info(
        "gateway on %s:%s with %d worker(s) of %d threads", host, port, settings.gateway_workers,
        settings.gateway_threads,
    )  # fmt: skip
    GatewayServer(host, port, settings.gateway_threads, settings.gateway_workers).run()
