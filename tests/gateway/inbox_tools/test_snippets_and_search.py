"""Textbausteine (own and shared, placeholders filled per conversation) and the search over conversations by
customer and by text — on SQLite, and on PostgreSQL with AUSKUNFT_TEST_DATABASE=postgresql."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from bot.conversation import snippets
from bot.db import session_factory
from bot.models import Contact, Conversation, Snippet
from tests.support.bot_replies import HANDOFF
from tests.support.gateway import Customer, ScriptedRasa, conversation_id
from tests.support.login import AgentSession
from tests.support.visible_text import internal_words, visible_text


def form(agent: AgentSession, path: str, **fields: str):  # type: ignore[no-untyped-def]
    return agent.client.post(path, data={"csrf_token": agent.csrf, **fields})


def own_ids(app: Flask, email: str) -> list[int]:
    with app.app_context(), session_factory()() as session:
        return list(session.scalars(select(Snippet.id).join(Snippet.owner).where(Snippet.owner.has(email=email))))


def test_snippet_crud_sharing_and_ownership(app: Flask, make_agent) -> None:  # type: ignore[no-untyped-def]
    anna, bernd = make_agent(), make_agent("bernd@example.com", "Bernd")
    assert anna.get("/agent/snippets/").status_code == 200
    created = form(anna, "/agent/snippets/", title="Begrüßung", text="Hallo {name}, hier ist {agent}.")
    assert created.status_code == 303
    assert "Textbaustein „Begrüßung“ gespeichert." in anna.get("/agent/snippets/").get_data(as_text=True)
    assert form(anna, "/agent/snippets/", title="", text="ohne Titel").status_code == 400
    assert form(anna, "/agent/snippets/", title="x" * 121, text="zu lang").status_code == 400
    (sid,) = own_ids(app, "anna@example.com")
    assert "Begrüßung" not in visible_text(bernd.get("/agent/snippets/").get_data(as_text=True))  # private

    assert form(anna, f"/agent/snippets/{sid}", title="Gruß", text="Guten Tag {name}!", shared="y").status_code == 303
    shared = visible_text(bernd.get("/agent/snippets/").get_data(as_text=True)).split("Vom Team geteilt")[1]
    assert "Gruß von Anna: Guten Tag {name}!" in shared  # shared: Bernd sees it, not his to change
    assert form(bernd, f"/agent/snippets/{sid}", title="Meins", text="geklaut").status_code == 404
    assert form(bernd, f"/agent/snippets/{sid}/delete").status_code == 404
    assert form(anna, f"/agent/snippets/{sid}", title="Gruß", text="Guten Tag {name}!").status_code == 303
    assert "Gruß" not in visible_text(bernd.get("/agent/snippets/").get_data(as_text=True))  # private again
    assert form(anna, f"/agent/snippets/{sid}/delete").status_code == 303
    assert own_ids(app, "anna@example.com") == []
    assert not internal_words(visible_text(anna.get("/agent/snippets/").get_data(as_text=True)))


def test_snippets_beside_the_composer_are_filled_for_the_conversation(
    app: Flask, customer: Customer, rasa: ScriptedRasa, make_agent  # type: ignore[no-untyped-def]
) -> None:
    rasa.replies.append(HANDOFF)
    customer.say("Ich will einen Menschen")
    cid = conversation_id(app, customer.token)
    anna, bernd = make_agent(), make_agent("bernd@example.com", "Bernd")
    form(anna, "/agent/snippets/", title="Begrüßung", text="Hallo {name}, hier ist {agent} ({gespraech}). {x}")
    form(bernd, "/agent/snippets/", title="Team-Dank", text="Danke für Ihre Geduld!", shared="y")
    form(bernd, "/agent/snippets/", title="Bernds eigener", text="privat")
    page = anna.get(f"/agent/conversations/{cid}").get_data(as_text=True)
    found = re.findall(r'<button type="button" class="snippet" data-text="([^"]*)"[^>]*>([^<]*)</button>', page)
    # no name known: "Hallo," — an unknown placeholder stays as written
    assert found == [(f"Hallo, hier ist Anna ({cid}). {{x}}", "Begrüßung"), ("Danke für Ihre Geduld!", "Team-Dank")]
    assert "von Bernd" in page and "Bernds eigener" not in page
    with app.app_context(), session_factory()() as session:
        conversation = session.get(Conversation, cid)
        conversation.contact.name = "Erika Muster"
        session.commit()
        agent = conversation.assignee or session.scalars(select(Snippet)).first().owner
        assert snippets.fill("Hallo {name}, {agent}", conversation, agent).startswith("Hallo Erika Muster, ")


@pytest.fixture
def history(app: Flask, rasa: ScriptedRasa, client) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Three customers: one named with e-mail and phone, one who asked about an order, one about something else."""
    ids = {}
    for key, text in (("erika", "Wo bleibt mein Paket?"), ("order", "Meine Bestellung LG-123456 ist nicht da"),
                      ("other", "Kann ich per Rechnung zahlen?")):
        customer = Customer(client)
        rasa.replies.append([{"text": "Gern helfe ich Ihnen."}])
        customer.say(text)
        ids[key] = conversation_id(app, customer.token)
    with app.app_context(), session_factory()() as session:
        erika = session.get(Conversation, ids["erika"]).contact
        erika.name, erika.email, erika.phone = "Erika Mustermann", "erika@example.com", "+4915112345678"
        session.get(Conversation, ids["other"]).updated_at = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
        session.commit()
    return ids


def result_ids(agent: AgentSession, query: str) -> list[int]:
    page = agent.get("/agent/search", query_string={"q": query})
    assert page.status_code == 200
    return [int(i) for i in re.findall(r'href="/agent/conversations/(\d+)"', page.get_data(as_text=True))]


def test_search_by_customer_order_number_and_text(app: Flask, history: dict[str, int], make_agent) -> None:  # type: ignore[no-untyped-def]
    anna = make_agent()
    assert result_ids(anna, "mustermann") == [history["erika"]]  # name, any case
    assert result_ids(anna, "ERIKA@example.com") == [history["erika"]]
    assert result_ids(anna, "0151 12345678") == [history["erika"]]  # the number as people type it
    assert result_ids(anna, "lg 123456") == [history["order"]]  # an order number in another spelling
    assert result_ids(anna, "per rechnung") == [history["other"]]  # message text
    assert set(result_ids(anna, "Gern helfe")) == set(history.values())  # the bot's replies too
    assert result_ids(anna, f"#{history['order']}") == [history["order"]]
    assert result_ids(anna, "100%_") == []  # LIKE's wildcards are text here
    assert anna.post(f"/agent/conversations/{history['other']}/notes", {"text": "Kulanz geprüft"}).status_code == 201
    assert result_ids(anna, "kulanz") == [history["other"]]  # staff notes are searched too

    text = visible_text(anna.get("/agent/search", query_string={"q": "rechnung"}).get_data(as_text=True))
    assert "1 Gespräch gefunden" in text and "15.01. 10:30" in text  # Berlin time (UTC+1 in January)
    assert "Nachricht: Kann ich per Rechnung zahlen?" in text and "beim Bot" in text
    assert not internal_words(text), internal_words(text)
    named = visible_text(anna.get("/agent/search", query_string={"q": "erika"}).get_data(as_text=True))
    assert "Erika Mustermann erika@example.com +4915112345678" in named and "Kunde" in named
    assert "Nichts gefunden für „Zahnbürste“" in visible_text(
        anna.get("/agent/search", query_string={"q": "Zahnbürste"}).get_data(as_text=True))
    assert anna.get("/agent/search", query_string={"q": "x" * 201}).status_code == 400
    assert 'id="conversation-search"' in anna.get("/agent/").get_data(as_text=True)  # on the list page
    with app.app_context(), session_factory()() as session:
        assert session.scalar(select(Contact.name).where(Contact.email == "erika@example.com")) == "Erika Mustermann"
