"""The two ends the gateway tests talk through: a scripted Rasa behind it, the widget customer in front."""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from bot.conversation import states
from bot.db import get_session
from bot.integrations.rasa_client import RasaClient, RasaUnavailable


class ScriptedRasa(RasaClient):
    """Answers from a list the test fills; `down = True` behaves like a Rasa that does not answer, `delay` like a
    slow one. Like Rasa's tracker, it remembers each sender's last message and the replies it got."""

    def __init__(self) -> None:
        super().__init__("http://scripted.invalid")
        self.replies: list[list[dict[str, Any]]] = []
        self.received: list[tuple[str, str]] = []
        self.metadata: list[dict[str, Any] | None] = []
        """What the gateway sent with each message (beside its message id), in order."""
        self.resumed: list[str] = []
        self.down = False
        self.delay = 0.0
        self.last: dict[str, tuple[int | None, list[dict[str, Any]]]] = {}
        self.guard = threading.Lock()

    def send(
        self, sender: str, message: str, message_id: int | None = None, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        if self.down:
            raise RasaUnavailable("scripted: down")
        time.sleep(self.delay)
        with self.guard:
            self.received.append((sender, message))
            self.metadata.append(metadata)
            replies = self.replies.pop(0) if self.replies else [{"text": f"Echo: {message}"}]
            self.last[sender] = (message_id, replies)
        if not replies:
            raise RasaUnavailable("scripted: nothing")
        return replies

    def replies_to(self, sender: str, message_id: int) -> list[dict[str, Any]] | None:
        if self.down:
            raise RasaUnavailable("scripted: down")
        last_id, replies = self.last.get(sender, (None, []))
        return replies if last_id == message_id and replies else None

    def resume(self, sender: str) -> None:
        if self.down:
            raise RasaUnavailable("scripted: down")
        self.resumed.append(sender)


class Customer:
    """The widget's side of the API."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        response = client.post("/api/widget/conversations")
        assert response.status_code == 201, response.json
        self.token: str = response.json["token"]

    @property
    def base(self) -> str:
        return f"/api/widget/conversations/{self.token}"

    def say(self, text: str, payload: str | None = None, **extra: Any) -> dict[str, Any]:
        body = {"text": text, **({"payload": payload} if payload else {}), **extra}
        response = self.client.post(f"{self.base}/messages", json=body)
        assert response.status_code == 201, response.json
        return response.json

    def transcript(self) -> dict[str, Any]:
        return self.client.get(self.base).json


def conversation_id(app: Flask, token: str) -> int:
    """The id of the widget conversation with this `token`."""
    with app.app_context():
        return states.by_token(get_session(), token).id
