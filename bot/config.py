"""Settings from the environment; the secret key is generated once into var/ so it never lands in git."""

from __future__ import annotations

import os
import secrets
import tomllib
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


def config_file() -> dict[str, str]:
    """`AUSKUNFT_*` settings from a TOML file outside git: `AUSKUNFT_CONFIG_FILE`, else `var/auskunft.toml` if present.

    For secrets (the Messenger app secret and page token, the Twilio auth token) that should not sit in a
    service's environment; a variable set in the environment wins over the file.
    """
    path = Path(os.environ.get("AUSKUNFT_CONFIG_FILE") or VAR / "auskunft.toml")
    if not path.exists():
        if "AUSKUNFT_CONFIG_FILE" in os.environ:
            raise FileNotFoundError(f"AUSKUNFT_CONFIG_FILE names {path}, which does not exist")
        return {}
    with path.open("rb") as handle:
        values = tomllib.load(handle)
    return {str(key): str(value) for key, value in values.items() if not isinstance(value, dict | list)}


def channel_settings(file: dict[str, str]) -> dict[str, Any]:
    """Messenger and SMS (Twilio); a channel without its secrets stays switched off (its webhook answers 404)."""

    def get(name: str, default: str = "") -> str:
        return os.environ.get(name) or file.get(name) or default

    return {
        "PUBLIC_URL": get("AUSKUNFT_PUBLIC_URL").rstrip("/"),
        "MESSENGER_APP_SECRET": get("AUSKUNFT_MESSENGER_APP_SECRET"),
        "MESSENGER_PAGE_TOKEN": get("AUSKUNFT_MESSENGER_PAGE_TOKEN"),
        "MESSENGER_VERIFY_TOKEN": get("AUSKUNFT_MESSENGER_VERIFY_TOKEN"),
        "MESSENGER_HUMAN_AGENT_TAG": get("AUSKUNFT_MESSENGER_HUMAN_AGENT_TAG", "false").lower() == "true",
        "GRAPH_API_URL": get("AUSKUNFT_GRAPH_API_URL", "https://graph.facebook.com").rstrip("/"),
        "GRAPH_API_VERSION": get("AUSKUNFT_GRAPH_API_VERSION", "v21.0"),
        "TWILIO_ACCOUNT_SID": get("AUSKUNFT_TWILIO_ACCOUNT_SID"),
        "TWILIO_AUTH_TOKEN": get("AUSKUNFT_TWILIO_AUTH_TOKEN"),
        "TWILIO_FROM_NUMBER": get("AUSKUNFT_TWILIO_FROM_NUMBER"),
        "TWILIO_MESSAGING_SERVICE_SID": get("AUSKUNFT_TWILIO_MESSAGING_SERVICE_SID"),
        "TWILIO_API_URL": get("AUSKUNFT_TWILIO_API_URL", "https://api.twilio.com").rstrip("/"),
        "SMS_REPLY_MODE": get("AUSKUNFT_SMS_REPLY_MODE", "twiml"),  # twiml | api
        "SMS_MORE_URL": get("AUSKUNFT_SMS_MORE_URL"),
        "FAQ_DIR": get("AUSKUNFT_FAQ_DIR", str(ROOT / "knowledge_base" / "faqs")),  # the SMS short answers
        "CHANNEL_TIMEOUT": float(get("AUSKUNFT_CHANNEL_TIMEOUT", "10")),
        "DELIVERY_MAX_ATTEMPTS": int(get("AUSKUNFT_DELIVERY_MAX_ATTEMPTS", "6")),
        "DELIVERY_BACKOFF_SECONDS": float(get("AUSKUNFT_DELIVERY_BACKOFF_SECONDS", "2")),
        "DELIVERY_WORKER": True,  # tests switch the background sender off and drive it by hand
    }


def from_env() -> dict[str, Any]:
    """The defaults, overridden by `AUSKUNFT_*` variables (and, for channel secrets, the config file)."""
    return {
        **channel_settings(config_file()),
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
