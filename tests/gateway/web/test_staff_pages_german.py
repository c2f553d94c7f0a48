"""Every staff page, as a logged-in admin sees it with conversations in every state, reason, sender and channel:
German words, Berlin times and rendered Markdown — no internal code, no "UTC", no `**` or `](` in what a person
reads (the pages' visible text, and the fields of the JSON their scripts show)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from bot.models import Role, now
from tests.support.login import AgentSession, logged_in
from tests.support.staff_demo import CUSTOMER_EMAIL, TRY_QUESTION, StaffDemo, markdown_faq, seed
from tests.support.visible_text import CODES, internal_words, visible_text

QUERIES: dict[str, list[dict[str, str]]] = {
    "inbox.faq": [{"q": "Lieferung"}],
    "admin_faq.index": [{}, {"q": "Lieferung"}],
    "admin_faq.try_page": [{}, {"q": TRY_QUESTION}],
    "admin_faq.try_json": [{"q": TRY_QUESTION}],
    "admin_unanswered.index": [{}, {"status": "all"}],
    "admin_privacy.index": [{}, {"q": CUSTOMER_EMAIL}],
    "inbox_tools.search_page": [{}, {"q": CUSTOMER_EMAIL}, {"q": "Lieferung"}],
}
STREAMS = {"inbox.events"}
"""Server-Sent Events that never end: the first event is read, then the stream is closed."""
FOR_MACHINES = {"admin_analytics.export_days", "admin_analytics.export_entries", "admin_privacy.export"}
"""CSV and the GDPR export: read by programs, they keep the codes (and the transcript's JSON download below)."""


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    return markdown_faq(tmp_path / "faqs")


@pytest.fixture
def demo(kb_app: Flask) -> StaffDemo:
    return seed(kb_app, now())


@pytest.fixture
def admin(kb_app: Flask) -> AgentSession:
    return logged_in(kb_app, "admin@example.com", Role.ADMIN, "Ada")


NOT_PAGES = {"channel_inbox.attachment"}
"""Staff GET routes that answer with a file, not a page of words (a customer's image)."""


def staff_urls(app: Flask, demo: StaffDemo) -> list[tuple[str, str, dict[str, str]]]:
    """(endpoint, path, query) for every GET route under /agent and /admin, each parameter filled with the demo's."""
    values: dict[str, list[Any]] = {
        "conversation_id": demo.conversation_ids,
        "faq_id": ["versand-lieferzeit"],
        "contact_id": [demo.contact_id],
        "fmt": ["txt", "json"],
    }
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or not rule.rule.startswith(("/agent", "/admin")):
            continue
        if rule.endpoint in NOT_PAGES:
            continue
        combos: list[dict[str, Any]] = [{}]
        for name in sorted(rule.arguments):
            combos = [{**c, name: v} for c in combos for v in values[name]]
        for arguments in combos:
            path = rule.build(arguments)[1]  # type: ignore[index]
            for query in QUERIES.get(rule.endpoint, [{}]):
                urls.append((rule.endpoint, path, query))
    return urls


def first_event(response: Any) -> dict[str, Any]:
    """The data of a stream's first named event (the page's script renders it)."""
    for chunk in response.response:
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        if text.startswith("event: "):
            response.close()
            return json.loads(text.split("data: ", 1)[1])
    raise AssertionError("the stream ended without an event")


def shown_in_json(endpoint: str, data: dict[str, Any]) -> str:
    """What the page's script puts on screen from this JSON (it renders labels, never codes)."""
    if endpoint == "inbox.events":
        entries = [e for tab in ("waiting", "mine", "open") for e in data[tab]]
        return " ".join(f"{e['channel_label']} {e['since_label']} {e['summary']} {e['assignee']}" for e in entries)
    if endpoint == "inbox.poll":
        reasoning = data["reasoning"] or {}
        shown = [reasoning.get(k) or "" for k in ("question", "action_label", "reason_label", "confidence")]
        shown += [c["question"] for c in reasoning.get("candidates", [])]
        messages = [
            f"{m['sender_label']} {m['time_label']} {visible_text(m['text_html']) if 'text_html' in m else m['text']}"
            for m in data["messages"]
        ]
        return " ".join([data["state_label"], *messages, *shown])
    if endpoint == "admin_faq.try_json":
        return " ".join([data["decision_label"], data["reason_label"], visible_text(data["answer_html"] or ""),
                         *(c["question"] for c in data["candidates"])])
    if endpoint == "inbox.faq":
        return " ".join(r["question"] for r in data["results"])
    if endpoint == "inbox_tools.list_notes":
        return " ".join(f"{n['kind_label']} {n['author_name']} {n['time_label']} {n['text']}" for n in data["notes"])
    raise AssertionError(f"{endpoint}: JSON the test does not know what a person sees of")


def test_no_staff_page_shows_an_internal_code_utc_or_raw_markdown(
    kb_app: Flask, demo: StaffDemo, admin: AgentSession
) -> None:
    problems: list[str] = []
    seen = set()
    for endpoint, path, query in staff_urls(kb_app, demo):
        response = admin.get(path, query_string=query)
        assert response.status_code == 200, (path, query, response.status_code)
        seen.add(endpoint)
        if endpoint in STREAMS:
            problems += [f"{path}: {found}" for found in internal_words(shown_in_json(endpoint, first_event(response)))]
            continue
        if endpoint in FOR_MACHINES or path.endswith("transcript.json"):
            continue
        body = response.get_data(as_text=True)
        if response.mimetype == "text/html":
            text = visible_text(body)
        elif response.mimetype == "application/json":
            text = shown_in_json(endpoint, response.json)
        else:  # the transcript as text, for agents: plain text, Markdown stays as written
            assert response.mimetype == "text/plain", (path, response.mimetype)
            problems += [f"{path}: {m.group(0)!r}" for m in CODES.finditer(body)]
            continue
        problems += [f"{path}?{query}: {found}" for found in internal_words(text)]
    assert not problems, "\n".join(problems)
    assert {"inbox.show", "inbox.poll", "inbox.events", "admin_faq.try_page", "admin_unanswered.index"} <= seen


def test_the_pages_show_the_words_times_and_rendered_answer(
    kb_app: Flask, demo: StaffDemo, admin: AgentSession
) -> None:
    """The checks above could pass on an empty page: here the labels themselves, the link and the times."""
    queue = visible_text(admin.get("/agent/").get_data(as_text=True))
    assert "Kunde möchte einen Menschen" in queue and "Kunde verärgert" in queue
    assert "Übergabe:" not in queue  # the reason once: the summary's headline (old or German) is not repeated
    page = admin.get(f"/agent/conversations/{demo.answered_id}").get_data(as_text=True)
    text = visible_text(page)
    assert "wartet auf Kundenservice" in text and "Grund: Kunde möchte einen Menschen" in text
    assert "Wir liefern in 2–3 Werktagen." in text and "Kunde ·" in text and "Bot ·" in text
    assert "<strong>2–3 Werktagen</strong>" in page
    assert ('<a href="https://shop.example/verfolgen" target="_blank" rel="noopener noreferrer">Sendung verfolgen</a>'
            in page)
    assert "beim Kundenservice" in text and "beendet" in text and "beim Bot" in text  # the customer panel
    noted = next(i for i in demo.conversation_ids if admin.get(f"/agent/conversations/{i}/notes").json["notes"])
    notes = visible_text(admin.get(f"/agent/conversations/{noted}").get_data(as_text=True)).split("Interne Notizen")[1]
    assert "Interne Notiz · Anna · " in notes and "Rückruf vereinbart" in notes
    assert "Weitergabe · Anna · " in notes and "An Anna übergeben" in notes
    earlier_year = datetime.now().year - 1
    assert f".{earlier_year} " in text  # last year's conversation with its year; today's with the time only
    tried = admin.get("/admin/faq/try", query_string={"q": TRY_QUESTION}).get_data(as_text=True)
    assert "Antwort (Konfidenz" in visible_text(tried) and "eindeutiger Treffer" in visible_text(tried)
    assert ('<div class="answer markdown"><p>Der <strong>Versand kostet 4,95 €</strong>, ab 50 € ist er kostenlos: <a '
            'href="https://shop.example/versand" target="_blank" rel="noopener noreferrer">Versand</a>.</p>') in tried
    data = admin.get("/admin/faq/try.json", query_string={"q": TRY_QUESTION}).json
    assert (data["decision"], data["reason"]) == ("answer", "clear match")  # the codes stay for machines
    assert (data["decision_label"], data["reason_label"]) == ("Antwort", "eindeutiger Treffer")
    poll = admin.get(f"/agent/conversations/{demo.answered_id}/messages").json
    assert poll["state"] == "waiting_for_agent" and poll["state_label"] == "wartet auf Kundenservice"
    bot_answer = next(m for m in poll["messages"] if m.get("text_html"))
    assert bot_answer["sender_label"] == "Bot" and "<strong>2–3 Werktagen</strong>" in bot_answer["text_html"]
    assert not any("text_html" in m for m in poll["messages"] if m["sender"] == "contact")  # customer text: text
