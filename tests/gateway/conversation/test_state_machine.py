"""The conversation state machine on a real SQLite file."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from bot.conversation import states
from bot.db import get_session
from bot.models import Agent, Message, State


@pytest.fixture
def session(app: Flask):  # type: ignore[no-untyped-def]
    with app.app_context():
        yield get_session()


def agent(session, name: str) -> Agent:  # type: ignore[no-untyped-def]
    found = Agent(email=f"{name}@example.com", name=name, password_hash="x")
    session.add(found)
    session.flush()
    return found


def test_full_cycle_writes_system_notes(session) -> None:  # type: ignore[no-untyped-def]
    conversation = states.start(session)
    assert conversation.state == State.BOT
    states.hand_off(session, conversation, "requested", {"type": "handoff", "candidates": []})
    assert conversation.state == State.WAITING and conversation.waiting_since is not None
    anna = agent(session, "Anna")
    assert states.take(session, conversation.id, anna)
    assert conversation.state == State.WITH_AGENT and conversation.assignee_id == anna.id
    states.give_back(session, conversation, anna)
    assert conversation.state == State.BOT and conversation.assignee_id is None
    states.close(session, conversation)
    session.commit()
    notes = session.scalars(select(Message.text).where(Message.conversation_id == conversation.id)).all()
    assert notes[1] == "Anna vom Kundenservice ist jetzt im Chat."
    assert notes[2].startswith("Anna hat das Gespräch")
    assert notes[-1].startswith("Das Gespräch wurde beendet")


def test_second_agent_cannot_take(session) -> None:  # type: ignore[no-untyped-def]
    conversation = states.start(session)
    states.hand_off(session, conversation, "requested", None)
    session.commit()
    anna, ben = agent(session, "Anna"), agent(session, "Ben")
    assert states.take(session, conversation.id, anna)
    assert not states.take(session, conversation.id, ben)
    assert conversation.assignee_id == anna.id


def test_invalid_transitions_raise(session) -> None:  # type: ignore[no-untyped-def]
    conversation = states.start(session)
    assert not states.take(session, conversation.id, agent(session, "Anna"))  # not waiting
    states.close(session, conversation)
    with pytest.raises(states.InvalidTransition):
        states.hand_off(session, conversation, "requested", None)
    with pytest.raises(states.InvalidTransition):
        states.close(session, conversation)


def test_queue_is_oldest_first(session) -> None:  # type: ignore[no-untyped-def]
    first, second, untouched = (states.start(session) for _ in range(3))
    states.hand_off(session, first, "low_confidence", None)
    states.hand_off(session, second, "requested", None)
    session.commit()
    assert [c.id for c in states.queue(session)] == [first.id, second.id]
    assert untouched.state == State.BOT
