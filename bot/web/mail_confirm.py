"""The page behind the confirmation link in the mail: GET shows a button, only its POST sends the transcript.

Mail scanners and link previews fetch every link in a mail, so opening the link must change nothing. The POST
needs no CSRF token: the signed link itself is the proof (only the mailbox's owner has it), and it works once.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, make_response, render_template

from bot.conversation import states, transcript_mail
from bot.db import get_session
from bot.models import Conversation

bp = Blueprint("mail_confirm", __name__, url_prefix=transcript_mail.CONFIRM_PATH.rstrip("/"))

EXPIRED = (
    "Dieser Link ist abgelaufen oder ungültig. Bitte fordern Sie den Verlauf im Chat noch einmal an – "
    "wir schicken Ihnen dann einen neuen Link."
)
ALREADY = "Ihre Adresse ist bereits bestätigt, und wir haben Ihnen den Verlauf schon geschickt."
SENT = "Vielen Dank! Ihre Adresse ist bestätigt, und wir haben Ihnen den Verlauf an {email} geschickt."


def page(status: int, message: str = "", email: str = "", ask: bool = False) -> Response:
    response = make_response(
        render_template("customer/mail_confirm.html", message=message, email=email, ask=ask), status
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the link is a key: it must not leak to other sites
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def confirmation(token: str) -> tuple[transcript_mail.Confirmation, Conversation] | None:
    found = transcript_mail.read(current_app.secret_key or "", token)
    conversation = get_session().get(Conversation, found.conversation_id) if found else None
    return (found, conversation) if found and conversation is not None else None


@bp.get("/<token>")
def ask(token: str) -> Response:
    found = confirmation(token)
    if found is None:
        return page(410, EXPIRED)
    return page(200, email=found[0].email, ask=True)


@bp.post("/<token>")
def send(token: str) -> Response:
    found = confirmation(token)
    if found is None:
        return page(410, EXPIRED)
    confirmed, conversation = found
    session = get_session()
    if transcript_mail.used(states.messages_after(session, conversation.id, 0), confirmed.nonce):
        return page(200, ALREADY)
    try:
        transcript_mail.deliver(
            session, conversation, confirmed.email, confirmed.nonce, transcript_mail.Outbox.of(current_app)
        )
    except transcript_mail.MailRefused as refused:
        session.rollback()
        return page(refused.status, refused.message[:1].upper() + refused.message[1:])  # a sentence on a page
    current_app.extensions["hub"].notify(conversation.id)
    return page(200, SENT.format(email=confirmed.email))
