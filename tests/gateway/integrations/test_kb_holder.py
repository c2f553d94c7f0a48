"""One knowledge base and one file watcher per gateway app: the inbox's FAQ search, the editors' pages and the
reload button all use the app's one holder, however many of them ask at once; closing it stops the watcher."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from watchdog.observers.api import BaseObserver

from bot.integrations.faq_search import KnowledgeBaseSearch
from bot.integrations.kb_reload import gateway_search
from bot.models import Role
from bot.web import inbox
from knowledge_base.embedding import TextEmbedder
from knowledge_base.settings import Settings
from tests.support.app import faq_search, make_app
from tests.support.login import logged_in


def observers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if isinstance(t, BaseObserver) and t.is_alive()}


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Every call in its own thread, released together; the results in order."""
    barrier = threading.Barrier(len(calls))
    results: dict[int, Any] = {}

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == len(calls), "a call failed"
    return [results[i] for i in range(len(calls))]


def test_an_app_creates_one_holder_whoever_asks_first(tmp_path: Path, kb_settings: Settings) -> None:
    app = make_app(tmp_path, FAQ_SEARCH=None, KB_WATCH=True)
    holders = at_once([lambda: gateway_search(app)] * 8)
    assert isinstance(holders[0], KnowledgeBaseSearch) and all(h is holders[0] for h in holders)
    with app.test_request_context():
        assert inbox.faq_search() is holders[0]  # the inbox asks the same one as the editors' pages
    other = make_app(tmp_path / "other", FAQ_SEARCH=None)
    assert gateway_search(other) is not holders[0]
    assert holders[0].watcher is None  # nothing loaded yet: no model, no watcher


def test_inbox_editors_and_reload_at_once_share_one_watcher(
    tmp_path: Path, kb_settings: Settings, fake_embedder: TextEmbedder
) -> None:
    before = observers()
    app = make_app(tmp_path, FAQ_SEARCH=faq_search(kb_settings, fake_embedder, watch=True))
    holder: KnowledgeBaseSearch = app.config["FAQ_SEARCH"]
    try:
        agent, editor, checker, unanswered = (
            logged_in(app, "anna@example.com", Role.AGENT),
            logged_in(app, "eva@example.com", Role.EDITOR),
            logged_in(app, "ute@example.com", Role.EDITOR),
            logged_in(app, "udo@example.com", Role.ADMIN),
        )
        responses = at_once([
            lambda: agent.get("/agent/faq", query_string={"q": "Was kostet der Versand?"}),
            lambda: editor.reload(),
            lambda: checker.get("/admin/faq/"),
            lambda: unanswered.get("/admin/unanswered/"),
        ])
        assert [r.status_code for r in responses] == [200, 200, 200, 200]
        assert responses[0].json["results"][0]["faq_id"] == "versand-kosten"
        assert gateway_search(app) is holder and holder.watcher is not None
        assert len(observers() - before) == 1
    finally:
        holder.close()
    assert observers() - before == set()
