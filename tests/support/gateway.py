"""The scripted Rasa, the widget customer and the logged-in agent the gateway tests talk through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from bot.integrations.rasa_client import RasaClient, RasaUnavailable


def gateway_config(tmp_path: Path, rasa: RasaClient) -> dict[str, Any]:
    """What every test gateway starts from: testing mode, its own SQLite file in `tmp_path`, `rasa`, quick SSE."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
        "RASA_CLIENT": rasa,
        "SSE_KEEPALIVE_SECONDS": 0.2,
    }


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


class AgentSession:
    """An agent logged in through the real form (CSRF token read from the page)."""

    def __init__(self, app: Flask, email: str, password: str) -> None:
        self.client = app.test_client()
        page = self.client.get("/agent/login").get_data(as_text=True)
        self.csrf = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        response = self.client.post(
            "/agent/login", data={"email": email, "password": password, "csrf_token": self.csrf}
        )
        assert response.status_code == 302, response.get_data(as_text=True)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(path, json=body or {}, headers={"X-CSRFToken": self.csrf})
