"""The website widget as a channel: it reads its messages from the database (SSE, polling), so there is
nothing to push; `bot/widget_api.py` is its webhook."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.channels.base import Channel
from bot.models import WIDGET_CHANNEL, Conversation, Message

NAME = WIDGET_CHANNEL
LABEL = "Web-Chat"
bp = None


class Widget(Channel):
    name = NAME
    label = LABEL

    def send(self, session: Session, conversation: Conversation, message: Message) -> str | None:
        return None  # never pending: `conversations.add_message` marks only pushed channels' messages


def from_config(config: dict[str, Any]) -> Widget:
    return Widget()
