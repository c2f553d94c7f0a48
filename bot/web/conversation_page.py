"""One conversation as the agent sees it: the lookup that aborts with 404/409, each message in the agent's view,
and the rendered page. Shared by the inbox and the customer panel's forms, which show the page again on an error."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, render_template, url_for
from flask_login import current_user

from bot import markdown_html
from bot.channels import attachments
from bot.channels.base import is_markdown
from bot.conversation import reasoning, states
from bot.customers import identities
from bot.db import get_session
from bot.models import Conversation, Message, State, aware
from bot.web import inbox_list, labels
from common import labels as words


def get_conversation(conversation_id: int, assigned: bool = False) -> Conversation:
    """404 if unknown; with `assigned`, 409 unless the current agent has it."""
    conversation = get_session().get(Conversation, conversation_id)
    if conversation is None:
        abort(404, "unbekanntes Gespräch")
    if assigned and (conversation.state != State.WITH_AGENT or conversation.assignee_id != current_user.id):
        abort(409, "das Gespräch ist nicht bei Ihnen – erst übernehmen")
    return conversation


def agent_view(message: Message) -> dict[str, Any]:
    """What the agent sees: the customer's view plus the button intent, feedback and the bot's candidates.

    Labelled here, for the page and the inbox's script alike: `sender_label`, `time_label` (Berlin) and, for the
    bot's Markdown, `text_html` (sanitised) — the script inserts these and never turns a code into words itself."""
    data = message.to_json()
    data["sender_label"] = words.sender(message.sender)
    data["time_label"] = labels.staff_time(message.created_at)
    if is_markdown(message):
        data["text_html"] = str(markdown_html.to_html(message.text))
    payload = message.payload or {}
    if intent := payload.get("intent"):
        data["intent"] = intent
        if intent.startswith("/feedback_"):
            data["feedback"] = "hilfreich" if intent == "/feedback_helpful" else "nicht hilfreich"
    if (score := payload.get("csat")) is not None:
        data["feedback"] = f"Bewertung {score} von 5"  # the customer's CSAT rating, shown like button feedback
    if handoff := payload.get("handoff"):
        data["handoff"] = {k: handoff.get(k) for k in ("reason", "summary", "candidates", "last_question")}
    if files := payload.get("attachments"):  # Messenger / SMS: what came with the message (images via the gateway)
        data["attachments"] = [_shown(message, a, i) for i, a in enumerate(files) if isinstance(a, dict)]
    if cut := payload.get("cut"):  # longer than the bot reads: the agent sees that, and the whole text
        data["cut"] = cut
    if message.delivery_status:  # Messenger / SMS: did the provider take it (bot/channels/delivery.py)?
        data["delivery"] = {
            "status": message.delivery_status,
            "attempts": message.delivery_attempts,
            "error": message.delivery_error,
        }
    return data


def _shown(message: Message, attachment: dict[str, Any], index: int) -> dict[str, Any]:
    """An attachment as the inbox lists it: an image's `src` is the gateway's route, the provider's URL is
    left out (never hot-linked)."""
    shown = {k: v for k, v in attachment.items() if k != "url"}
    if attachment.get("kind") in attachments.SHOWN_KINDS and attachment.get("url"):
        shown["src"] = url_for(
            "channel_inbox.attachment", conversation_id=message.conversation_id, message_id=message.id, index=index
        )
    return shown


def render(conversation_id: int) -> str:
    """The inbox with this conversation open: the list, the whole transcript in the agent's view with the composer
    and the actions, the customer panel and the bot's current reasoning."""
    conversation = get_conversation(conversation_id)
    session = get_session()
    messages = [agent_view(m) for m in states.messages_after(session, conversation.id, 0)]
    return render_template(
        "agent/conversation.html",
        conversation=conversation,
        messages=messages,
        aware=aware,
        customer=identities.panel(session, conversation),
        mailto=identities.mailto,
        lists=inbox_list.lists(session, current_user.id, current_app.extensions["clock"]()),
        reasoning=reasoning.current(session, conversation),
    )
