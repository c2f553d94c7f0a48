"""`/admin/faq/`: the editors' FAQ pages — list and search, try a question, lint report, an entry's history,
reload — and `POST /admin/kb/reload`. Editing stays in the YAML files (git is the version history); every
entry says which file and line to edit. Role `editor` (or `admin`) for all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from bot import markdown_html
from bot.customers import outside_stores
from bot.db import get_session
from bot.errors import wants_json
from bot.integrations import kb_reload
from bot.models import Role
from bot.web.access import role_required
from bot.web.admin import faq_history
from common import labels
from knowledge_base.authoring.faq_files import LocatedEntry
from knowledge_base.authoring.reload_report import display_path
from knowledge_base.decision import decision_json
from knowledge_base.engine import KnowledgeBase, ServedState
from knowledge_base.german_text import fold
from knowledge_base.schema import FaqEntry

bp = Blueprint("admin_faq", __name__, url_prefix="/admin")
MAX_QUESTION_CHARS = 500
SIMILAR_SHOWN = 5
MODEL_KINDS = {"base": "Basismodell", "trained": "auf das FAQ trainiertes Modell", "fixed": "fest vorgegebenes Modell"}


@dataclass(frozen=True)
class Listed:
    """An entry as the list shows it: where to edit it, and whether it matches the text filter."""

    located: LocatedEntry
    file: str

    @property
    def entry(self) -> FaqEntry:
        return self.located.entry


def knowledge_base() -> KnowledgeBase:
    return kb_reload.gateway_search(current_app).knowledge_base()


def served(json: bool = False) -> ServedState:
    """The served state; while none was ever built (the files had errors from the start) the lint report instead."""
    kb = knowledge_base()
    if not kb.is_loaded:
        if json or wants_json():
            message = "die FAQ-Dateien haben Fehler und wurden noch nie geladen – siehe /admin/faq/lint"
            abort(make_response(jsonify(error=message), 503))
        flash("Die FAQ-Dateien haben Fehler und wurden noch nie fehlerfrei geladen: bitte zuerst beheben.")
        abort(redirect(url_for("admin_faq.lint_page")))
    return kb.snapshot()


def question_param(required: bool = False) -> str:
    """`q` from the query string: trimmed; too long is a 400 (as the inbox's FAQ search)."""
    text = request.args.get("q", "").strip()
    if len(text) > MAX_QUESTION_CHARS:
        abort(400, f"die Frage ist zu lang (höchstens {MAX_QUESTION_CHARS} Zeichen)")
    if required and not text:
        abort(400, "„q“ fehlt: welche Frage soll ausprobiert werden?")
    return text


def listed(state: ServedState) -> list[Listed]:
    items = sorted(state.located.values(), key=lambda item: (display_path(item.path), item.line))
    return [Listed(item, display_path(item.path)) for item in items]


def loose(text: str) -> str:
    """Lower case, umlauts folded both ways: "Rückgabe", "Rueckgabe" and "ruckgabe" all match."""
    return fold(text).replace("ae", "a").replace("oe", "o").replace("ue", "u")


def matches(item: Listed, words: list[str]) -> bool:
    """Every word of the filter occurs in the id, question, alternatives, answer or tags."""
    entry = item.entry
    haystack = loose(" ".join((entry.id, *entry.match_texts, entry.answer, *entry.tags)))
    return all(word in haystack for word in words)


def try_it(state: ServedState, question: str) -> dict:
    """What `python -m knowledge_base ask --json` prints, plus the answer for an `answer` (Markdown, and as
    sanitised HTML) and the German words for the decision and its reason — for the page and its script alike."""
    ranking, decision = state.rank_and_decide(question)
    report = decision_json(decision, ranking)
    report["question"] = question
    report["answer"] = state.entries[decision.faq_id].answer if decision.faq_id in state.entries else None
    report["answer_html"] = markdown_html.to_html(report["answer"]) if report["answer"] else None
    report["decision_label"] = labels.decision(report["decision"])
    report["reason_label"] = labels.decision_reason(report["reason"])
    return report


@bp.get("/faq/")
@role_required(Role.EDITOR)
def index():  # type: ignore[no-untyped-def]
    state = served()
    text = question_param()
    everything = listed(state)
    words = loose(text).split()
    shown = [item for item in everything if matches(item, words)] if words else everything
    similar = state.rank(text, SIMILAR_SHOWN) if text else []
    return render_template(
        "admin/faq_list.html",
        q=text,
        items=shown,
        total=len(everything),
        similar=similar,
        located=state.located,
        status=reload_status(state),
    )


@bp.get("/faq/try")
@role_required(Role.EDITOR)
def try_page():  # type: ignore[no-untyped-def]
    text = question_param()
    state = served()
    return render_template("admin/faq_try.html", q=text, report=try_it(state, text) if text else None)


@bp.get("/faq/try.json")
@role_required(Role.EDITOR)
def try_json():  # type: ignore[no-untyped-def]
    return jsonify(try_it(served(json=True), question_param(required=True)))


@bp.get("/faq/lint")
@role_required(Role.EDITOR)
def lint_page():  # type: ignore[no-untyped-def]
    kb = knowledge_base()
    findings = kb.check()
    return render_template(
        "admin/faq_lint.html",
        findings=findings,
        errors=sum(f.severity == "error" for f in findings),
        display_path=display_path,
        faq_dir=display_path(kb.settings.faq_dir),
    )


@bp.get("/faq/entries/<faq_id>")
@role_required(Role.EDITOR)
def entry(faq_id: str):  # type: ignore[no-untyped-def]
    state = served()
    located = state.located.get(faq_id)
    if located is None:
        abort(404, f"keine FAQ mit der Kennung {faq_id}")
    session = get_session()
    answered = faq_history.answered_questions(session, faq_id)
    return render_template(
        "admin/faq_entry.html",
        item=Listed(located, display_path(located.path)),
        answered=answered,
        nearly=faq_history.nearly_matched(session, faq_id),
        helpful=sum(a.feedback == "hilfreich" for a in answered),
        not_helpful=sum(a.feedback in ("nicht hilfreich", "nichts davon") for a in answered),
        action_server=outside_stores.feedback(current_app).counts(faq_id),
    )


@bp.post("/kb/reload")
@role_required(Role.EDITOR)
def reload():  # type: ignore[no-untyped-def]
    """JSON for scripts and the page's button (200 / 422 with the findings / 502); a plain form gets a redirect."""
    outcome = kb_reload.reload_everywhere(current_app)
    if wants_json() or request.headers.get("X-CSRFToken"):
        return jsonify(outcome.as_dict()), outcome.status
    if outcome.status == 200:
        flash(f"Neu geladen: {outcome.gateway.entries} Einträge, {outcome.gateway.embedded} Texte neu eingebettet, "
              f"{outcome.seconds:.1f} s.")
    elif outcome.status == 422:
        flash(f"Nicht übernommen: die Dateien haben {len(outcome.gateway.errors)} Fehler (siehe Prüfbericht); "
              "der Bot antwortet weiter mit dem letzten fehlerfreien Stand.")
    else:
        flash(f"Im Posteingang neu geladen, aber der Bot (Aktionsserver) nicht: {outcome.actions_error}")
    return redirect(url_for("admin_faq.index"))


def reload_status(state: ServedState) -> dict:
    """The last reload (button or watcher) for the page: when, accepted, how many entries, which model."""
    last = kb_reload.last_reload(current_app)
    return {
        "loaded_at": datetime.fromtimestamp(state.loaded_at, UTC),
        "entries": len(state.entries),
        "model": MODEL_KINDS.get(state.model_kind, state.model_kind),
        "last": last[1].as_dict() if last else None,
        "last_at": datetime.fromtimestamp(last[0], UTC) if last else None,
        "expected": state.calibration_summary,
    }
