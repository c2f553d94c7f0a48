"""The inbox's tools beside the transcript: hand a conversation to a colleague, internal notes, and the search
over conversations. The conversation page includes their partials (agent/_transfer.html, _notes.html,
_search.html); `tools_context` gives those partials what they show, so the page's own view needs no change.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask_login import current_user

from bot.conversation import notes, search, snippets
from bot.db import get_session
from bot.models import Agent, Conversation, ConversationNote, Role, aware
from bot.web.access import role_required
from bot.web.conversation_page import get_conversation
from bot.web.labels import staff_time
from bot.web.requests_json import json_body, text_field
from common import labels as words
from common.logging_setup import AUDIT_LOGGER

bp = Blueprint("inbox_tools", __name__, url_prefix="/agent")
audit = logging.getLogger(AUDIT_LOGGER)


def note_view(note: ConversationNote) -> dict[str, Any]:
    """A note as the page shows it: labelled and in Berlin time (the script inserts these as text)."""
    return {
        "id": note.id,
        "kind": note.kind,
        "kind_label": words.note_kind(note.kind),
        "text": note.text,
        "author_name": note.author.name if note.author is not None else "ehemaliges Konto",
        "created_at": aware(note.created_at).isoformat(),
        "time_label": staff_time(note.created_at),
    }


def _colleagues() -> list[Agent]:
    app = current_app
    return notes.colleagues(get_session(), current_user, app.extensions["availability"], app.extensions["clock"]())


@bp.app_context_processor
def tools_context() -> dict[str, Any]:
    """Functions for the partials, called only where a template includes one."""

    def conversation_notes(conversation: Conversation) -> list[dict[str, Any]]:
        return [note_view(n) for n in notes.of(get_session(), conversation.id)]

    def conversation_snippets(conversation: Conversation) -> list[dict[str, Any]]:
        return [
            {
                "id": s.id,
                "title": s.title,
                "text": snippets.fill(s.text, conversation, current_user),
                "owner": None if s.owner_id == current_user.id else s.owner.name,
            }
            for s in snippets.visible_to(get_session(), current_user)
        ]

    return {
        "conversation_notes": conversation_notes,
        "conversation_snippets": conversation_snippets,
        "transfer_colleagues": _colleagues,
    }


@bp.get("/conversations/<int:conversation_id>/notes")
@role_required(Role.AGENT)
def list_notes(conversation_id: int):  # type: ignore[no-untyped-def]
    conversation = get_conversation(conversation_id)
    after = request.args.get("after", "0")
    if not after.isdigit() or len(after) > 12:
        abort(400, "„after“ muss eine Notiz-Nummer sein")
    return jsonify(notes=[note_view(n) for n in notes.of(get_session(), conversation.id, int(after))])


@bp.post("/conversations/<int:conversation_id>/notes")
@role_required(Role.AGENT)
def add_note(conversation_id: int):  # type: ignore[no-untyped-def]
    """Any agent may note something on any conversation (a colleague's too): it reaches no customer."""
    text = text_field(json_body())
    if len(text) > notes.MAX_NOTE:
        abort(413, f"die Notiz ist zu lang (höchstens {notes.MAX_NOTE} Zeichen)")
    conversation = get_conversation(conversation_id)
    note = notes.add(get_session(), conversation, current_user, text)
    get_session().commit()
    current_app.extensions["hub"].notify(conversation.id)  # staff streams wake; the customer's reads no notes
    return jsonify(note_view(note)), 201


@bp.post("/conversations/<int:conversation_id>/transfer")
@role_required(Role.AGENT)
def transfer(conversation_id: int):  # type: ignore[no-untyped-def]
    """Hand one's own conversation to a colleague who is online; the customer is told nothing."""
    body = json_body()
    receiver_id = body.get("agent_id")
    if not isinstance(receiver_id, int) or isinstance(receiver_id, bool):
        abort(400, "„agent_id“ muss die Nummer eines Kontos sein")
    conversation = get_conversation(conversation_id, assigned=True)
    receiver = next((a for a in _colleagues() if a.id == receiver_id), None)
    if receiver is None:
        abort(409, "an dieses Konto kann nicht übergeben werden – es ist nicht angemeldet oder kein Kundenservice")
    note = notes.transfer(get_session(), conversation.id, current_user, receiver)
    if note is None:
        get_session().rollback()
        abort(409, "das Gespräch ist nicht (mehr) bei Ihnen")
    get_session().commit()
    audit.info(
        "conversation transfer: conversation %d from agent %d to agent %d", conversation.id, current_user.id,
        receiver.id,
    )
    hub = current_app.extensions["hub"]
    hub.set_typing(conversation.id, "agent", False)  # notifies as well: the receiver's page and list see it
    return jsonify(
        state=conversation.state,
        state_label=words.state(conversation.state),
        assignee_id=receiver.id,
        assignee_name=receiver.name,
        note=note_view(note),
    )


@bp.get("/search")
@role_required(Role.AGENT)
def search_page():  # type: ignore[no-untyped-def]
    query = request.args.get("q", "").strip()
    if len(query) > search.MAX_QUERY:
        abort(400, f"der Suchtext ist zu lang (höchstens {search.MAX_QUERY} Zeichen)")
    hits = search.conversations(get_session(), query) if query else []
    return render_template("agent/search.html", query=query, hits=hits, limit=search.LIMIT)
