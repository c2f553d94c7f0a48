"""Throttling of what anyone can call without an account (Flask-Limiter): the login, and the widget's conversation
starts, messages and transcript mails, each per client address and per account or conversation.

Views declare their limits with `@throttled(Throttle(...), ...)`: each names the config key that holds its limit
(e.g. "10 per minute; 100 per hour", settings in `bot/config.py`) and what it counts per (`per_ip`, `per_token`, or
a function of the request). `init_app` gives each app its own `Limiter` and storage (memory, or Redis when
`AUSKUNFT_REDIS_URL` is set, so several gateway processes share the counts) and wraps the declared views, so two
apps in one process (tests) never share counts or the on/off switch. Routes without a declaration — the agent inbox,
the admin pages, the providers' signed webhooks — are not throttled. A throttled request gets 429 with a German
message: `{"error": …}` under /api (bot.errors), `on_breach` may render a page instead (the login form).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

TOO_MANY = "Zu viele Anfragen in kurzer Zeit. Bitte warten Sie einen Moment und versuchen Sie es dann erneut."
ATTRIBUTE = "_auskunft_throttles"


def per_ip() -> str:
    """The client's address: the connection's, or behind `RATELIMIT_PROXY_HOPS` reverse proxies (each appending to
    X-Forwarded-For, as nginx's `$proxy_add_x_forwarded_for` does) the one the outermost proxy saw. Entries further
    left are the client's own word and never trusted."""
    hops = current_app.config.get("RATELIMIT_PROXY_HOPS", 0)
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return get_remote_address() or "unknown"


def per_token() -> str:
    """The conversation token in the path (malformed or unknown ones count too: they are answered 404 anyway)."""
    return str((request.view_args or {}).get("token", ""))


@dataclass(frozen=True)
class Throttle:
    setting: str
    """The config key holding the limit, e.g. "RATELIMIT_MESSAGES_PER_IP" = "30 per minute"."""
    key: Callable[[], str] = per_ip
    counts: Callable[[Response], bool] | None = None
    """Which responses use up the limit (e.g. only failed logins, only mails sent); None: every request."""
    on_breach: Callable[[Any], Response | None] | None = None
    """A response of its own for a throttled request (e.g. the login page with the message); None: bot.errors."""


def throttled(*throttles: Throttle) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declares the view's limits; `init_app` applies them to each app (views of a blueprint are wrapped late)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        setattr(view, ATTRIBUTE, (*getattr(view, ATTRIBUTE, ()), *throttles))
        return view

    return decorator


def init_app(app: Flask) -> None:
    """After every blueprint is registered: the app's own limiter over the views declaring `throttled`."""
    app.config.setdefault("RATELIMIT_ENABLED", True)
    if not app.config["RATELIMIT_ENABLED"]:
        return
    limiter = Limiter(
        key_func=per_ip,
        app=app,
        storage_uri=app.config.get("RATELIMIT_STORAGE_URI") or "memory://",
        strategy="moving-window",
        headers_enabled=True,  # Retry-After tells the widget (and a script) how long to wait
        in_memory_fallback_enabled=True,  # Redis down: count in this process meanwhile rather than answer 500
        key_prefix="auskunft",
    )
    for endpoint, view in list(app.view_functions.items()):
        for throttle in getattr(view, ATTRIBUTE, ()):
            view = limiter.limit(
                _setting(throttle.setting),
                key_func=throttle.key,
                scope=f"{endpoint}:{throttle.setting}",
                methods=["POST"],
                error_message=TOO_MANY,
                deduct_when=throttle.counts,
                on_breach=throttle.on_breach,
            )(view)
        app.view_functions[endpoint] = view


def _setting(name: str) -> Callable[[], str]:
    return lambda: str(current_app.config[name])
