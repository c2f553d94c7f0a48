"""Who may do what: Flask-Login sessions for staff, CSRF protection on every form and JSON action, and the
`role_required` guard every inbox and /admin view wears. Not a blueprint: every blueprint may import it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort, jsonify, redirect, request, url_for
from flask_login import LoginManager, current_user, login_required
from flask_wtf.csrf import CSRFProtect

from bot.db import get_session
from bot.errors import wants_json
from bot.models import Agent, Role

login_manager = LoginManager()
csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Bitte melden Sie sich an."


@login_manager.user_loader
def load_agent(agent_id: str) -> Agent | None:
    return get_session().get(Agent, int(agent_id)) if agent_id.isdigit() else None


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
