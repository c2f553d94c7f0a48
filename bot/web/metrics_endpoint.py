"""`GET /metrics`: the Prometheus text exposition of `bot.metrics` (prometheus_client.generate_latest); with
several gunicorn workers (PROMETHEUS_MULTIPROC_DIR set) the sum over all of them, dead ones' counts included.

Scrapers do not log in, so access is by configuration, not by role: with `AUSKUNFT_METRICS_TOKEN` set, a
request needs `Authorization: Bearer <token>`; without it, only requests from this machine (127.0.0.1/::1)
are served — behind a reverse proxy on the same host, set the token, since every request then looks local.
"""

from __future__ import annotations

import hmac
import os

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

bp = Blueprint("metrics", __name__)
LOOPBACK = {"127.0.0.1", "::1"}
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN") or ""
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    return request.remote_addr in LOOPBACK


@bp.get("/metrics")
def metrics() -> Response:
    if not allowed():
        abort(403, "Zugriff auf /metrics nur mit dem Token (AUSKUNFT_METRICS_TOKEN) oder von diesem Rechner")
    return Response(exposition(), mimetype=CONTENT_TYPE_LATEST)


def exposition() -> bytes:
    """This process's metrics, or every worker's added up when they count into a shared directory."""
    if not os.environ.get(MULTIPROC_ENV):
        return generate_latest()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)
