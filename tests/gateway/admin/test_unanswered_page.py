"""/admin/unanswered/ with the real model on a temporary FAQ folder: clusters, marks, add-an-alternative live."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from bot.db import get_session
from bot.models import Role, UnansweredQuestion
from knowledge_base.engine import KnowledgeBase
from knowledge_base.settings import Settings
from tests.support.app import faq_search, make_app
from tests.support.bot_replies import handed_off
from tests.support.gateway import Customer, ScriptedRasa
from tests.support.login import csrf_of, logged_in

pytestmark = pytest.mark.slow

PORTO = ["Was zahle ich fürs Porto?", "Porto bei kleinen Bestellungen", "was zahle ich fürs porto?"]
OTHER = "Kann ich mit Bitcoin bezahlen?"


@pytest.fixture
def app(tmp_path: Path, settings: Settings, real_embedder, rasa: ScriptedRasa) -> Flask:  # type: ignore[no-untyped-def]
    knowledge_base = KnowledgeBase(settings, embedder=real_embedder, persist=False)
    return make_app(tmp_path, rasa, FAQ_SEARCH=faq_search(knowledge_base))


def ask_unanswered(app: Flask, rasa: ScriptedRasa, questions: list[str]) -> None:
    client = app.test_client()
    for question in questions:
        rasa.replies.append(handed_off(question, [("versand-kosten", 0.77), ("versand-lieferzeit", 0.75)]))
        Customer(client).say(question)


def statuses(app: Flask) -> dict[str, str]:
    with app.app_context():
        return {q.text: q.status for q in get_session().scalars(select(UnansweredQuestion))}


def test_roles(app: Flask) -> None:
    anonymous = app.test_client()
    assert anonymous.get("/admin/unanswered/").status_code == 302
    token = csrf_of(anonymous.get("/agent/login").get_data(as_text=True))
    assert anonymous.post("/admin/unanswered/mark", data={"action": "ignore", "ids": "1", "csrf_token": token}
                          ).status_code == 401
    agent = logged_in(app, "agent@example.com", Role.AGENT)
    assert agent.client.get("/admin/unanswered/").status_code == 403
    assert agent.client.post("/admin/unanswered/mark", data={"action": "ignore", "ids": "1",
                                                              "csrf_token": agent.csrf}).status_code == 403
    assert logged_in(app, "editor@example.com", Role.EDITOR).client.get("/admin/unanswered/").status_code == 200
    assert logged_in(app, "admin@example.com", Role.ADMIN).client.get("/admin/unanswered/").status_code == 200


def test_clusters_newest_first_with_counts_examples_and_candidate(app: Flask, rasa: ScriptedRasa) -> None:
    ask_unanswered(app, rasa, [*PORTO, OTHER])
    page = logged_in(app, "editor@example.com", Role.EDITOR).client.get("/admin/unanswered/").get_data(as_text=True)
    assert page.count('class="cluster"') == 2
    assert page.index(OTHER) < page.index(PORTO[1])  # the newest question's cluster first
    assert "was zahle ich fürs porto?" in page and "Was zahle ich fürs Porto?" not in page  # one wording, the newest
    assert "3×" in page and "1×" in page
    porto = page[page.index("3×"):]
    assert "Porto bei kleinen Bestellungen" in porto and '<code class="candidate">versand-kosten</code>' in porto
    assert '<option value="versand-kosten" selected>' in porto  # the entry picker defaults to the candidate


def test_marks_leave_the_open_list_and_the_filter_shows_them(app: Flask, rasa: ScriptedRasa) -> None:
    ask_unanswered(app, rasa, [*PORTO, OTHER])
    editor = logged_in(app, "editor@example.com", Role.EDITOR)
    with app.app_context():
        other_id = get_session().scalar(select(UnansweredQuestion.id).where(UnansweredQuestion.text == OTHER))
    response = editor.client.post("/admin/unanswered/mark", data={"action": "new_faq", "ids": str(other_id),
                                                                  "csrf_token": editor.csrf})
    assert response.status_code == 302
    assert statuses(app)[OTHER] == "new_faq"
    assert OTHER not in editor.client.get("/admin/unanswered/").get_data(as_text=True)
    assert OTHER in editor.client.get("/admin/unanswered/?status=new_faq").get_data(as_text=True)
    assert editor.client.get("/admin/unanswered/?status=bogus").status_code == 400
    assert editor.client.post("/admin/unanswered/mark", data={"action": "explode", "ids": "1",
                                                              "csrf_token": editor.csrf}).status_code == 400
    assert editor.client.post("/admin/unanswered/mark", data={"action": "ignore", "ids": str(other_id)}).status_code \
        == 400  # no CSRF token


def test_add_alternative_writes_the_file_reloads_and_the_bot_answers(
    app: Flask, rasa: ScriptedRasa, faq_dir: Path
) -> None:
    ask_unanswered(app, rasa, PORTO)
    kb = app.config["FAQ_SEARCH"].knowledge_base()
    assert kb.ask(PORTO[0]).action == "handoff"
    editor = logged_in(app, "editor@example.com", Role.EDITOR)
    page = editor.client.get("/admin/unanswered/").get_data(as_text=True)
    with app.app_context():
        ids = [str(i) for i in get_session().scalars(select(UnansweredQuestion.id))]
    response = editor.client.post(
        "/admin/unanswered/mark",
        data={"action": "alternative", "ids": ids, "faq_id": "versand-kosten", "phrasing": PORTO[0],
              "csrf_token": csrf_of(page)},
        follow_redirects=True,
    )
    shown = response.get_data(as_text=True)
    assert "Zu „versand-kosten“ hinzugefügt (versand.yml): „Was zahle ich fürs Porto?“" in shown
    assert "Der Bot beantwortet „Was zahle ich fürs Porto?“ jetzt mit „versand-kosten“." in shown
    assert "      - Was zahle ich fürs Porto?\n" in (faq_dir / "versand.yml").read_text(encoding="utf-8")
    decision = kb.ask(PORTO[0])
    assert (decision.action, decision.faq_id) == ("answer", "versand-kosten")
    assert set(statuses(app).values()) == {"alternative_added"}
    assert "Keine Fragen in dieser Ansicht." in shown  # the open list is empty now
    done = editor.client.get("/admin/unanswered/?status=alternative_added").get_data(as_text=True)
    assert "→ <code>versand-kosten</code>" in done


def test_lint_errors_keep_the_file_and_show_the_report(app: Flask, rasa: ScriptedRasa, faq_dir: Path) -> None:
    ask_unanswered(app, rasa, PORTO[:1])
    editor = logged_in(app, "editor@example.com", Role.EDITOR)
    editor.client.get("/admin/unanswered/")  # loads the knowledge base while the files are fine
    (faq_dir / "kaputt.yml").write_text("topic: Kaputt\nfaqs:\n  - id: versand-kosten\n    question: Doppelt?\n"
                                        "    answer: x\n    updated: 2026-11-20\n", encoding="utf-8")
    before = (faq_dir / "versand.yml").read_text(encoding="utf-8")
    with app.app_context():
        ids = [str(i) for i in get_session().scalars(select(UnansweredQuestion.id))]
    shown = editor.client.post(
        "/admin/unanswered/mark",
        data={"action": "alternative", "ids": ids, "faq_id": "versand-kosten", "phrasing": PORTO[0],
              "csrf_token": editor.csrf},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Nicht gespeichert" in shown and "duplicate id &#39;versand-kosten&#39;" in shown
    assert (faq_dir / "versand.yml").read_text(encoding="utf-8") == before
    assert set(statuses(app).values()) == {"open"}
