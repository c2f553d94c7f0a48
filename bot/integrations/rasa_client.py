"""Rasa's REST channel and tracker API, with timeouts and one clear error for "Rasa is not answering"."""

from __future__ import annotations

from typing import Any

import requests


class RasaUnavailable(Exception):
    """Rasa did not answer, answered with an error, or sent something that is not a list of replies."""


class RasaClient:
    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()  # keeps connections open: the gateway adds little per message

    def _post(self, path: str, body: Any) -> Any:
        try:
            response = self.http.post(f"{self.base_url}{path}", json=body, timeout=(3.0, self.timeout))
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError) as error:
            raise RasaUnavailable(f"Rasa at {self.base_url}{path}: {error}") from error

    def send(self, sender: str, message: str) -> list[dict[str, Any]]:
        """The bot's replies to one customer message (text, buttons, custom payloads)."""
        replies = self._post("/webhooks/rest/webhook", {"sender": sender, "message": message})
        if not isinstance(replies, list) or not all(isinstance(r, dict) for r in replies):
            raise RasaUnavailable(f"Rasa sent {type(replies).__name__}, not a list of replies")
        return replies

    def resume(self, sender: str) -> None:
        """Give a paused conversation back to the bot (`resume` alone would hand off again)."""
        self._post(
            f"/conversations/{sender}/tracker/events",
            [{"event": "resume"}, {"event": "action", "name": "action_listen"}],
        )
