"""Staff login and logout, and creating staff accounts (hashed passwords). Sessions, CSRF and roles: `access`."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from bot.conversation.availability import mark_seen
from bot.db import get_session
from bot.models import Agent, Role
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


SAFE_NEXT = re.compile(r"^/(agent|admin)(/[A-Za-z0-9._~!$'()*+,;=:@%/-]*)?(\?[A-Za-z0-9._~!$'()*+,;=:@%/?&-]*)?$")
"""A path inside the inbox or the editors' pages, in URL characters only: no other host (`//`, `\\`), no CR/LF
(a header split; Werkzeug refuses it with a 500), no fragment. Anything else is ignored: the default page."""


def safe_next(target: str) -> bool:
    return bool(SAFE_NEXT.match(target)) and "//" not in target


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
    logout_user()
    return redirect(url_for("auth.login"))
