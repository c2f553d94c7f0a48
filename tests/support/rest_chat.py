"""A customer talking to the bot over Rasa's REST channel, and helpers to read the replies."""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

from common.shared_secret import rasa_token


class Chat:
    """One customer talking to the bot over the REST channel."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.sender = f"test-{uuid.uuid4().hex[:12]}"

    def _post(self, path: str, body: Any) -> Any:
        request = urllib.request.Request(
            f"{self.base_url}{path}?token={rasa_token()}",  # the REST webhook ignores it, the tracker API needs it
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            assert response.status == 200
            return json.load(response)

    def say(self, message: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The bot's replies; `metadata` is what the gateway would send with the message (the sender's client key,
        a verified phone: common/sender_metadata.py)."""
        body = {"sender": self.sender, "message": message, **({"metadata": metadata} if metadata else {})}
        return self._post("/webhooks/rest/webhook", body)

    def tracker(self) -> dict[str, Any]:
        with urllib.request.urlopen(
            f"{self.base_url}/conversations/{self.sender}/tracker?token={rasa_token()}", timeout=30
        ) as response:
            return json.load(response)

    def resume(self) -> None:
        """Give the conversation back to the bot (resume alone would re-trigger the handoff)."""
        events = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        self._post(f"/conversations/{self.sender}/tracker/events", events)


def texts(replies: list[dict[str, Any]]) -> str:
    return " ".join(r.get("text", "") for r in replies)


def custom(replies: list[dict[str, Any]], kind: str = "handoff") -> dict[str, Any]:
    """The one custom message of this `type` (the knowledge base's `decision` comes beside the handoff)."""
    found = [r["custom"] for r in replies if r.get("custom", {}).get("type") == kind]
    assert len(found) == 1, replies
    return found[0]



def buttons(replies: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [b for r in replies for b in r.get("buttons", [])]
