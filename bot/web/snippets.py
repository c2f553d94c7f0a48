"""Textbausteine: the agent's page to write, change, share and delete own reply texts (plain POST forms that
redirect back with a note). The composer's picker is agent/_snippets.html (bot.web.inbox_tools fills it)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from bot.conversation import snippets
from bot.db import get_session
from bot.models import Role, Snippet, now
from bot.web.access import role_required

bp = Blueprint("snippets", __name__, url_prefix="/agent/snippets")


class SnippetForm(FlaskForm):
    title = StringField(
        "Titel", validators=[DataRequired("Bitte einen Titel angeben."), Length(max=snippets.MAX_TITLE)]
    )
    text = TextAreaField("Text", validators=[DataRequired("Bitte einen Text angeben."), Length(max=snippets.MAX_TEXT)])
    shared = BooleanField("für das ganze Team")


def _page(form: SnippetForm | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    session = get_session()
    mine = [s for s in snippets.visible_to(session, current_user) if s.owner_id == current_user.id]
    others = [s for s in snippets.visible_to(session, current_user) if s.owner_id != current_user.id]
    return render_template(
        "agent/snippets.html",
        new=form or SnippetForm(formdata=None),
        mine=mine,
        others=others,
        placeholders=snippets.PLACEHOLDERS,
    ), status


def _invalid(form: SnippetForm):  # type: ignore[no-untyped-def]
    for errors in form.errors.values():
        for error in errors:
            flash(error if isinstance(error, str) else "Eingabe ungültig")
    return _page(form, 400)


@bp.get("/")
@role_required(Role.AGENT)
def index():  # type: ignore[no-untyped-def]
    return _page()


@bp.post("/")
@role_required(Role.AGENT)
def create():  # type: ignore[no-untyped-def]
    form = SnippetForm()
    if not form.validate():
        return _invalid(form)
    snippet = Snippet(owner=current_user, title=form.title.data.strip(), text=form.text.data.strip(),
                      shared=bool(form.shared.data), created_at=now(), updated_at=now())
    get_session().add(snippet)
    get_session().commit()
    flash(f"Textbaustein „{snippet.title}“ gespeichert.")
    return redirect(url_for("snippets.index"), 303)


def _own(snippet_id: int) -> Snippet:
    snippet = snippets.editable(get_session(), current_user, snippet_id)
    if snippet is None:
        abort(404, "kein eigener Textbaustein mit dieser Nummer")
    return snippet


@bp.post("/<int:snippet_id>")
@role_required(Role.AGENT)
def update(snippet_id: int):  # type: ignore[no-untyped-def]
    snippet = _own(snippet_id)
    form = SnippetForm()
    if not form.validate():
        return _invalid(form)
    snippet.title, snippet.text = form.title.data.strip(), form.text.data.strip()
    snippet.shared = bool(form.shared.data)
    get_session().commit()
    flash(f"Textbaustein „{snippet.title}“ geändert.")
    return redirect(url_for("snippets.index"), 303)


@bp.post("/<int:snippet_id>/delete")
@role_required(Role.AGENT)
def delete(snippet_id: int):  # type: ignore[no-untyped-def]
    snippet = _own(snippet_id)
    get_session().delete(snippet)
    get_session().commit()
    flash(f"Textbaustein „{snippet.title}“ gelöscht.")
    return redirect(url_for("snippets.index"), 303)
