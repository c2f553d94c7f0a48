"""Agent login: Flask-Login sessions, hashed passwords, CSRF on every form and every JSON action."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Flask, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from bot.conversation.availability import mark_seen
from bot.db import get_session
from bot.errors import wants_json
from bot.models import Agent, Role
from common.logging_setup import AUDIT_LOGGER

bp = Blueprint("auth", __name__, url_prefix="/agent")
audit = logging.getLogger(AUDIT_LOGGER)
login_manager = LoginManager()
csrf = CSRFProtect()


class LoginForm(FlaskForm):
    email = EmailField("E-Mail", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Passwort", validators=[DataRequired(), Length(max=200)])


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Bitte melden Sie sich an."
    from bot.web import widget_api

    csrf.exempt(widget_api.bp)  # the widget proves itself with its conversation token, not a cookie


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


def create_agent(email: str, name: str, password: str, role: Role = Role.AGENT) -> Agent:
    if len(password) < 10:
        raise ValueError("das Passwort braucht mindestens 10 Zeichen")
    session = get_session()
    if session.scalar(select(Agent).where(Agent.email == email.lower())):
        raise ValueError(f"es gibt schon einen Zugang für {email}")
    agent = Agent(email=email.lower(), name=name, password_hash=generate_password_hash(password), role=Role(role))
    session.add(agent)
    session.commit()
    return agent


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    form = LoginForm()
    if form.validate_on_submit():
        agent = get_session().scalar(select(Agent).where(Agent.email == form.email.data.lower()))
        if agent is not None and check_password_hash(agent.password_hash, form.password.data):
            login_user(agent)
            audit.info("login: agent %d", agent.id)
            mark_seen(get_session(), agent, current_app.extensions["clock"](), force=True)
            target = request.args.get("next", "")
            # only paths inside the inbox or the editors' pages: no open redirect
            if target.startswith(("/agent", "/admin")) and not target.startswith("//"):
                return redirect(target)
            return redirect(url_for("inbox.queue") if agent.has_role(Role.AGENT) else "/admin/")
        # never the typed address: it may be a customer's or a typo of one; a known account by its number
        audit.info("login failed: %s", "unknown account" if agent is None else f"agent {agent.id}, wrong password")
        flash("E-Mail oder Passwort ist falsch.")
    return render_template("agent/login.html", form=form), 200 if request.method == "GET" else 401


@bp.post("/logout")
@login_required
def logout():  # type: ignore[no-untyped-def]
    current_user.last_seen_at = None  # logged out: no longer online, even within the presence window
    get_session().commit()
    audit.info("logout: agent %d", current_user.id)
    logout_user()
    return redirect(url_for("auth.login"))
