"""The two ends the gateway tests talk through: a scripted Rasa behind it, the widget customer in front."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from bot.conversation import states
from bot.db import get_session
from bot.integrations.rasa_client import RasaClient, RasaUnavailable


class ScriptedRasa(RasaClient):
    """Answers from a list the test fills; `down = True` behaves like a Rasa that does not answer."""

    def __init__(self) -> None:
        super().__init__("http://scripted.invalid")
        self.replies: list[list[dict[str, Any]]] = []
        self.received: list[tuple[str, str]] = []
        self.resumed: list[str] = []
        self.down = False

    def send(self, sender: str, message: str) -> list[dict[str, Any]]:
        if self.down:
            raise RasaUnavailable("scripted: down")
        self.received.append((sender, message))
        return self.replies.pop(0) if self.replies else [{"text": f"Echo: {message}"}]

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
