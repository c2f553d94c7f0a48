"""Textbausteine: an agent's own reply texts (and the ones colleagues share), with placeholders filled in for
the conversation at hand before they go into the composer."""

from __future__ import annotations

import re

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from bot.models import Agent, Conversation, Snippet

MAX_TITLE = 120
MAX_TEXT = 4000
PLACEHOLDERS = {
    "name": "Name des Kunden (leer, wenn unbekannt)",
    "agent": "Ihr Name",
    "gespraech": "Nummer des Gesprächs",
}
"""`{name}` → the placeholder's description, shown on the snippets page."""
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def visible_to(session: Session, agent: Agent) -> list[Snippet]:
    """The agent's own snippets and the shared ones of others; own first, then by title."""
    return sorted(
        session.scalars(
            select(Snippet)
            .options(selectinload(Snippet.owner))
            .where(or_(Snippet.owner_id == agent.id, Snippet.shared.is_(True)))
        ),
        key=lambda s: (s.owner_id != agent.id, s.title.casefold(), s.id),
    )


def editable(session: Session, agent: Agent, snippet_id: int) -> Snippet | None:
    """The agent's own snippet with this id; a colleague's (even shared) is not the agent's to change."""
    snippet = session.get(Snippet, snippet_id)
    return snippet if snippet is not None and snippet.owner_id == agent.id else None


def fill(text: str, conversation: Conversation, agent: Agent) -> str:
    """Placeholders replaced; an unknown one stays as written, so a typo is seen, not silently dropped.

    A missing customer name leaves the greeting readable: "Hallo {name}," becomes "Hallo,"."""
    values = {
        "name": (conversation.contact.name or "").strip() if conversation.contact else "",
        "agent": agent.name,
        "gespraech": str(conversation.id),
    }
    filled = PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
    return re.sub(r" +([,.!?])", r"\1", filled) if not values["name"] else filled
