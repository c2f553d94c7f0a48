"""Retention: `flask --app bot purge --older-than-days N [--dry-run]` deletes what is older than N days.

Deleted: conversations last updated more than N days ago with their messages and every row that points at
them (ratings, …), their Rasa trackers (and any tracker whose newest event is that old), the action server's
feedback records of those conversations or of that age, and contacts left without conversations.
Kept: the unanswered-question entries and the learned training pairs (bot.conversation.learning), masked and
no longer linked to a conversation — they name nobody and are the editors' work list and the next `train`'s.
`AUSKUNFT_RETENTION_DAYS` is the default for N, so cron needs no argument:

    15 3 * * *  cd /srv/auskunft && .venv/bin/flask --app bot purge >> var/purge.log 2>&1
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.customers.outside_stores import stores
from bot.customers.personal_data import delete_selection, select_dependents
from bot.customers.rasa_trackers import RasaTrackers, TrackerStoreUnsupported
from bot.db import get_session
from bot.models import Contact, Conversation, now
from common.feedback_log import FeedbackLog
from common.logging_setup import AUDIT_LOGGER

audit = logging.getLogger(AUDIT_LOGGER)
KEEP_UNLINKED = ("unanswered_questions", "learned_pairs")


@dataclass
class PurgeReport:
    cutoff: datetime
    rows: dict[str, int] = field(default_factory=dict)
    """Rows per table in the gateway's database (deleted, or unlinked for the tables in KEEP_UNLINKED)."""
    rasa_conversations: int = 0
    rasa_events: int = 0
    action_server_feedback: int = 0


def purge(
    session: Session,
    trackers: RasaTrackers,
    feedback: FeedbackLog,
    older_than_days: int,
    dry_run: bool = False,
    moment: datetime | None = None,
) -> PurgeReport:
    """Delete (or with `dry_run` only count) everything older than `older_than_days`; commits."""
    cutoff = (moment or now()) - timedelta(days=older_than_days)
    report = PurgeReport(cutoff)
    old = list(session.scalars(select(Conversation.id).where(Conversation.updated_at < cutoff)))
    senders = set(session.scalars(select(Conversation.rasa_sender_id).where(Conversation.id.in_(old))))
    senders |= set(trackers.stale_senders(cutoff.timestamp()))
    selection = select_dependents(session, {"conversations": old})
    empty_contacts = session.scalars(
        select(Contact.id).where(
            Contact.created_at < cutoff,
            ~select(Conversation.id)
            .where(Conversation.contact_id == Contact.id, Conversation.id.not_in(old))
            .exists(),
        )
    )
    for table, ids in select_dependents(session, {"contacts": list(empty_contacts)}).ids.items():
        selection.add(table, ids)
    report.rasa_conversations = len(senders)
    if dry_run:
        report.rows = {name: len(ids) for name, ids in sorted(selection.ids.items()) if ids}
        report.action_server_feedback = feedback.purge(senders, cutoff, dry_run=True)
        session.rollback()
        return report
    report.rasa_events = trackers.delete(sorted(senders))
    report.action_server_feedback = feedback.purge(senders, cutoff)
    report.rows = dict(sorted(delete_selection(session, selection, unlink=KEEP_UNLINKED).items()))
    session.commit()
    audit.info("purge older than %d days (before %s) by flask purge: %s, %d Rasa conversations (%d events), "
               "%d feedback records", older_than_days, cutoff.isoformat(timespec="seconds"), report.rows,
               report.rasa_conversations, report.rasa_events, report.action_server_feedback)
    return report


@click.command("purge")
@with_appcontext
@click.option("--older-than-days", type=click.IntRange(min=1), default=None,
              help="delete what is older than this many days (default: AUSKUNFT_RETENTION_DAYS)")
@click.option("--dry-run", is_flag=True, help="only count what would be deleted")
def purge_command(older_than_days: int | None, dry_run: bool) -> None:
    """Delete conversations, Rasa trackers and feedback older than N days (cron-able)."""
    older_than_days = older_than_days or current_app.config["RETENTION_DAYS"]
    if older_than_days is None:
        raise click.UsageError("--older-than-days N fehlt (oder AUSKUNFT_RETENTION_DAYS setzen)")
    try:
        trackers, feedback = stores(current_app)
    except TrackerStoreUnsupported as error:
        raise click.ClickException(f"{error}; set AUSKUNFT_RASA_TRACKER_STORE_URL to an SQL tracker store") from error
    report = purge(get_session(), trackers, feedback, older_than_days, dry_run)
    verb = "würde löschen" if dry_run else "gelöscht"
    click.echo(f"Stichtag {report.cutoff.isoformat(timespec='seconds')} ({older_than_days} Tage), {verb}:")
    for table, count in report.rows.items():
        note = " (behalten, Verknüpfung entfernt)" if table in KEEP_UNLINKED else ""
        click.echo(f"  {table}: {count}{note}")
    events = "" if dry_run else f" ({report.rasa_events} Ereignisse)"
    click.echo(f"  Rasa-Gespräche: {report.rasa_conversations}{events}")
    click.echo(f"  Feedback des Aktionsservers: {report.action_server_feedback}")
