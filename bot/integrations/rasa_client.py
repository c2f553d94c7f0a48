"""Rasa's REST channel and tracker API, with timeouts and one clear error for "Rasa is not answering".

Every call carries the Rasa token as `?token=` (Rasa's `--auth-token`; `AUSKUNFT_RASA_TOKEN`, else
var/rasa_token, common/shared_secret.py): the tracker and model API answer 401 without it. Rasa does not check
it on the REST channel's webhook, which is why Rasa binds 127.0.0.1 only.
"""

from __future__ import annotations

from typing import Any

import requests

from common.shared_secret import rasa_token

MESSAGE_KEY = "auskunft_message_id"
"""The gateway's message id, sent as the user event's metadata: the tracker then says whether Rasa has it."""


class RasaUnavailable(Exception):
    """Rasa did not answer, answered with an error or with nothing, or sent something that is not a list of replies."""


class RasaClient:
    def __init__(self, base_url: str, timeout: float = 30.0, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token = token if token is not None else rasa_token()
        self.http = requests.Session()  # keeps connections open: the gateway adds little per message

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        try:
            response = self.http.request(
                method, f"{self.base_url}{path}", json=body, params={"token": self.token}, timeout=(3.0, self.timeout)
            )
            if response.status_code == 401:
                raise RasaUnavailable(
                    f"Rasa at {self.base_url}{path} refused the Rasa token (401): AUSKUNFT_RASA_TOKEN must be the "
                    "same for the gateway and Rasa / Rasa lehnt das Token ab: AUSKUNFT_RASA_TOKEN muss bei Gateway "
                    "und Rasa gleich sein"
                )
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError) as error:
            # the URL in requests' message would carry the token into the log
            reason = str(error).replace(self.token, "***") if self.token else str(error)
            raise RasaUnavailable(f"Rasa at {self.base_url}{path}: {reason}") from error

    def _post(self, path: str, body: Any) -> Any:
        return self._request("POST", path, body)

    def send(
        self, sender: str, message: str, message_id: int | None = None, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The bot's replies to one customer message (text, buttons, custom payloads).

        `metadata` (what the gateway vouches for about the sender, common/sender_metadata.py) goes with the message
        as the user event's metadata, beside the message id; the action server reads it from the tracker.

        Every message is owed a reply, so none at all (no model loaded, an action that failed) is an outage too:
        the message is kept and asked again later rather than counted as answered.
        """
        body: dict[str, Any] = {"sender": sender, "message": message}
        extra = {**(metadata or {}), **({MESSAGE_KEY: message_id} if message_id is not None else {})}
        if extra:
            body["metadata"] = extra
        replies = self._post("/webhooks/rest/webhook", body)
        if not isinstance(replies, list) or not all(isinstance(r, dict) for r in replies):
            raise RasaUnavailable(f"Rasa sent {type(replies).__name__}, not a list of replies")
        if not replies:
            raise RasaUnavailable("Rasa answered nothing (no model loaded, or an action failed)")
        return replies

    def replies_to(self, sender: str, message_id: int) -> list[dict[str, Any]] | None:
        """The replies Rasa already gave to this gateway message, read from its tracker: a message asked again
        after a crash or a timeout must not reach Rasa twice. None when the tracker's last user event is another
        message (or it holds no replies): then it is to be sent."""
        tracker = self._request("GET", f"/conversations/{sender}/tracker")
        events = tracker.get("events") if isinstance(tracker, dict) else None
        if not isinstance(events, list):
            raise RasaUnavailable("Rasa sent a tracker without events")
        last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=None)
        if last_user is None or (events[last_user].get("metadata") or {}).get(MESSAGE_KEY) != message_id:
            return None
        replies = [_reply(e) for e in events[last_user + 1 :] if e.get("event") == "bot"]
        return replies or None

    def resume(self, sender: str) -> None:
        """Give a paused conversation back to the bot (`resume` alone would hand off again)."""
        self._post(
            f"/conversations/{sender}/tracker/events",
            [{"event": "resume"}, {"event": "action", "name": "action_listen"}],
        )


def _reply(event: dict[str, Any]) -> dict[str, Any]:
    """A tracker's `bot` event in the REST channel's reply shape (text, buttons, custom)."""
    data = event.get("data") or {}
    reply: dict[str, Any] = {}
    if event.get("text"):
        reply["text"] = event["text"]
    for key in ("buttons", "custom"):
        if data.get(key):
            reply[key] = data[key]
    return reply
