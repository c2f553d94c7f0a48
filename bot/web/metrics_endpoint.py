"""`GET /metrics`: the Prometheus text exposition of `bot.metrics` (prometheus_client.generate_latest).

Scrapers do not log in, so access is by configuration, not by role: with `AUSKUNFT_METRICS_TOKEN` set, a
request needs `Authorization: Bearer <token>`; without it, only requests from this machine (127.0.0.1/::1)
are served — behind a reverse proxy on the same host, set the token, since every request then looks local.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

bp = Blueprint("metrics", __name__)
LOOPBACK = {"127.0.0.1", "::1"}


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
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
