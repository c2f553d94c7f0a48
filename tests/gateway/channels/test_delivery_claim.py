"""A message for Messenger/SMS is sent by exactly one sender: the outbox or an SMS webhook's TwiML response."""

from __future__ import annotations

from flask import Flask

from bot.channels import delivery
from bot.conversation import states
from bot.db import session_factory
from bot.models import DeliveryStatus, Direction, Message, Sender


def pending_sms(app: Flask) -> int:
    with app.app_context(), session_factory()() as session:
        conversation = states.start(session, "sms", channel_address="+4915112345678")
        message = states.add_message(session, conversation, Direction.OUTGOING, Sender.AGENT, "Hallo!")
        session.commit()
        assert message.delivery_status == DeliveryStatus.PENDING
        return message.id


def test_of_two_senders_only_the_first_claims_a_message(app: Flask) -> None:
    message_id = pending_sms(app)
    with app.app_context():
        sessions = session_factory()
        with sessions() as outbox, sessions() as webhook:
            first = delivery.claim(outbox, outbox.get(Message, message_id))
            second = delivery.claim(webhook, webhook.get(Message, message_id))
        assert (first, second) == (True, False)
        with sessions() as session:
            assert session.get(Message, message_id).delivery_status == DeliveryStatus.SENDING


def test_a_claim_left_by_a_crash_is_pending_again_when_the_outbox_starts(app: Flask) -> None:
    message_id = pending_sms(app)
    with app.app_context():
        sessions = session_factory()
        with sessions() as session:
            assert delivery.claim(session, session.get(Message, message_id))
        outbox = delivery.Outbox(sessions, channels={}, hub=app.extensions["hub"])
        outbox.start()
        outbox.stop()
        with sessions() as session:
            # no SMS channel configured here: the restarted outbox tried it again and recorded why it could not
            message = session.get(Message, message_id)
            assert message.delivery_status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
            assert message.delivery_status != DeliveryStatus.SENDING
