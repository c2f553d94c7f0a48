"""The widget's API: start or continue a conversation by its opaque token, send, receive (SSE or polling)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify

from bot.conversation import availability, csat, receive, sender_identity, states, transcript_mail
from bot.customers import identities
from bot.db import get_session, session_factory
from bot.models import Conversation, IdentifierKind, Message, State
from bot.web.limits import Throttle, per_ip, per_token, throttled
from bot.web.requests_json import INTENT, SOURCE_ID, after_param, json_body, optional_pattern, text_field

bp = Blueprint("widget_api", __name__, url_prefix="/api/widget")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
EMAIL = identities.EMAIL


def get_conversation(token: str) -> Conversation:
    """The conversation behind a token; 404 for malformed, unknown or forged ones alike."""
    conversation = states.by_token(get_session(), token) if TOKEN.match(token) else None
    if conversation is None:
        abort(404, "unbekanntes Gespräch")
    return conversation


def snapshot(conversation: Conversation, after: int = 0) -> dict[str, Any]:
    hub = current_app.extensions["hub"]
    return {
        "token": conversation.token,
        "state": conversation.state,
        "queue_position": availability.queue_position(get_session(), conversation),
        "typing": hub.typing(conversation.id),
        "messages": [m.to_json() for m in states.messages_after(get_session(), conversation.id, after)],
    }


@bp.get("/config")
def config():
    """What the widget shows from the gateway's settings: the links of its privacy line (empty: not shown)."""
    return jsonify(privacy_url=current_app.config["PRIVACY_URL"], imprint_url=current_app.config["IMPRINT_URL"])


@bp.post("/conversations")
@throttled(Throttle("RATELIMIT_STARTS_PER_IP"))
def start():
    json_body(optional=True)
    session = get_session()
    conversation = states.start(session)
    session.commit()
    return jsonify(snapshot(conversation)), 201


@bp.get("/conversations/<token>")
def show(token: str):
    return jsonify(snapshot(get_conversation(token)))


@bp.get("/conversations/<token>/messages")
def poll(token: str):
    """The polling fallback: messages after `after`, the state and who is typing."""
    return jsonify(snapshot(get_conversation(token), after_param()))


@bp.post("/conversations/<token>/messages")
@throttled(Throttle("RATELIMIT_MESSAGES_PER_IP"), Throttle("RATELIMIT_MESSAGES_PER_CONVERSATION", per_token))
def send(token: str):
    conversation = get_conversation(token)
    body = json_body()
    text = text_field(body)
    intent = optional_pattern(body, "payload", INTENT)
    source_id = optional_pattern(body, "client_id", SOURCE_ID)
    get_session().commit()  # ends the read: no connection is held while `receive` waits for the conversation
    try:
        new = receive.receive(
            get_session(),
            conversation,
            text,
            intent,
            source_id,
            current_app.extensions["rasa"],
            current_app.extensions["hub"],
            current_app.extensions["availability"],
            current_app.extensions["clock"](),
            sender_identity.for_widget(current_app.secret_key, per_ip()),
            current_app.extensions["locks"],
        )
    except receive.ConversationClosed:
        abort(409, "das Gespräch ist beendet; bitte ein neues beginnen")
    except csat.InvalidRating as error:
        abort(400, str(error))
    return jsonify(state=conversation.state, messages=[m.to_json() for m in new]), 201


def contact_fields(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """An e-mail address and/or a phone number, at least one; 400 saying which one is not usable."""
    email, phone = body.get("email"), body.get("phone")
    for name, value in (("email", email), ("phone", phone)):
        if value is not None and not isinstance(value, str):
            abort(400, f"„{name}“ muss ein Text sein")
    email = (email or "").strip() or None
    phone = (phone or "").strip() or None
    if email is None and phone is None:
        abort(400, "bitte eine E-Mail-Adresse oder eine Telefonnummer angeben")
    if email is not None and (len(email) > 320 or not EMAIL.match(email)):
        abort(400, "die E-Mail-Adresse sieht nicht gültig aus")
    if phone is not None and not (identities.is_valid_phone(phone) or identities.is_local_number(phone)):
        abort(400, identities.PHONE_REFUSED)
    return email, phone


@bp.post("/conversations/<token>/contact")
def leave_contact(token: str):
    """When nobody can take over: the customer leaves a way back; the conversation stays where it is (queue)."""
    conversation = get_conversation(token)
    email, phone = contact_fields(json_body())
    if conversation.state == State.CLOSED:
        abort(409, "das Gespräch ist beendet; bitte ein neues beginnen")
    session = get_session()
    # first on this conversation's own customer: a merge below keeps the older customer's own values, so what
    # someone types can never overwrite the details of a customer whose number was proven (e.g. by SMS)
    if email is not None:
        conversation.contact.email = email
    if phone is not None:
        conversation.contact.phone = phone
    # the customer's own word links this conversation to earlier ones (unverified; bot/customers.py says why)
    for kind, value in ((IdentifierKind.EMAIL, email), (IdentifierKind.PHONE, phone)):
        if value is not None and identities.is_linkable(kind, value):
            identities.link(session, conversation, kind, value, source="widget")
    note = states.system_note(
        session, conversation, "contact_saved", contact=" bzw. ".join(v for v in (email, phone) if v)
    )
    session.commit()
    current_app.extensions["hub"].notify(conversation.id)
    # what this customer gave, not the merged record: that may hold someone else's details
    return jsonify(state=conversation.state, email=email, phone=phone, messages=[note.to_json()]), 201


def mail_sent(response: Response) -> bool:
    """A mail went out: the transcript (201) or the confirmation asked for first (202)."""
    return response.status_code in (201, 202)


@bp.post("/conversations/<token>/transcript")
@throttled(
    Throttle("RATELIMIT_TRANSCRIPTS_PER_IP", counts=mail_sent),
    Throttle("RATELIMIT_TRANSCRIPTS_PER_CONVERSATION", per_token, counts=mail_sent),
)
def mail_transcript(token: str):
    """The customer's copy by e-mail (`email`, else the address already left): 201 when sent to an address this
    customer proved, else 202 and a confirmation mail first (bot.conversation.transcript_mail says why)."""
    conversation = get_conversation(token)
    body = json_body(optional=True)
    email = body.get("email") if body.get("email") is not None else conversation.contact.email
    if not isinstance(email, str) or not email.strip():
        abort(400, "bitte eine E-Mail-Adresse angeben")
    email = email.strip()
    if len(email) > 320 or not EMAIL.match(email):
        abort(400, "die E-Mail-Adresse sieht nicht gültig aus")
    try:
        note, sent = transcript_mail.request(
            get_session(), conversation, email, transcript_mail.Outbox.of(current_app)
        )
    except transcript_mail.MailRefused as refused:
        get_session().rollback()
        return refused_json(refused)
    current_app.extensions["hub"].notify(conversation.id)
    return jsonify(messages=[note.to_json()]), 201 if sent else 202


def refused_json(refused: transcript_mail.MailRefused) -> Response:
    """The German message, and `reason` so the widget can say it in the customer's language."""
    response = jsonify(error=refused.message, reason=refused.reason)
    response.status_code = refused.status
    return response


@bp.post("/conversations/<token>/typing")
def typing(token: str):
    conversation = get_conversation(token)
    body = json_body()
    if not isinstance(body.get("typing"), bool):
        abort(400, "„typing“ muss true oder false sein")
    current_app.extensions["hub"].set_typing(conversation.id, "contact", body["typing"])
    return "", 204


@bp.get("/conversations/<token>/events")
def events(token: str):
    """Server-Sent Events: `message` (one per stored message, id = message id), `typing`, `state`."""
    conversation = get_conversation(token)
    stream = sse_stream(conversation.id, after_param(), who_sees="contact")
    return Response(
        stream, mimetype="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


def sse_stream(conversation_id: int, after: int, who_sees: str, to_json: Any = Message.to_json) -> Iterator[str]:
    """Read from the database after every notification (or keep-alive), so a missed wake-up loses nothing."""
    factory = session_factory()
    hub = current_app.extensions["hub"]
    keepalive = current_app.config["SSE_KEEPALIVE_SECONDS"]

    def generate() -> Iterator[str]:
        nonlocal after
        last_typing: list[str] | None = None
        last_state: str | None = None
        yield "retry: 2000\n\n"
        while True:
            version = hub.version(conversation_id)
            with factory() as session:
                new = states.messages_after(session, conversation_id, after)
                state = session.get(Conversation, conversation_id).state  # type: ignore[union-attr]
                chunks = [f"id: {m.id}\nevent: message\ndata: {json.dumps(to_json(m))}\n\n" for m in new]
            yield from chunks
            if new:
                after = new[-1].id
            if state != last_state:
                last_state = state
                yield f"event: state\ndata: {json.dumps({'state': state})}\n\n"
            typing_now = [w for w in hub.typing(conversation_id) if w != who_sees]
            if typing_now != last_typing:
                last_typing = typing_now
                yield f"event: typing\ndata: {json.dumps({'typing': typing_now})}\n\n"
            if hub.wait(conversation_id, version, keepalive) == version:
                yield ": keep-alive\n\n"

    return generate()
