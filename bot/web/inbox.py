"""The agent inbox: the live list (SSE), whole transcript, take (atomic), reply, FAQ answer in one click, give back,
close."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask_login import current_user

from bot import channels, metrics
from bot.conversation import availability, csat, learning, reasoning, states, transcript
from bot.db import get_session
from bot.integrations.rasa_client import RasaUnavailable
from bot.models import Conversation, Direction, Role, Sender, State
from bot.web import conversation_page, inbox_list
from bot.web.access import role_required
from bot.web.conversation_page import agent_view, get_conversation
from bot.web.requests_json import after_param, json_body, text_field
from common import labels as words
from knowledge_base.settings import Settings as KbSettings

bp = Blueprint("inbox", __name__, url_prefix="/agent")


@bp.before_request
def seen() -> None:
    """Every inbox request (page, polling) keeps the agent "online" for the customers' handoff notice."""
    if current_user.is_authenticated:
        availability.mark_seen(get_session(), current_user, current_app.extensions["clock"]())


def changed(conversation: Conversation):  # type: ignore[no-untyped-def]
    get_session().commit()
    current_app.extensions["hub"].notify(conversation.id)
    return jsonify(
        state=conversation.state, state_label=words.state(conversation.state), assignee_id=conversation.assignee_id
    )


@bp.get("/")
@role_required(Role.AGENT)
def queue():  # type: ignore[no-untyped-def]
    """The inbox with no conversation open: the list, and what the providers did not take."""
    now = current_app.extensions["clock"]()
    return render_template("agent/queue.html", lists=inbox_list.lists(get_session(), current_user.id, now))


@bp.get("/events")
@role_required(Role.AGENT)
def events():  # type: ignore[no-untyped-def]
    """Server-Sent Events: `lists` (waiting, mine, all open, with counts) whenever one of them changed."""
    return Response(
        inbox_list.stream(current_user.id),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@bp.get("/conversations/<int:conversation_id>")
@role_required(Role.AGENT)
def show(conversation_id: int):  # type: ignore[no-untyped-def]
    return conversation_page.render(conversation_id)


@bp.get("/conversations/<int:conversation_id>/transcript.<any(json, txt):fmt>")
@role_required(Role.AGENT)
def export(conversation_id: int, fmt: str):  # type: ignore[no-untyped-def]
    """A download (Content-Disposition: attachment), so the agent can keep it outside the inbox."""
    conversation = get_conversation(conversation_id)
    messages = states.messages_after(get_session(), conversation.id, 0)
    if fmt == "json":
        response = jsonify(transcript.as_json(conversation, messages))
    else:
        text = transcript.as_text(conversation, messages, channels.label(conversation.channel))
        response = Response(text, mimetype="text/plain")
    response.headers["Content-Disposition"] = f'attachment; filename="gespraech-{conversation.id}.{fmt}"'
    return response


@bp.get("/conversations/<int:conversation_id>/messages")
@role_required(Role.AGENT)
def poll(conversation_id: int):  # type: ignore[no-untyped-def]
    conversation = get_conversation(conversation_id)
    hub = current_app.extensions["hub"]
    return jsonify(
        state=conversation.state,
        state_label=words.state(conversation.state),
        assignee_id=conversation.assignee_id,
        typing=[w for w in hub.typing(conversation.id) if w != "agent"],
        reasoning=reasoning.current(get_session(), conversation),
        messages=[agent_view(m) for m in states.messages_after(get_session(), conversation.id, after_param())],
    )


@bp.post("/conversations/<int:conversation_id>/take")
@role_required(Role.AGENT)
def take(conversation_id: int):  # type: ignore[no-untyped-def]
    conversation = get_conversation(conversation_id)
    if not states.take(get_session(), conversation.id, current_user):
        get_session().rollback()
        abort(409, "das Gespräch wartet nicht (mehr) – vielleicht hat es schon jemand übernommen")
    return changed(conversation)


@bp.post("/conversations/<int:conversation_id>/reply")
@role_required(Role.AGENT)
def reply(conversation_id: int):  # type: ignore[no-untyped-def]
    text = text_field(json_body())
    conversation = get_conversation(conversation_id, assigned=True)
    message = states.add_message(
        get_session(), conversation, Direction.OUTGOING, Sender.AGENT, text, agent=current_user
    )
    current_app.extensions["hub"].set_typing(conversation.id, "agent", False)
    metrics.observe_agent_reply(get_session(), conversation, message)
    learning.suggest_from_reply(get_session(), conversation, message, faq_answers(), current_user.id)
    changed(conversation)
    return jsonify(agent_view(message)), 201


@bp.post("/conversations/<int:conversation_id>/faq")
@role_required(Role.AGENT)
def send_faq(conversation_id: int):  # type: ignore[no-untyped-def]
    body = json_body()
    faq_id = body.get("faq_id")
    if not isinstance(faq_id, str) or not faq_id:
        abort(400, "„faq_id“ fehlt")
    conversation = get_conversation(conversation_id, assigned=True)
    answer = faq_search().answer(faq_id)
    if answer is None:
        abort(404, f"keine FAQ mit der Kennung {faq_id}")
    message = states.add_message(
        get_session(),
        conversation,
        Direction.OUTGOING,
        Sender.AGENT,
        answer,
        payload={"faq_id": faq_id},
        agent=current_user,
    )
    metrics.observe_agent_reply(get_session(), conversation, message)
    learned = learning.record_faq_answer(get_session(), conversation, message, faq_id, current_user.id)
    changed(conversation)
    if learned is not None:
        learning.export_quietly(get_session(), learning.pairs_file(current_app.config))
    return jsonify(agent_view(message)), 201


@bp.post("/conversations/<int:conversation_id>/typing")
@role_required(Role.AGENT)
def typing(conversation_id: int):  # type: ignore[no-untyped-def]
    body = json_body()
    if not isinstance(body.get("typing"), bool):
        abort(400, "„typing“ muss true oder false sein")
    conversation = get_conversation(conversation_id, assigned=True)
    current_app.extensions["hub"].set_typing(conversation.id, "agent", body["typing"])
    return "", 204


@bp.post("/conversations/<int:conversation_id>/give-back")
@role_required(Role.AGENT)
def give_back(conversation_id: int):  # type: ignore[no-untyped-def]
    """Resume in Rasa first: if Rasa is down, nothing changes and the agent keeps the conversation."""
    conversation = get_conversation(conversation_id)
    if conversation.state not in (State.WITH_AGENT, State.WAITING) or (
        conversation.state == State.WITH_AGENT and conversation.assignee_id != current_user.id
    ):
        abort(409, "nur ein wartendes oder Ihr eigenes Gespräch kann zurück an den Bot")
    try:
        current_app.extensions["rasa"].resume(conversation.rasa_sender_id)
    except RasaUnavailable:
        abort(502, "der Bot ist gerade nicht erreichbar; das Gespräch bleibt bei Ihnen")
    states.give_back(get_session(), conversation, current_user)
    current_app.extensions["hub"].set_typing(conversation.id, "agent", False)
    return changed(conversation)


@bp.post("/conversations/<int:conversation_id>/close")
@role_required(Role.AGENT)
def close(conversation_id: int):  # type: ignore[no-untyped-def]
    conversation = get_conversation(conversation_id)
    if conversation.state == State.WITH_AGENT and conversation.assignee_id != current_user.id:
        abort(409, "das Gespräch gehört einem anderen Agenten")
    try:
        states.close(get_session(), conversation)
    except states.InvalidTransition as error:
        abort(409, str(error))
    csat.request(get_session(), conversation)  # the end: how was it? (the one message a closed one accepts)
    return changed(conversation)


@bp.get("/faq")
@role_required(Role.AGENT)
def faq():  # type: ignore[no-untyped-def]
    text = request.args.get("q", "").strip()
    if not text or len(text) > 500:
        abort(400, "Suchtext fehlt oder ist zu lang")
    return jsonify(results=faq_search().search(text))


def faq_answers() -> Mapping[str, str]:
    """The FAQ answers an agent's reply is compared with: the gateway's knowledge base when it is there, else
    the FAQ files as saved — never a model load on the agent's request."""
    search = current_app.extensions.get("faq_search") or current_app.config.get("FAQ_SEARCH")
    if search is None:
        return learning.file_answers(KbSettings().faq_dir)
    answers = getattr(search, "answers", None)
    return answers() if callable(answers) else {}  # a test's stand-in without answers


def faq_search():  # type: ignore[no-untyped-def]
    from bot.integrations.kb_reload import gateway_search  # the editors' pages share it (and reload it live)

    return gateway_search(current_app)
