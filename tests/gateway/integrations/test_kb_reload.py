"""Live reload in one process: questions keep being answered while the index is swapped, a broken file is
rejected with the lint report and the last good index keeps answering, only changed texts are embedded,
the file watcher picks up a saved file, and the metrics count it all."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client import REGISTRY
from pydantic import SecretStr
from werkzeug.serving import make_server

from bot.integrations.faq_search import KnowledgeBaseSearch
from bot.models import Role
from knowledge_base import training
from knowledge_base.authoring.faq_files import load_faqs
from knowledge_base.engine import KnowledgeBase
from knowledge_base.service import KnowledgeService
from knowledge_base.settings import Settings
from tests.support.app import faq_search, make_app
from tests.support.faq_edits import BROKEN_ENTRY, NEW_ENTRY, append_entry, replace_in
from tests.support.login import logged_in
from tests.support.redis_db import test_redis_url

OLD_ANSWER = "Der Versand kostet 4,95 €, ab 50 € ist er kostenlos."
NEW_ANSWER = "Der Versand kostet jetzt 3,95 €, ab 40 € ist er kostenlos."


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def metric(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def ask_continuously(ask: Callable[[], None], stop: threading.Event, errors: list[BaseException], counts: list[int]):
    def run() -> None:
        while not stop.is_set():
            try:
                ask()
                counts.append(1)
            except BaseException as error:  # every failure counts, whatever it is
                errors.append(error)

    return threading.Thread(target=run, daemon=True)


def test_questions_keep_being_answered_during_reloads(kb_settings: Settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    kb = KnowledgeBase(kb_settings, embedder=fake_embedder)
    faq_file = kb_settings.faq_dir / "versand.yml"
    assert kb.refresh().accepted
    seen: list[str] = []

    def ask() -> None:
        # what the bot does per question: decide, then fetch the decided entry — from one snapshot
        state = kb.snapshot()
        decision = state.ask("Was kostet der Versand?")
        assert decision.action == "answer" and decision.faq_id == "versand-kosten"
        seen.append(state.entries[decision.faq_id].answer)

    stop, errors, counts = threading.Event(), [], []
    askers = [ask_continuously(ask, stop, errors, counts) for _ in range(4)]
    for thread in askers:
        thread.start()
    try:
        for round_ in range(10):  # the answer flips back and forth; an entry comes and goes
            old, new = (OLD_ANSWER, NEW_ANSWER) if round_ % 2 == 0 else (NEW_ANSWER, OLD_ANSWER)
            replace_in(faq_file, old, new)
            if round_ % 2 == 0:
                append_entry(faq_file, NEW_ENTRY)
            else:
                replace_in(faq_file, NEW_ENTRY, "")
            result = kb.refresh()
            assert result.accepted and result.changed == ("versand-kosten",)
            assert kb.entries["versand-kosten"].answer == new
    finally:
        stop.set()
        for thread in askers:
            thread.join(10)
    assert errors == []
    assert sum(counts) > 20 and {OLD_ANSWER, NEW_ANSWER} <= set(seen)


def test_only_changed_texts_are_embedded_and_the_change_is_reported(kb_settings: Settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    kb = KnowledgeBase(kb_settings, embedder=fake_embedder)
    first = kb.refresh()
    assert first.accepted and first.added == ("retoure-frist", "versand-kosten", "versand-lieferzeit")
    assert first.embedded == first.texts == 3 + 9  # answers + phrasings
    append_entry(kb_settings.faq_dir / "versand.yml", NEW_ENTRY)
    fake_embedder.encoded.clear()
    result = kb.refresh()
    assert result.accepted and result.added == ("zahlung-bitcoin",) and not result.changed and not result.removed
    assert result.embedded == 4 and len(fake_embedder.encoded) == 4  # its question, 2 alternatives, answer
    assert kb.rank("Kann ich mit Bitcoin bezahlen?")[0].faq_id == "zahlung-bitcoin"
    assert set(result.seconds) == {"load_and_lint", "index", "total"}


def test_broken_file_is_rejected_with_file_and_line_and_the_last_index_answers(
    kb_app: Flask, kb_settings: Settings
) -> None:
    editor = logged_in(kb_app, "eva@example.com", Role.EDITOR)
    assert editor.reload().status_code == 200
    failures = metric("auskunft_kb_reload_failures_total")
    faq_file = kb_settings.faq_dir / "versand.yml"
    replace_in(faq_file, OLD_ANSWER, NEW_ANSWER)
    broken_line = len(faq_file.read_text().splitlines()) + 1
    append_entry(faq_file, BROKEN_ENTRY)
    response = editor.reload()
    assert response.status_code == 422
    body = response.json
    assert body["accepted"] is False and body["errors"] == 1
    [finding] = [f for f in body["findings"] if f["severity"] == "error"]
    assert finding["file"].endswith("faqs/versand.yml") and finding["line"] == broken_line
    assert "missing field `answer`" in finding["message"]
    assert body["processes"]["gateway"]["accepted"] is False
    assert metric("auskunft_kb_reload_failures_total") == failures + 1
    # the last good index answers, with the old answer: nothing of the broken edit is served
    tried = editor.get("/admin/faq/try.json", query_string={"q": "Was kostet der Versand?"}).json
    assert tried["faq_id"] == "versand-kosten" and tried["answer"] == OLD_ANSWER
    # fixed → accepted, and the new answer is served
    replace_in(faq_file, BROKEN_ENTRY, "")
    response = editor.reload()
    assert response.status_code == 200 and response.json["processes"]["gateway"]["changed"] == ["versand-kosten"]
    tried = editor.get("/admin/faq/try.json", query_string={"q": "Was kostet der Versand?"}).json
    assert tried["answer"] == NEW_ANSWER


def test_reload_endpoint_reports_counts_timings_and_moves_the_metrics(kb_app: Flask, kb_settings: Settings) -> None:
    editor = logged_in(kb_app, "eva@example.com", Role.EDITOR)
    editor.get("/admin/faq/")  # loads the knowledge base
    reloads = metric("auskunft_kb_reloads_total")
    append_entry(kb_settings.faq_dir / "versand.yml", NEW_ENTRY)
    response = editor.reload()
    assert response.status_code == 200
    gateway = response.json["processes"]["gateway"]
    assert gateway["added"] == ["zahlung-bitcoin"] and gateway["embedded"] == 4 and gateway["entries"] == 4
    assert gateway["seconds"]["total"] < 5
    assert response.json["processes"]["actions"] == {"skipped": "kein Aktionsserver konfiguriert"}
    assert metric("auskunft_kb_reloads_total") == reloads + 1
    assert metric("auskunft_kb_index_entries") == 4 and metric("auskunft_kb_index_texts") == 12


def test_unreachable_action_server_is_a_502_not_a_silent_success(
    tmp_path: Path, kb_settings: Settings, fake_embedder  # type: ignore[no-untyped-def]
) -> None:
    app = make_app(tmp_path, FAQ_SEARCH=faq_search(kb_settings, fake_embedder), ACTIONS_URL="http://127.0.0.1:9")
    editor = logged_in(app, "eva@example.com", Role.EDITOR)
    response = editor.reload()
    assert response.status_code == 502
    assert "nicht erreichbar" in response.json["processes"]["actions"]["error"]
    assert response.json["processes"]["gateway"]["accepted"] is True


def test_plain_form_reload_redirects_with_a_message(kb_app: Flask) -> None:
    editor = logged_in(kb_app, "eva@example.com", Role.EDITOR)
    response = editor.client.post("/admin/kb/reload", data={"csrf_token": editor.csrf})
    assert response.status_code == 302 and response.location.endswith("/admin/faq/")
    page = editor.get("/admin/faq/").get_data(as_text=True)
    assert "Neu geladen: 3 Einträge" in page


def test_reload_without_csrf_token_is_refused(kb_app: Flask) -> None:
    editor = logged_in(kb_app, "eva@example.com", Role.EDITOR)
    response = editor.client.post("/admin/kb/reload", headers={"Accept": "application/json"})
    assert response.status_code == 400 and "CSRF" in response.json["error"]


def test_watcher_reloads_a_saved_file(tmp_path: Path, kb_settings: Settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    search = KnowledgeBaseSearch(lambda: KnowledgeBase(kb_settings, embedder=fake_embedder), watch=True)
    try:
        kb = search.knowledge_base()
        assert "zahlung-bitcoin" not in kb.entries
        append_entry(kb_settings.faq_dir / "versand.yml", NEW_ENTRY)
        wait_for(lambda: "zahlung-bitcoin" in kb.entries, timeout=10)
        assert kb.rank("Kann ich mit Bitcoin bezahlen?")[0].faq_id == "zahlung-bitcoin"
        # a broken save is rejected by the watcher too: the last good index stays
        append_entry(kb_settings.faq_dir / "versand.yml", BROKEN_ENTRY)
        wait_for(lambda: kb.last_result is not None and not kb.last_result.accepted, timeout=10)
        assert "zahlung-bitcoin" in kb.entries and "kaputt" not in kb.entries
        # an editor's save-as-temp-then-rename counts as a change too
        replacement = tmp_path / "neu.yml.tmp"
        replacement.write_text((kb_settings.faq_dir / "versand.yml").read_text().replace(BROKEN_ENTRY, ""))
        replacement.replace(kb_settings.faq_dir / "versand.yml")
        wait_for(lambda: kb.last_result is not None and kb.last_result.accepted, timeout=10)
    finally:
        search.close()


def test_reload_under_http_load_fails_no_question(kb_app: Flask, kb_settings: Settings) -> None:
    """Editors try questions over real HTTP (threaded server) while others reload; every request succeeds."""
    server = make_server("127.0.0.1", 0, kb_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    editor = logged_in(kb_app, "eva@example.com", Role.EDITOR)
    cookie = editor.client.get_cookie("session")
    assert cookie is not None
    import requests

    def ask() -> None:
        with requests.get(f"{base}/admin/faq/try.json", params={"q": "Was kostet der Versand?"},
                          cookies={"session": cookie.value}, timeout=30) as response:
            assert response.status_code == 200, response.text
            assert response.json()["faq_id"] == "versand-kosten"

    ask()
    stop, errors, counts = threading.Event(), [], []
    askers = [ask_continuously(ask, stop, errors, counts) for _ in range(3)]
    for thread in askers:
        thread.start()
    try:
        faq_file = kb_settings.faq_dir / "versand.yml"
        for round_ in range(6):
            old, new = (OLD_ANSWER, NEW_ANSWER) if round_ % 2 == 0 else (NEW_ANSWER, OLD_ANSWER)
            replace_in(faq_file, old, new)
            response = requests.post(f"{base}/admin/kb/reload", cookies={"session": cookie.value},
                                     headers={"X-CSRFToken": editor.csrf, "Accept": "application/json"}, timeout=30)
            assert response.status_code == 200, response.text
    finally:
        stop.set()
        for thread in askers:
            thread.join(10)
        server.shutdown()
    assert errors == [] and sum(counts) > 10


@pytest.mark.slow
def test_reload_under_load_with_the_real_model(tmp_path: Path, kb_settings: Settings, real_embedder) -> None:  # type: ignore[no-untyped-def]
    """The same with e5-small: the tokenizer and the model are used by askers and the reload at once."""
    kb = KnowledgeBase(kb_settings, embedder=real_embedder)
    assert kb.refresh().accepted
    faq_file = kb_settings.faq_dir / "versand.yml"
    answers: list[str] = []

    def ask() -> None:
        state = kb.snapshot()
        decision = state.ask("Was kostet der Versand?")
        assert decision.faq_id == "versand-kosten", decision
        answers.append(state.entries["versand-kosten"].answer)

    stop, errors, counts = threading.Event(), [], []
    askers = [ask_continuously(ask, stop, errors, counts) for _ in range(2)]
    for thread in askers:
        thread.start()
    try:
        for round_ in range(4):
            old, new = (OLD_ANSWER, NEW_ANSWER) if round_ % 2 == 0 else (NEW_ANSWER, OLD_ANSWER)
            replace_in(faq_file, old, new)
            result = kb.refresh()
            assert result.accepted and result.changed == ("versand-kosten",) and result.embedded <= 1
    finally:
        stop.set()
        for thread in askers:
            thread.join(30)
    assert errors == [] and counts and {OLD_ANSWER, NEW_ANSWER} <= set(answers)


def fake_trained_model(settings: Settings, content_hash: str, stamp: float) -> Path:
    """A "fine-tuned" model for `content_hash`: the base model's files linked into a folder with the marker."""
    folder = settings.trained_models_dir / training.model_key(settings, content_hash)
    folder.mkdir(parents=True)
    for item in Path(settings.embedding_model).iterdir():
        (folder / item.name).symlink_to(item)
    marker = {"version": training.TRAINING_VERSION, "base_model": settings.embedding_model,
              "content_hash": content_hash, "source": str(settings.faq_dir.resolve()), "completed_at": stamp}
    (folder / training.MARKER).write_text(json.dumps(marker))
    return folder


@pytest.mark.slow
def test_after_an_edit_the_served_model_stays_until_one_trained_on_the_new_content_appears(
    settings: Settings,
) -> None:
    old = fake_trained_model(settings, load_faqs(settings.faq_dir).content_hash(), time.time())
    kb = KnowledgeBase(settings)
    assert kb.refresh().accepted and kb.snapshot().model == str(old)
    replace_in(settings.faq_dir / "versand.yml", OLD_ANSWER, NEW_ANSWER)
    result = kb.refresh()
    assert result.accepted and result.model == "trained" and kb.snapshot().model == str(old)  # no waiting
    assert kb.entries["versand-kosten"].answer == NEW_ANSWER
    assert kb.use_trained_model_if_ready() is False  # nothing newer yet
    new = fake_trained_model(settings, load_faqs(settings.faq_dir).content_hash(), time.time() + 1)
    assert kb.use_trained_model_if_ready() is True
    assert kb.snapshot().model == str(new) and kb.entries["versand-kosten"].answer == NEW_ANSWER


def test_with_redis_a_reload_reaches_the_other_replicas_and_says_how_many(
    tmp_path: Path, kb_settings: Settings, fake_embedder  # type: ignore[no-untyped-def]
) -> None:
    """`AUSKUNFT_REDIS_URL`: the editor's reload on this gateway reaches an action server it does not call."""
    shared = kb_settings.model_copy(update={"redis_url": SecretStr(test_redis_url())})
    other_replica = KnowledgeService(lambda: KnowledgeBase(shared, embedder=fake_embedder, persist=False))
    app = make_app(tmp_path, FAQ_SEARCH=faq_search(shared, fake_embedder))
    try:
        other_replica.knowledge_base()
        editor = logged_in(app, "eva@example.com", Role.EDITOR)
        editor.get("/admin/faq/")
        replace_in(kb_settings.faq_dir / "versand.yml", OLD_ANSWER, NEW_ANSWER)
        response = editor.reload()
        assert response.status_code == 200 and response.json["processes"]["replicas"]["told"] >= 1
        wait_for(lambda: other_replica.knowledge_base().entries["versand-kosten"].answer == NEW_ANSWER, 15.0)
    finally:
        app.config["FAQ_SEARCH"].close()
        other_replica.close()
