"""A customer's image as the inbox shows it: fetched by the gateway from the provider (with Twilio's account
credentials where its media need them) and served to logged-in staff only — the inbox never hot-links a
provider's URL, which would tell the provider who looks and would break once the URL expires."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from bot.channels.base import Channel

MAX_BYTES = 5 * 1024 * 1024
SHOWN_KINDS = ("image", "sticker")


class NotAnImage(Exception):
    """The provider did not answer with an image (expired, too large, another type)."""


@dataclass(frozen=True)
class Image:
    content: bytes
    content_type: str


def attachments_of(payload: dict[str, Any] | None) -> list[dict[str, Any]]:
    items = (payload or {}).get("attachments")
    return [a for a in items if isinstance(a, dict)] if isinstance(items, list) else []


def fetch(channel: Channel | None, url: str, timeout: float) -> Image:
    """The image at `url`, at most `MAX_BYTES`; Twilio's media URL with the account's Basic auth."""
    auth = getattr(channel, "media_auth", lambda _url: None)(url)
    try:
        with requests.get(url, auth=auth, timeout=(3.0, timeout), stream=True, allow_redirects=True) as response:
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if response.status_code != 200 or not content_type.startswith("image/") or content_type == "image/svg+xml":
                raise NotAnImage(f"{response.status_code} {content_type}")
            content = b""
            for chunk in response.iter_content(64 * 1024):
                content += chunk
                if len(content) > MAX_BYTES:
                    raise NotAnImage("zu groß")
    except requests.RequestException as error:
        raise NotAnImage(str(error)) from error
    return Image(content, content_type)
