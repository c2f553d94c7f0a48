"""The inbox's live list: waiting, mine and all open conversations, labelled for the page and its script alike.

The page renders it once (`lists`), then `stream` sends it again over SSE whenever the hub says any conversation
changed — in this process or, with Redis, in another gateway's — so the list never reloads the page. The stream
reads the database after every wake-up, so a missed notification only delays the list until the next keep-alive.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import channels
from bot.conversation import availability, states
from bot.customers import identities
from bot.db import session_factory
from bot.models import Agent, Conversation, State, aware
from bot.web import staff_time
from common import labels

OPEN_SHOWN = 200
"""The "all open" tab shows at most this many (the oldest waiting first, then the most recently active)."""


def lists(session: Session, agent_id: int, now: datetime) -> dict[str, Any]:
    """{"waiting": [...], "mine": [...], "open": [...], "counts": {...}} with each entry labelled."""
    waiting = states.queue(session)
    mine = list(session.scalars(
        select(Conversation)
        .where(Conversation.state == State.WITH_AGENT, Conversation.assignee_id == agent_id)
        .order_by(Conversation.updated_at.desc())
    ))  # fmt: skip
    with_agents = list(session.scalars(
        select(Conversation)
        .where(Conversation.state == State.WITH_AGENT)
        .order_by(Conversation.updated_at.desc())
        .limit(OPEN_SHOWN)
    ))  # fmt: skip
    opened = (waiting + with_agents)[:OPEN_SHOWN]
    earlier = identities.earlier_counts(session, list({c.id: c for c in waiting + with_agents}.values()))
    entry = {c.id: _entry(c, agent_id, earlier.get(c.id, 0), now) for c in opened + mine}
    return {
        "waiting": [entry[c.id] for c in waiting],
        "mine": [entry[c.id] for c in mine],
        "open": [entry[c.id] for c in opened],
        "counts": {"waiting": len(waiting), "mine": len(mine), "open": len(waiting) + _with_agents(session)},
    }


def _with_agents(session: Session) -> int:
    return session.scalar(select(func.count()).where(Conversation.state == State.WITH_AGENT)) or 0


def _entry(c: Conversation, agent_id: int, earlier: int, now: datetime) -> dict[str, Any]:
    since = c.waiting_since if c.state == State.WAITING else c.updated_at
    return {
        "id": c.id,
        "url": f"/agent/conversations/{c.id}",
        "channel_label": channels.label(c.channel),
        "state": c.state,
        "state_label": labels.state(c.state),
        "reason_label": labels.handoff_reason(c.handoff_reason),
        "summary": labels.handoff_details((c.handoff or {}).get("summary")),  # the reason once, not twice
        "since": aware(since).isoformat() if since else "",
        "since_label": staff_time.staff_time(since, now),
        "assignee": (c.assignee.name if c.assignee else "") if c.state == State.WITH_AGENT else "",
        "mine": c.state == State.WITH_AGENT and c.assignee_id == agent_id,
        "earlier": earlier,
    }


def stream(agent_id: int) -> Iterator[str]:
    """`event: lists` whenever what the agent would see changed; a keep-alive (and the agent's presence, which the
    queue page's reloads used to keep) otherwise."""
    factory = session_factory()
    hub = current_app.extensions["hub"]
    keepalive = current_app.config["SSE_KEEPALIVE_SECONDS"]
    clock = current_app.extensions["clock"]

    def generate() -> Iterator[str]:
        last = ""
        yield "retry: 2000\n\n"
        while True:
            version = hub.any_version()
            with factory() as session:
                data = json.dumps(lists(session, agent_id, clock()))
            if data != last:
                last = data
                yield f"event: lists\ndata: {data}\n\n"
            if hub.wait_any(version, keepalive) == version:
                yield ": keep-alive\n\n"
                with factory() as session:  # the page is still open (the write went through): still present
                    if (agent := session.get(Agent, agent_id)) is not None:
                        availability.mark_seen(session, agent, clock())

    return generate()
