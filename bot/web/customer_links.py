"""Linking and unlinking customers by hand, from the conversation page's "Kunde" panel (plain POST forms).

Success redirects back to the conversation page with a note; bad input answers 4xx: the page again with the
reason on it (or `{"error"}` for JSON clients).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from bot.customers import identities
from bot.db import get_session
from bot.errors import wants_json
from bot.models import IdentifierKind, Role
from bot.web import conversation_page
from bot.web.access import role_required

bp = Blueprint("customer_links", __name__, url_prefix="/agent/conversations/<int:conversation_id>/customer")
LINKED = {
    identities.Outcome.ADDED: "{label} {value} gehört jetzt zu diesem Kunden.",
    identities.Outcome.KNOWN: "{label} {value} gehörte schon zu diesem Kunden.",
    identities.Outcome.MERGED: "{label} {value} gehörte zu einem anderen Kunden – beide sind jetzt ein Kunde.",
}


class LinkForm(FlaskForm):
    kind = SelectField("Art", choices=[(IdentifierKind.EMAIL, "E-Mail"), (IdentifierKind.PHONE, "Telefon")])
    value = StringField("Adresse oder Nummer", validators=[DataRequired(), Length(max=320)])


def refuse(conversation_id: int, status: int, message: str):  # type: ignore[no-untyped-def]
    if wants_json():
        abort(status, message)
    flash(message)
    return conversation_page.render(conversation_id), status


def back_to(conversation_id: int):  # type: ignore[no-untyped-def]
    """To the page the form was on (`back`, a conversation number), else this conversation's page."""
    back = request.form.get("back", "")
    target = int(back) if back.isdigit() else conversation_id
    return redirect(url_for("inbox.show", conversation_id=target), 303)


@bp.post("/link")
@role_required(Role.AGENT)
def link(conversation_id: int):  # type: ignore[no-untyped-def]
    """An e-mail address or phone number the customer gave the agent, or another customer's: merge if known."""
    conversation = conversation_page.get_conversation(conversation_id)
    form = LinkForm()
    if not form.validate():
        message = "Bitte „E-Mail“ oder „Telefon“ wählen und eine Adresse oder Nummer eingeben."
        return refuse(conversation_id, 400, message)
    kind = IdentifierKind(form.kind.data)
    session = get_session()
    try:
        linked = identities.link(session, conversation, kind, form.value.data, source="agent", agent=current_user)
    except identities.InvalidIdentifier as error:
        session.rollback()
        return refuse(conversation_id, 400, f"Nicht verknüpft: {error}.")
    session.commit()
    value = identities.normalise(kind, form.value.data)
    flash(LINKED[linked.outcome].format(label=identities.KIND_LABELS[kind], value=value))
    return back_to(conversation_id)


@bp.post("/unlink")
@role_required(Role.AGENT)
def unlink(conversation_id: int):  # type: ignore[no-untyped-def]
    """This conversation leaves its customer and stands alone (a wrong link from a typed address)."""
    conversation = conversation_page.get_conversation(conversation_id)
    session = get_session()
    try:
        identities.unlink(session, conversation)
    except identities.NothingToUnlink as error:
        return refuse(conversation_id, 409, f"Nicht gelöst: {error}.")
    session.commit()
    flash(f"Gespräch {conversation.id} gehört jetzt zu einem eigenen Kunden.")
    return back_to(conversation_id)


@bp.post("/identifiers/<int:identifier_id>/remove")
@role_required(Role.AGENT)
def remove_identifier(conversation_id: int, identifier_id: int):  # type: ignore[no-untyped-def]
    """The identifier stops linking: later conversations with it no longer join this customer."""
    conversation = conversation_page.get_conversation(conversation_id)
    session = get_session()
    try:
        identifier = identities.remove_identifier(session, conversation.contact, identifier_id)
    except LookupError as error:
        return refuse(conversation_id, 404, f"Nicht entfernt: {error}.")
    session.commit()
    flash(f"{identities.KIND_LABELS.get(identifier.kind, identifier.kind)} {identifier.value} wurde entfernt.")
    return back_to(conversation_id)
