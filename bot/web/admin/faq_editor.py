"""`/admin/faq/entries/<id>/edit`: the optional in-browser editor for one FAQ entry (role `editor`).

It writes the entry's YAML file as an editor would (knowledge_base/faq_editing.py: format kept, lint after
writing, reverted on errors), then reloads the knowledge base everywhere. The files stay the source of truth:
a change made in the file meanwhile makes the save fail (409) instead of overwriting it.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from bot.integrations import kb_reload
from bot.models import Role
from bot.web.access import role_required
from knowledge_base.authoring.faq_editing import EntryChanges, StaleEdit, UnknownEntry, edit_entry, file_hash
from knowledge_base.authoring.faq_files import load_faqs
from knowledge_base.authoring.reload_report import display_path
from knowledge_base.authoring.write_lock import FaqsBusy

bp = Blueprint("admin_faq_editor", __name__, url_prefix="/admin/faq/entries")


class EntryForm(FlaskForm):
    question = StringField("Frage", validators=[DataRequired(), Length(max=500)])
    alternatives = TextAreaField("Alternativen (eine je Zeile)", validators=[Length(max=20_000)])
    answer = TextAreaField("Antwort (Markdown)", validators=[DataRequired(), Length(max=20_000)])
    short_answer = StringField("Kurzantwort für SMS (höchstens 320 Zeichen)", validators=[Length(max=320)])
    tags = StringField("Schlagworte (durch Komma getrennt)", validators=[Length(max=500)])
    base_hash = HiddenField()


@bp.route("/<faq_id>/edit", methods=["GET", "POST"])
@role_required(Role.EDITOR)
def edit(faq_id: str):  # type: ignore[no-untyped-def]
    settings = kb_reload.gateway_search(current_app).knowledge_base().settings
    faq_dir = settings.faq_dir
    located = next((e for e in load_faqs(faq_dir).entries if e.entry.id == faq_id), None)
    if located is None:
        abort(404, f"keine FAQ mit der Kennung {faq_id} in den Dateien")
    form = EntryForm()
    findings = []
    status = 200
    if form.validate_on_submit():
        changes = EntryChanges(
            question=form.question.data or "",
            alternatives=(form.alternatives.data or "").splitlines(),
            answer=form.answer.data or "",
            short_answer=form.short_answer.data or None,
            tags=(form.tags.data or "").split(","),
        )
        try:
            result = edit_entry(faq_dir, faq_id, changes, form.base_hash.data or "",
                                redis_url=settings.redis_url.get_secret_value())
        except UnknownEntry:
            abort(404, f"keine FAQ mit der Kennung {faq_id} in den Dateien")
        except (StaleEdit, FaqsBusy) as refused:
            flash("Die Datei wurde inzwischen geändert – bitte neu laden. Ihre Änderung ist nicht gespeichert."
                  if isinstance(refused, StaleEdit) else
                  "Die FAQ-Dateien werden gerade anderswo geändert. Ihre Änderung ist nicht gespeichert – bitte "
                  "versuchen Sie es gleich noch einmal.")
            return render_template("admin/faq_edit.html", form=form, located=located, findings=[],
                                   file=display_path(located.path), faq_id=faq_id), (
                409 if isinstance(refused, StaleEdit) else 503)
        if result.written:
            outcome = kb_reload.reload_everywhere(current_app)
            flash(f"Gespeichert in {display_path(result.path)}. "
                  + ("Der Bot antwortet jetzt mit der neuen Fassung." if outcome.status == 200
                     else f"Neu laden: {outcome.actions_error or 'nicht übernommen'}"))
            return redirect(url_for("admin_faq.entry", faq_id=faq_id))
        findings, status = result.findings, 422
    elif form.is_submitted():
        status = 400
    else:
        entry = located.entry
        form.question.data = entry.question
        form.alternatives.data = "\n".join(entry.alternatives)
        form.answer.data = entry.answer
        form.short_answer.data = entry.short_answer or ""
        form.tags.data = ", ".join(entry.tags)
        form.base_hash.data = file_hash(located.path)
    return render_template("admin/faq_edit.html", form=form, located=located, findings=findings,
                           file=display_path(located.path), faq_id=faq_id), status
