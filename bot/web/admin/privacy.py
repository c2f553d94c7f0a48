"""`/admin/privacy/`: what is stored about one customer, its export (GDPR Art. 15) and deletion (Art. 17).

Admins only (role `admin`): an export holds whole transcripts and a deletion cannot be undone, which is more
than the FAQ editors' work needs. Every export and deletion writes an audit line (logger `auskunft.audit`)
with the contact's internal number and the admin's, never the personal data itself.
The retention command `flask --app bot purge` hangs off this blueprint (bot/retention.py).
"""

from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from bot.conversation import learning
from bot.customers.outside_stores import stores
from bot.customers.personal_data import CustomerData, find_contacts
from bot.customers.rasa_trackers import TrackerStoreUnsupported
from bot.db import get_session
from bot.models import Contact, Conversation, Role
from bot.web.access import role_required
from common.logging_setup import AUDIT_LOGGER

bp = Blueprint("admin_privacy", __name__, url_prefix="/admin/privacy")
audit = logging.getLogger(AUDIT_LOGGER)


@bp.errorhandler(TrackerStoreUnsupported)
def unsupported_store(error: TrackerStoreUnsupported):  # type: ignore[no-untyped-def]
    message = f"Rasas Gesprächsspeicher kann hier nicht gelesen oder gelöscht werden ({error}); bitte " \
              "AUSKUNFT_RASA_TRACKER_STORE_URL auf einen SQL-Speicher setzen."
    return render_template("admin/privacy.html", query="", found=[], problem=message), 503


def _customer(contact_id: int) -> CustomerData:
    contact = get_session().get(Contact, contact_id)
    if contact is None:
        abort(404, "diesen Kunden gibt es nicht (mehr)")
    return CustomerData.of(get_session(), contact)


@bp.get("/")
@role_required(Role.ADMIN)
def index():  # type: ignore[no-untyped-def]
    query = request.args.get("q", "").strip()[:320]
    found = [CustomerData.of(get_session(), c) for c in find_contacts(get_session(), query)] if query else []
    return render_template("admin/privacy.html", query=query, found=found)


@bp.get("/contacts/<int:contact_id>")
@role_required(Role.ADMIN)
def show(contact_id: int):  # type: ignore[no-untyped-def]
    data = _customer(contact_id)
    trackers, feedback = stores(current_app)
    outside = {
        "Rasa-Ereignisse": sum(len(events) for events in trackers.events(data.sender_ids).values()),
        "Feedback des Aktionsservers": len(feedback.rows(data.sender_ids)),
    }
    conversations = get_session().scalars(
        select(Conversation).where(Conversation.contact_id == contact_id).order_by(Conversation.id)
    )
    return render_template("admin/privacy_contact.html", data=data, outside=outside, conversations=list(conversations))


@bp.get("/contacts/<int:contact_id>/export.json")
@role_required(Role.ADMIN)
def export(contact_id: int):  # type: ignore[no-untyped-def]
    data = _customer(contact_id)
    document = data.export(get_session(), *stores(current_app))
    audit.info("privacy export: contact %d by agent %d (%d conversations)", contact_id, current_user.id,
               len(document["conversations"]))
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="kunde-{contact_id}.json"', "Cache-Control": "no-store"},
    )


@bp.route("/contacts/<int:contact_id>/delete", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def erase(contact_id: int):  # type: ignore[no-untyped-def]
    data = _customer(contact_id)
    if request.method == "GET" or request.form.get("confirm") != "ja":
        if request.method == "POST":
            flash("Bitte bestätigen Sie die Löschung mit dem Häkchen.")
        return render_template("admin/privacy_delete.html", data=data), 200 if request.method == "GET" else 400
    counts = data.erase(get_session(), *stores(current_app))
    if counts.get("learned_pairs"):  # `train` reads the confirmed pairs from a file: without theirs from now on
        learning.export_quietly(get_session(), learning.pairs_file(current_app.config))
    audit.info("privacy erasure: contact %d by agent %d: %s", contact_id, current_user.id, counts)
    flash(f"Alle Daten von Kunde {contact_id} wurden gelöscht: "
          + ", ".join(f"{name} {count}" for name, count in counts.items() if count) + ".")
    return redirect(url_for(".index"))
