"""Who may do what: Flask-Login sessions for staff, CSRF protection on every form and JSON action, and the
`role_required` guard every inbox and /admin view wears. Not a blueprint: every blueprint may import it.

A session names its account as "<id>:<nonce>" (`Agent.get_id`); logout gives the account a new nonce, so a copy
of the old cookie is worth nothing. A session ends after `PERMANENT_SESSION_LIFETIME` (12 h) in all and after
`SESSION_IDLE_SECONDS` (2 h) without a request, whatever the cookie says: both times are kept in the signed
session and checked here."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort, current_app, jsonify, redirect, request, session, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFProtect

from bot.db import get_session
from bot.errors import wants_json
from bot.models import Agent, Role

login_manager = LoginManager()
csrf = CSRFProtect()


LOGIN_AT = "auskunft_login_at"
SEEN_AT = "auskunft_seen_at"


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Bitte melden Sie sich an."
    app.before_request(end_expired_session)


@login_manager.user_loader
def load_agent(session_id: str) -> Agent | None:
    agent_id, _, nonce = session_id.partition(":")
    if not agent_id.isdigit() or not nonce:
        return None  # an id without a nonce: a session from before nonces, or forged
    agent = get_session().get(Agent, int(agent_id))
    if agent is None or agent.session_nonce is None or not hmac.compare_digest(agent.session_nonce, nonce):
        return None  # logged out since (a new nonce), or the account is gone
    return agent


def _now() -> float:
    """Seconds; wall time, not the app's `CLOCK` (tests move that by hours for business hours, not sessions)."""
    return float(current_app.config.get("SESSION_CLOCK", time.time)())


def start_session(agent: Agent) -> None:
    """Log `agent` in: a nonce if the account has none yet, the session's start and last request recorded."""
    if agent.session_nonce is None:
        agent.session_nonce = secrets.token_urlsafe(32)
        get_session().commit()
    session.permanent = True  # the cookie expires with PERMANENT_SESSION_LIFETIME, not with the browser
    login_user(agent)
    session[LOGIN_AT] = session[SEEN_AT] = _now()


def end_session(agent: Agent) -> None:
    """Log out: a new nonce ends this session and every other copy of its cookie (all of the account's)."""
    agent.session_nonce = secrets.token_urlsafe(32)
    get_session().commit()
    logout_user()
    session.pop(LOGIN_AT, None)
    session.pop(SEEN_AT, None)


def end_expired_session() -> None:
    """Before every request of a logged-in session: over after the lifetime or the idle time, else seen now."""
    if "_user_id" not in session:
        return
    now = _now()
    lifetime = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    idle = current_app.config.get("SESSION_IDLE_SECONDS", 7200)
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if login_at is None or seen_at is None or now - login_at > lifetime or now - seen_at > idle:
        logout_user()  # this request goes on as anonymous: the login page, or 401 for JSON
        session.pop(LOGIN_AT, None)
        session.pop(SEEN_AT, None)
        return
    if now - seen_at > 60:  # not on every request: each would rewrite the cookie
        session[SEEN_AT] = now


@login_manager.unauthorized_handler
def unauthorized():  # type: ignore[no-untyped-def]
    if wants_json() or request.method != "GET":
        return jsonify(error="Anmeldung erforderlich"), 401
    return redirect(url_for("auth.login", next=request.path))


def role_required(role: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Login required (401/redirect), then the role (403): agents reach the inbox, editors /admin, admins both."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(role):
                abort(403, f"dafür fehlt Ihrem Zugang die Rolle „{role}“")
            return view(*args, **kwargs)

        return guarded

    return decorator
