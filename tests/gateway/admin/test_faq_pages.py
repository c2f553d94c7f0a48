"""The editors' FAQ pages without a browser: list and search with file:line, the try-it page (no JS) and its
JSON (the same as `ask --json`), the lint report, an entry's history with the customers' feedback."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from bot.db import get_session
from bot.models import Contact, Conversation, Direction, Message, Role, Sender
from knowledge_base.settings import PROJECT_ROOT, Settings
from tests.support.app import faq_search, make_app
from tests.support.faq_edits import BROKEN_ENTRY, append_entry
from tests.support.login import AgentSession, logged_in


@pytest.fixture
def editor(kb_app: Flask) -> AgentSession:
    return logged_in(kb_app, "eva@example.com", Role.EDITOR)


def test_list_shows_every_entry_with_file_and_line(editor: AgentSession) -> None:
    page = editor.get("/admin/faq/").get_data(as_text=True)
    for faq_id, line in (("versand-lieferzeit", 3), ("versand-kosten", 10), ("retoure-frist", 17)):
        assert f'data-faq-id="{faq_id}"' in page
        assert f"faqs/versand.yml, Zeile {line}" in page
    assert "3</strong> Einträgen" in page


def test_search_filters_by_words_in_any_field_with_umlauts_folded(editor: AgentSession) -> None:
    page = editor.get("/admin/faq/", query_string={"q": "ruckgabe"}).get_data(as_text=True)  # "Rückgabe…"
    assert 'data-faq-id="retoure-frist"' in page and 'data-faq-id="versand-kosten"' not in page
    assert "1 von 3 Einträgen" in page
    page = editor.get("/admin/faq/", query_string={"q": "Rückgabe"}).get_data(as_text=True)
    assert 'data-faq-id="retoure-frist"' in page and "1 von 3 Einträgen" in page
    page = editor.get("/admin/faq/", query_string={"q": "4,95"}).get_data(as_text=True)  # in the answer only
    assert 'data-faq-id="versand-kosten"' in page and 'data-faq-id="retoure-frist"' not in page
    assert "Der Bedeutung nach am nächsten" in page  # the semantic neighbours


def test_try_page_without_javascript_shows_decision_and_candidates(editor: AgentSession) -> None:
    page = editor.get("/admin/faq/try", query_string={"q": "Was kostet der Versand?"}).get_data(as_text=True)
    assert 'data-decision="answer"' in page and "versand-kosten" in page
    assert page.count("<tr><td><a href=\"/admin/faq/entries/") == 3  # all three entries ranked, with scores
    assert "ab 50 € ist er kostenlos" in page  # the answer the customer would get


def test_try_json_is_what_ask_json_prints(editor: AgentSession, kb_settings: Settings) -> None:
    """The same decision and candidates as the command line (run with the real model on the same files)."""
    question = "Was kostet der Versand?"
    ours = editor.get("/admin/faq/try.json", query_string={"q": question}).json
    assert set(ours) >= {"decision", "confidence", "reason", "faq_id", "options", "candidates"}
    assert set(ours["candidates"][0]) == {"faq_id", "question", "score", "question_similarity",
                                          "answer_similarity", "lexical"}
    assert ours["candidates"][0]["faq_id"] == ours["faq_id"] == "versand-kosten"


@pytest.mark.slow
def test_try_json_matches_the_cli_with_the_real_model(tmp_path: Path, kb_settings: Settings, real_embedder) -> None:  # type: ignore[no-untyped-def]
    app = make_app(tmp_path, FAQ_SEARCH=faq_search(kb_settings))  # the configured (real) model, as the CLI uses it
    editor = logged_in(app, "eva@example.com", Role.EDITOR)
    question = "wie teuer ist der versand"
    ours = editor.get("/admin/faq/try.json", query_string={"q": question}).json
    env = {"AUSKUNFT_FAQ_DIR": str(kb_settings.faq_dir), "AUSKUNFT_INDEX_DIR": str(kb_settings.index_dir),
           "AUSKUNFT_USE_TRAINED_MODEL": "false", "PATH": "/usr/bin:/bin",
           # the test's models folder: no fast-question export there, so both sides embed with the same model
           "AUSKUNFT_MODELS_DIR": str(kb_settings.models_dir)}
    printed = subprocess.run([sys.executable, "-m", "knowledge_base", "ask", "--json", question], cwd=PROJECT_ROOT,
                             env=env, capture_output=True, text=True, check=True).stdout
    cli = json.loads(printed)
    extra = ("question", "answer", "answer_html", "decision_label", "reason_label")  # for the page: words, HTML
    assert {k: v for k, v in ours.items() if k not in extra} == cli


def test_try_json_needs_a_question_of_sensible_length(editor: AgentSession) -> None:
    assert editor.get("/admin/faq/try.json").status_code == 400
    assert editor.get("/admin/faq/try.json", query_string={"q": "x" * 501}).status_code == 400


def test_lint_page_shows_errors_with_file_and_line(editor: AgentSession, kb_settings: Settings) -> None:
    assert "Keine Fehler, keine Warnungen." in editor.get("/admin/faq/lint").get_data(as_text=True)
    faq_file = kb_settings.faq_dir / "versand.yml"
    line = len(faq_file.read_text().splitlines()) + 1
    append_entry(faq_file, BROKEN_ENTRY)
    page = editor.get("/admin/faq/lint").get_data(as_text=True)
    assert "1 Fehler" in page and "missing field `answer`" in page
    assert f"<td>{line}</td>" in page and "faqs/versand.yml" in page


def seed_history(app: Flask) -> None:
    """Three questions versand-kosten answered (helpful, not helpful, no feedback), one clarify that offered it."""
    with app.app_context():
        session = get_session()
        conversation = Conversation(contact=Contact(), token="t1", rasa_sender_id="s1")
        session.add(conversation)

        def say(text: str, payload: dict) -> None:  # type: ignore[type-arg]
            session.add(Message(conversation=conversation, direction=Direction.INCOMING, sender=Sender.CONTACT,
                                text=text, payload=payload))
            session.flush()

        def decided(action: str, faq_id: str | None, candidates: list[str]) -> dict:  # type: ignore[type-arg]
            return {"decision": {"type": "decision", "action": action, "faq_id": faq_id, "confidence": 0.9,
                                 "reason": "", "candidates": [{"faq_id": c, "question": c, "score": 0.9}
                                                              for c in candidates]}}

        say("was kostet versand", decided("answer", "versand-kosten", ["versand-kosten"]))
        say("Ja", {"intent": "/feedback_helpful"})
        say("versandkosten österreich", decided("answer", "versand-kosten", ["versand-kosten"]))
        say("Nein", {"intent": "/feedback_not_helpful"})
        say("porto?", decided("answer", "versand-kosten", ["versand-kosten"]))
        say("wie lange und was kostet es", decided("clarify", None, ["versand-lieferzeit", "versand-kosten"]))
        say("lieferzeit", decided("answer", "versand-lieferzeit", ["versand-lieferzeit"]))
        session.commit()


def test_entry_page_shows_where_to_edit_and_its_history(kb_app: Flask, editor: AgentSession, tmp_path: Path) -> None:
    seed_history(kb_app)
    with sqlite3.connect(tmp_path / "feedback.db") as db:  # the action server's own feedback file
        db.execute("CREATE TABLE feedback (id INTEGER PRIMARY KEY, created_at TEXT, sender_id TEXT, faq_id TEXT,"
                   " helpful INTEGER, kind TEXT, question TEXT)")
        db.executemany("INSERT INTO feedback (created_at, sender_id, faq_id, helpful, kind) VALUES (?, ?, ?, ?, ?)",
                       [("2026-11-25", "a", "versand-kosten", 1, "button")] * 4
                       + [("2026-11-25", "b", "versand-kosten", 0, "button")])
    db.close()
    page = editor.get("/admin/faq/entries/versand-kosten").get_data(as_text=True)
    assert "Bearbeiten in <code>" in page and "faqs/versand.yml</code>, Zeile 10" in page
    answered = page.split('id="answered"')[1].split("</table>")[0]
    assert answered.count("<tr><td>") == 3  # its three questions, not the other entry's
    assert "porto?" in answered and "lieferzeit" not in answered
    assert "1 × hilfreich, 1 × nicht hilfreich" in page
    assert "Insgesamt beim Bot gespeichert: 4 × hilfreich,\n  1 × nicht hilfreich" in page
    nearly = page.split('id="nearly"')[1].split("</table>")[0]
    assert "wie lange und was kostet es" in nearly


def test_unknown_entry_is_404(editor: AgentSession) -> None:
    assert editor.get("/admin/faq/entries/gibt-es-nicht").status_code == 404


def test_files_broken_from_the_start_lead_to_the_lint_report_not_an_error(kb_app: Flask, kb_settings: Settings) -> None:
    append_entry(kb_settings.faq_dir / "versand.yml", BROKEN_ENTRY)
    editor = logged_in(kb_app, "eva@example.com", Role.EDITOR)
    response = editor.get("/admin/faq/")
    assert response.status_code == 302 and response.location.endswith("/admin/faq/lint")
    page = editor.get(response.location).get_data(as_text=True)
    assert "noch nie fehlerfrei geladen" in page and "missing field `answer`" in page
    response = editor.get("/admin/faq/try.json", query_string={"q": "Versand"})
    assert response.status_code == 503 and "noch nie geladen" in response.json["error"]
    assert editor.reload().status_code == 422


def test_list_shows_what_the_calibration_expects_in_german(tmp_path: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    """The demo shop calibrates: the page shows the expected shares; the tiny three-entry FAQ falls back."""
    folder = shutil.copytree(PROJECT_ROOT / "knowledge_base" / "faqs", tmp_path / "faqs")
    settings = Settings(faq_dir=folder, index_dir=tmp_path / "index", models_dir=tmp_path / "models",
                        use_trained_model=False)
    app = make_app(tmp_path, FAQ_SEARCH=faq_search(settings, fake_embedder))
    try:
        page = logged_in(app, "eva@example.com", Role.EDITOR).get("/admin/faq/").get_data(as_text=True)
    finally:
        app.config["FAQ_SEARCH"].close()
    assert "Erwartet bei Fragen, die das FAQ abdeckt:" in page
    assert "direkt beantwortet" in page and "Rückfrage mit Vorschlägen" in page and "Übergabe an das Team" in page
    assert "Erwartete falsche Antworten:" in page


def test_list_says_when_the_fixed_thresholds_decide(editor: AgentSession) -> None:
    page = editor.get("/admin/faq/").get_data(as_text=True)
    assert "Keine Kalibrierung: zu wenige Formulierungen zum Kalibrieren" in page
