"""The inbox's channel actions: send a message again that the provider did not take (after all retries), and
show a customer's image through the gateway."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, url_for

from bot.channels import attachments, delivery
from bot.db import get_session
from bot.models import DeliveryStatus, Message, Role
from bot.web.access import role_required

bp = Blueprint("channel_inbox", __name__, url_prefix="/agent")


@bp.post("/conversations/<int:conversation_id>/messages/<int:message_id>/retry")
@role_required(Role.AGENT)
def retry(conversation_id: int, message_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    message = session.get(Message, message_id)
    if message is None or message.conversation_id != conversation_id:
        abort(404, "unbekannte Nachricht")
    if message.delivery_status != DeliveryStatus.FAILED:
        abort(409, "die Nachricht ist nicht als „nicht zugestellt“ markiert")
    delivery.retry(session, message)
    session.commit()
    current_app.extensions["hub"].notify(conversation_id)  # wakes the outbox
    return redirect(url_for("inbox.show", conversation_id=conversation_id), 303)


@bp.get("/conversations/<int:conversation_id>/messages/<int:message_id>/attachments/<int:index>")
@role_required(Role.AGENT)
def attachment(conversation_id: int, message_id: int, index: int):  # type: ignore[no-untyped-def]
    """A customer's image, fetched through the gateway for staff (never hot-linked in the inbox)."""
    message = get_session().get(Message, message_id)
    if message is None or message.conversation_id != conversation_id:
        abort(404, "unbekannte Nachricht")
    files = attachments.attachments_of(message.payload)
    if not 0 <= index < len(files) or files[index].get("kind") not in attachments.SHOWN_KINDS:
        abort(404, "kein Bild")
    channel = current_app.extensions["channels"].get(message.conversation.channel)
    try:
        image = attachments.fetch(channel, str(files[index].get("url") or ""), current_app.config["CHANNEL_TIMEOUT"])
    except attachments.NotAnImage as error:
        abort(502, f"Das Bild ist beim Anbieter nicht (mehr) abrufbar: {error}")
    response = Response(image.content, mimetype=image.content_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response
