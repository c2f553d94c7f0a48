"""`/admin/unanswered/`: what customers asked that the bot could not answer, grouped, for editors to act on.

Per cluster: add the wording to an entry's `alternatives` (written into the FAQ file, linted, reloaded live,
then asked again so the editor sees whether the bot answers it now), "new FAQ needed", or "ignore".
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from bot.conversation import learning, unanswered
from bot.conversation.question_clusters import QuestionEmbeddings
from bot.db import get_session
from bot.integrations import kb_reload
from bot.models import Role, UnansweredStatus
from bot.web.access import role_required
from bot.web.requests_json import form_ids
from common import labels
from knowledge_base.authoring.faq_alternatives import UnknownEntry, add_alternatives
from knowledge_base.authoring.write_lock import FaqsBusy
from knowledge_base.engine import KnowledgeBase

bp = Blueprint("admin_unanswered", __name__, url_prefix="/admin/unanswered")
log = logging.getLogger("auskunft.unanswered")

FILTERS = {
    "open": "Offen",
    UnansweredStatus.ALTERNATIVE_ADDED: "Als Alternative ergänzt",
    UnansweredStatus.NEW_FAQ: "Neue FAQ nötig",
    UnansweredStatus.IGNORED: "Ignoriert",
    "all": "Alle",
}
ACTIONS = {
    "alternative": UnansweredStatus.ALTERNATIVE_ADDED,
    "new_faq": UnansweredStatus.NEW_FAQ,
    "ignore": UnansweredStatus.IGNORED,
}
KIND_NAMES = {unanswered.LOW_CONFIDENCE: "unsicher übergeben", unanswered.NOT_HELPFUL: "„Nein“"}
MAX_PHRASING_CHARS = 300


def knowledge_base() -> KnowledgeBase:
    return kb_reload.gateway_search(current_app).knowledge_base()


def embeddings(kb: KnowledgeBase) -> QuestionEmbeddings:
    """Kept beside the knowledge base's own index, in `AUSKUNFT_INDEX_DIR/unanswered/`."""
    if "unanswered_embeddings" not in current_app.extensions:
        current_app.extensions["unanswered_embeddings"] = QuestionEmbeddings(kb.settings.index_dir / "unanswered")
    return current_app.extensions["unanswered_embeddings"]


@bp.get("/")
@role_required(Role.EDITOR)
def index():  # type: ignore[no-untyped-def]
    shown = request.args.get("status", "open")
    if shown not in FILTERS:
        abort(400, f"unbekannter Filter „{shown}“")
    kb = knowledge_base()
    served = kb.snapshot()
    status = None if shown == "all" else shown
    # the base model, whatever is served: the distance threshold was chosen on it, and its vectors stay cached
    # across FAQ edits and fine-tunes (a served model changes with them)
    groups = unanswered.clusters(get_session(), kb.base_embedder(), embeddings(kb), status)
    entries = sorted(served.entries.values(), key=lambda entry: entry.id)
    return render_template(
        "admin/unanswered.html", clusters=groups, entries=entries, filters=FILTERS, shown=shown,
        status_names=FILTERS, kind_names=KIND_NAMES,
    )


@bp.post("/mark")
@role_required(Role.EDITOR)
def mark():  # type: ignore[no-untyped-def]
    action = request.form.get("action", "")
    if action not in ACTIONS:
        abort(400, f"unbekannte Aktion „{action}“")
    ids = form_ids("ungültige Fragen-Nummer", "keine Fragen ausgewählt")
    faq_id = None
    added: list[str] = []
    if action == "alternative":
        faq_id = request.form.get("faq_id", "").strip()
        phrasings = [p for p in request.form.getlist("phrasing") if p.strip()]
        if own := request.form.get("own_phrasing", "").strip():
            phrasings.append(own)
        if not faq_id or not phrasings:
            abort(400, "bitte einen Eintrag und mindestens eine Formulierung wählen")
        if any(len(p) > MAX_PHRASING_CHARS for p in phrasings):
            abort(400, f"eine Formulierung hat mehr als {MAX_PHRASING_CHARS} Zeichen")
        if (written := _add_alternatives(faq_id, phrasings)) is None:
            return redirect(url_for(".index"))
        added = written
    changed = unanswered.mark(get_session(), ids, ACTIONS[action], current_user.id, faq_id)
    if added and faq_id:  # counted on /admin/learning/ as new training pairs (the FAQ file holds them)
        for wording, conversation_id in unanswered.sources(get_session(), ids, added).items():
            learning.record_wordings(get_session(), faq_id, [wording], conversation_id, current_user.id)
    get_session().commit()
    if action != "alternative":
        flash(f"{changed} Frage(n) markiert: {FILTERS[ACTIONS[action]]}.")
    return redirect(url_for(".index"))


def _add_alternatives(faq_id: str, phrasings: list[str]) -> list[str] | None:
    """Write, lint, reload, ask again; the wordings written, or None (and the lint report flashed) when the
    files could not be changed."""
    kb = knowledge_base()
    try:
        result = add_alternatives(kb.settings.faq_dir, faq_id, phrasings, kb.settings.redis_url.get_secret_value())
    except UnknownEntry:
        abort(400, f"es gibt keinen Eintrag „{faq_id}“")
    except FaqsBusy:
        flash("Nicht gespeichert: die FAQ-Dateien werden gerade anderswo geändert – bitte versuchen Sie es gleich "
              "noch einmal.")
        return None
    if result.reverted:
        flash(f"Nicht gespeichert: die FAQ-Dateien haben Fehler, {result.path.name} ist unverändert.")
        for finding in result.findings:
            flash(f"Prüfbericht: {finding.path.name}:{finding.line}: {finding.message}")
        return None
    if result.added:
        outcome = kb_reload.reload_everywhere(current_app)
        log.info("%d alternative(s) added to %s by agent %s; reload accepted: %s", len(result.added), faq_id,
                 current_user.id, outcome.accepted)
        if outcome.actions_error:
            flash(f"Achtung: der Bot selbst hat noch nicht neu geladen – {outcome.actions_error}")
    flash(f"Zu „{faq_id}“ hinzugefügt ({result.path.name}): " + ", ".join(f"„{p}“" for p in result.added)
          if result.added else f"„{faq_id}“ hatte diese Formulierungen schon.")
    for finding in result.findings:
        flash(f"Hinweis: {finding.message}")
    for phrasing in phrasings:
        decision = kb.ask(phrasing)
        if decision.action == "answer" and decision.faq_id == faq_id:
            flash(f"Der Bot beantwortet „{phrasing}“ jetzt mit „{faq_id}“.")
        else:
            flash(f"Achtung: „{phrasing}“ ergibt noch „{labels.decision(decision.action)}“ ({decision.faq_id or '–'}).")
    return result.added
