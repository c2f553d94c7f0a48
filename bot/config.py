"""Settings from the environment; the secret key is generated once into var/ so it never lands in git."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"


def secret_key(path: Path) -> str:
    """`SECRET_KEY` from the environment, else a random key kept in `path` (created on first run, mode 600)."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def from_env() -> dict[str, Any]:
    """The defaults, overridden by `AUSKUNFT_*` variables."""
    return {
        "DATABASE_URL": os.environ.get("AUSKUNFT_DATABASE_URL", f"sqlite:///{VAR / 'gateway.db'}"),
        "RASA_URL": os.environ.get("AUSKUNFT_RASA_URL", "http://127.0.0.1:5005"),
        "RASA_TIMEOUT": float(os.environ.get("AUSKUNFT_RASA_TIMEOUT", "30")),
        # the session cookie travels over HTTPS only, unless running on plain-HTTP localhost for the demo
        "SESSION_COOKIE_SECURE": os.environ.get("AUSKUNFT_SECURE_COOKIES", "false").lower() == "true",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "MAX_MESSAGE_CHARS": int(os.environ.get("AUSKUNFT_MAX_MESSAGE_CHARS", "4000")),
        "MAX_CONTENT_LENGTH": 256 * 1024,
        "SSE_KEEPALIVE_SECONDS": 15.0,
        # Europe/Berlin; e.g. "mo-fr 08:00-20:00; sa 09:00-16:00" (the demo shop's service times)
        "BUSINESS_HOURS": os.environ.get("AUSKUNFT_BUSINESS_HOURS", "mo-fr 08:00-20:00; sa 09:00-16:00"),
        "AGENT_ONLINE_MINUTES": float(os.environ.get("AUSKUNFT_AGENT_ONLINE_MINUTES", "5")),
        # the transcript by e-mail; without a host the widget's endpoint answers 503
        "SMTP_HOST": os.environ.get("AUSKUNFT_SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("AUSKUNFT_SMTP_PORT", "587")),
        "SMTP_USER": os.environ.get("AUSKUNFT_SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("AUSKUNFT_SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": os.environ.get("AUSKUNFT_SMTP_STARTTLS", "true").lower() == "true",
        "MAIL_FROM": os.environ.get("AUSKUNFT_MAIL_FROM", "kundenservice@localhost"),
        "MAX_TRANSCRIPT_MAILS": 3,
        # /metrics: a bearer token for Prometheus; unset = only requests from this machine
        "METRICS_TOKEN": os.environ.get("AUSKUNFT_METRICS_TOKEN", ""),
    }
