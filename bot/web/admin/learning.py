"""`/admin/learning/`: what the service taught the bot since its model was trained, and suggestions to decide.

Shows when the served model was trained (Berlin time), how many confirmed pairs the next `train` adds, and
the agents' own replies that looked like an FAQ answer: an editor takes each over (`Übernehmen`) or drops it
(`Verwerfen`). Confirmed pairs are written for `train` at once (bot.conversation.learning).
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from bot.conversation import learning
from bot.db import get_session
from bot.integrations import kb_reload
from bot.models import Role
from bot.web.access import role_required
from bot.web.requests_json import form_ids
from common import labels
from knowledge_base.engine import ServedState

bp = Blueprint("admin_learning", __name__, url_prefix="/admin/learning")

DECISIONS = {"confirm": True, "reject": False}


@bp.get("/")
@role_required(Role.EDITOR)
def index():  # type: ignore[no-untyped-def]
    served = kb_reload.gateway_search(current_app).knowledge_base().snapshot()
    trained, trained_at = served_model(served)
    session = get_session()
    suggestions = learning.pending(session)
    questions = {entry.id: entry.question for entry in served.entries.values()}
    return render_template(
        "admin/learning.html",
        trained=trained,
        trained_at=trained_at,
        summary=learning.summary(session, trained_at),
        suggestions=suggestions,
        questions=questions,
        source_label=labels.pair_source,
    )


def served_model(served: ServedState) -> tuple[bool, datetime | None]:
    """Whether a model fine-tuned on this FAQ serves, and when it was trained (its folder's `training.json`)."""
    return served.trained, learning.trained_at(served.model) if served.trained else None


@bp.post("/decide")
@role_required(Role.EDITOR)
def decide():  # type: ignore[no-untyped-def]
    action = request.form.get("action", "")
    if action not in DECISIONS:
        abort(400, f"unbekannte Aktion „{action}“")
    ids = form_ids("ungültige Paar-Nummer", "keine Vorschläge ausgewählt")
    session = get_session()
    changed = learning.decide(session, ids, DECISIONS[action], current_user.id)
    session.commit()
    if changed and DECISIONS[action]:
        learning.export_quietly(session, learning.pairs_file(current_app.config))
    flash(f"{changed} Vorschlag/Vorschläge {'übernommen' if DECISIONS[action] else 'verworfen'}.")
    return redirect(url_for(".index"))
