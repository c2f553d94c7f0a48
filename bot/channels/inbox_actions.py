"""The inbox's one channel action: send a message again that the provider did not take (after all retries)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, url_for

from bot.channels import delivery
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
