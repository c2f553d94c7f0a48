"""Staff login and logout, and creating staff accounts (hashed passwords). Sessions, CSRF and roles: `access`."""

from __future__ import annotations

import logging
import re
import secrets
from functools import cache

from flask import Blueprint, Response, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from bot.conversation.availability import mark_seen
from bot.db import get_session
from bot.models import Agent, Role
from bot.web import access
from bot.web.limits import TOO_MANY, Throttle, throttled
from common.logging_setup import AUDIT_LOGGER

bp = Blueprint("auth", __name__, url_prefix="/agent")
audit = logging.getLogger(AUDIT_LOGGER)


class LoginForm(FlaskForm):
    email = EmailField("E-Mail", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Passwort", validators=[DataRequired(), Length(max=200)])


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


@cache
def dummy_hash() -> str:
    """A hash of a random password, made like the accounts' own: an unknown address costs the same work as a known
    one (one check_password_hash), so the answer's timing does not tell which addresses have an account."""
    return generate_password_hash(secrets.token_urlsafe(16))


def password_matches(agent: Agent | None, password: str) -> bool:
    matches = check_password_hash(agent.password_hash if agent is not None else dummy_hash(), password)
    return agent is not None and matches


def typed_account() -> str:
    """The address a login attempt is for, as accounts are stored (lower case): its own failed-login count."""
    return "account:" + request.form.get("email", "").strip().lower()[:320]


def login_refused(_limit: object) -> Response:
    """A throttled login: the form again with the message, 429 (no check of the password at all)."""
    audit.info("login throttled")  # neither the typed address nor whether it has an account
    flash(TOO_MANY)
    return make_response(render_template("agent/login.html", form=LoginForm()), 429)


def login_failed(response: Response) -> bool:
    return response.status_code == 401


SAFE_NEXT = re.compile(r"^/(agent|admin)(/[A-Za-z0-9._~!$'()*+,;=:@%/-]*)?(\?[A-Za-z0-9._~!$'()*+,;=:@%/?&-]*)?$")
"""A path inside the inbox or the editors' pages, in URL characters only: no other host (`//`, `\\`), no CR/LF
(a header split; Werkzeug refuses it with a 500), no fragment. Anything else is ignored: the default page."""


def safe_next(target: str) -> bool:
    return bool(SAFE_NEXT.match(target)) and "//" not in target


@bp.route("/login", methods=["GET", "POST"])
@throttled(
    Throttle("RATELIMIT_LOGIN_PER_IP", counts=login_failed, on_breach=login_refused),
    Throttle("RATELIMIT_LOGIN_PER_ACCOUNT", typed_account, counts=login_failed, on_breach=login_refused),
)
def login():  # type: ignore[no-untyped-def]
    form = LoginForm()
    if form.validate_on_submit():
        agent = get_session().scalar(select(Agent).where(Agent.email == form.email.data.lower()))
        if password_matches(agent, form.password.data) and agent is not None:
            access.start_session(agent)
            audit.info("login: agent %d", agent.id)
            mark_seen(get_session(), agent, current_app.extensions["clock"](), force=True)
            target = request.args.get("next", "")
            if safe_next(target):
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
    access.end_session(current_user._get_current_object())
    return redirect(url_for("auth.login"))
