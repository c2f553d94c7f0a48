"""The optional in-browser editor: it writes the YAML file as an editor would (only the entry's lines change),
reloads, refuses to overwrite a file changed meanwhile, and leaves the file alone when the folder has errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from bot.models import Role
from knowledge_base.settings import Settings
from tests.support.faq_edits import BROKEN_ENTRY, append_entry
from tests.support.login import AgentSession, csrf_of, logged_in


@pytest.fixture
def editor(kb_app: Flask) -> AgentSession:
    return logged_in(kb_app, "eva@example.com", Role.EDITOR)


def form_of(editor: AgentSession, faq_id: str) -> dict[str, str]:
    """The edit form's fields as the browser would send them back unchanged."""
    page = editor.get(f"/admin/faq/entries/{faq_id}/edit").get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]* name="(\w+)"[^>]* value="([^"]*)"', page))
    fields.update(re.findall(r'<textarea[^>]* name="(\w+)"[^>]*>\r?\n?(.*?)</textarea>', page, re.S))
    fields["csrf_token"] = csrf_of(page)
    return {k: v.replace("&#34;", '"').replace("&amp;", "&") for k, v in fields.items()}


def test_form_shows_the_entry(editor: AgentSession) -> None:
    fields = form_of(editor, "versand-kosten")
    assert fields["question"] == "Was kostet der Versand?"
    assert fields["alternatives"].splitlines() == ["Versandkosten Höhe", "Wie teuer ist der Versand?"]
    assert fields["answer"] == "Der Versand kostet 4,95 €, ab 50 € ist er kostenlos."
    assert len(fields["base_hash"]) == 16


def test_saving_changes_only_the_entry_and_the_bot_answers_with_it(editor: AgentSession, kb_settings: Settings) -> None:
    faq_file = kb_settings.faq_dir / "versand.yml"
    before = faq_file.read_text().splitlines()
    fields = form_of(editor, "versand-kosten")
    fields["answer"] = "Der Versand kostet 3,95 €.\nAb 40 € liefern wir **kostenlos**."
    fields["alternatives"] += "\nPorto?"
    response = editor.client.post("/admin/faq/entries/versand-kosten/edit", data=fields)
    assert response.status_code == 302 and response.location.endswith("/admin/faq/entries/versand-kosten")
    after = faq_file.read_text().splitlines()
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b]
    assert before[:changed[0]] == after[:changed[0]] and changed[0] >= 9  # the first entry untouched
    assert "      - Porto?" in after and "    answer: |" in after
    assert "      Ab 40 € liefern wir **kostenlos**." in after
    assert after[-7:] == before[-7:]  # the next entry (7 lines) untouched
    tried = editor.get("/admin/faq/try.json", query_string={"q": "Was kostet der Versand?"}).json
    assert tried["answer"] == "Der Versand kostet 3,95 €.\nAb 40 € liefern wir **kostenlos**."
    assert "Der Bot antwortet jetzt mit der neuen Fassung." in editor.get(response.location).get_data(as_text=True)


def test_a_file_changed_meanwhile_is_not_overwritten(editor: AgentSession, kb_settings: Settings) -> None:
    faq_file = kb_settings.faq_dir / "versand.yml"
    fields = form_of(editor, "versand-kosten")
    faq_file.write_text(faq_file.read_text().replace("Lieferzeit Deutschland", "Lieferzeit DE"))  # someone else
    fields["answer"] = "Überschreibt nichts."
    response = editor.client.post("/admin/faq/entries/versand-kosten/edit", data=fields)
    assert response.status_code == 409
    assert "Die Datei wurde inzwischen geändert – bitte neu laden." in response.get_data(as_text=True)
    text = faq_file.read_text()
    assert "Lieferzeit DE" in text and "Überschreibt nichts." not in text


def test_errors_in_the_folder_leave_the_file_as_it_was(editor: AgentSession, kb_settings: Settings) -> None:
    other = kb_settings.faq_dir / "kaputt.yml"
    other.write_text("topic: Kaputt\nfaqs:\n")
    append_entry(other, BROKEN_ENTRY)
    faq_file = kb_settings.faq_dir / "versand.yml"
    original = faq_file.read_text()
    fields = form_of(editor, "versand-kosten")
    fields["answer"] = "Neue Antwort."
    response = editor.client.post("/admin/faq/entries/versand-kosten/edit", data=fields)
    assert response.status_code == 422
    assert "kaputt.yml:3: entry &#39;kaputt&#39;: missing field `answer`" in response.get_data(as_text=True)
    assert faq_file.read_text() == original


def test_empty_answer_is_a_400_and_nothing_is_written(editor: AgentSession, kb_settings: Settings) -> None:
    faq_file = kb_settings.faq_dir / "versand.yml"
    original = faq_file.read_text()
    fields = form_of(editor, "versand-kosten")
    fields["answer"] = "   "
    response = editor.client.post("/admin/faq/entries/versand-kosten/edit", data=fields)
    assert response.status_code == 400 and faq_file.read_text() == original


def test_unknown_entry_is_404(editor: AgentSession) -> None:
    assert editor.get("/admin/faq/entries/gibt-es-nicht/edit").status_code == 404


def test_only_editors(kb_app: Flask, tmp_path: Path) -> None:
    agent = logged_in(kb_app, "anna@example.com", Role.AGENT)
    assert agent.get("/admin/faq/entries/versand-kosten/edit").status_code == 403
