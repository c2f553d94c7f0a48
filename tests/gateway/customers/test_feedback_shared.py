"""With the gateway on PostgreSQL, the action server records feedback in that database (migration 0012), and the
gateway's GDPR export and erasure find it there: no file on the action server's disk that the gateway cannot see."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, select, text

from actions import actions
from bot.customers import outside_stores
from bot.db import get_session
from bot.models import Conversation, Role
from common import feedback_log
from common.feedback_log import FeedbackCounts
from tests.support import databases
from tests.support.app import make_app
from tests.support.bot_replies import answered
from tests.support.gateway import Customer, ScriptedRasa
from tests.support.login import csrf_of, logged_in


def test_the_action_servers_feedback_is_exported_and_erased_from_the_shared_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rasa: ScriptedRasa
) -> None:
    databases.require_postgresql()
    url = databases.new_postgres_database()
    # the action server's environment on another machine: only the shared database is configured
    monkeypatch.setenv("AUSKUNFT_DATABASE_URL", url)
    monkeypatch.delenv(feedback_log.URL_ENV, raising=False)
    monkeypatch.setenv(feedback_log.ENV, str(tmp_path / "action-server" / "feedback.db"))
    app = make_app(tmp_path, rasa, DATABASE_URL=url, FEEDBACK_DB=None,
                   RASA_TRACKER_STORE_URL=f"sqlite:///{tmp_path / 'trackers.db'}")

    question = "Was kostet der Versand? Meine Nummer ist 0151 12345678"
    customer = Customer(app.test_client())
    rasa.replies.append(answered(question, "versand-kosten", 0.9))
    customer.say(question)
    with app.app_context():
        conversation = get_session().scalars(select(Conversation).filter_by(token=customer.token)).one()
        contact_id, sender = conversation.contact_id, conversation.rasa_sender_id

    slots = {"last_question": question, "last_faq_id": "versand-kosten"}
    tracker = Tracker(sender, slots, {"intent": {"name": "deny"}, "text": "Nein"}, [], False, None, {}, "")
    actions.feedback_events(tracker, CollectingDispatcher(), False, "button")  # what the action server runs on "Nein"

    admin = logged_in(app, "admin@example.com", Role.ADMIN)
    export = admin.client.get(f"/admin/privacy/contacts/{contact_id}/export.json").json
    [record] = export["action_server_feedback"]
    assert (record["sender_id"], record["faq_id"], record["helpful"], record["kind"]) == (
        sender, "versand-kosten", 0, "button")
    assert record["question"] == "Was kostet der Versand? Meine Nummer ist [TELEFON]"
    assert not (tmp_path / "action-server").exists()  # nothing went to a file on the action server's disk
    with app.app_context():  # the editors' FAQ page counts from the same table
        assert outside_stores.feedback(app).counts("versand-kosten") == FeedbackCounts(helpful=0, not_helpful=1)

    page = admin.client.get(f"/admin/privacy/contacts/{contact_id}/delete").get_data(as_text=True)
    done = admin.client.post(f"/admin/privacy/contacts/{contact_id}/delete",
                             data={"csrf_token": csrf_of(page), "confirm": "ja"})
    assert done.status_code == 302
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM feedback WHERE sender_id = :s"), {"s": sender}) == 0
    engine.dispose()
