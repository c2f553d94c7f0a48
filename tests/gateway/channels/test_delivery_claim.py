"""A message for Messenger/SMS is sent by exactly one sender: the outbox or an SMS webhook's TwiML response."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from bot.channels import delivery
from bot.conversation import states
from bot.db import session_factory
from bot.models import DeliveryStatus, Direction, Message, Sender, now


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


def test_a_claim_left_by_a_crash_is_taken_over_when_its_lease_ran_out_not_at_the_restart(app: Flask) -> None:
    message_id = pending_sms(app)
    with app.app_context():
        sessions = session_factory()
        with sessions() as session:
            assert delivery.claim(session, session.get(Message, message_id), "crashed", lease_seconds=60)
        outbox = delivery.Outbox(sessions, channels={}, hub=app.extensions["hub"])
        outbox.start()  # a restart: the claim may belong to another gateway process, still sending
        outbox.stop()
        outbox.run_once()
        with sessions() as session:
            assert session.get(Message, message_id).delivery_status == DeliveryStatus.SENDING
        outbox.clock = lambda: now() + timedelta(seconds=61)
        outbox.run_once()
        with sessions() as session:
            # no SMS channel configured here: the outbox took it over and recorded why it could not send it
            message = session.get(Message, message_id)
            assert message.delivery_status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
            assert message.delivery_attempts == 1
            assert message.claimed_by == outbox.identity
