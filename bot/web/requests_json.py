"""Reading request bodies strictly: JSON objects only, bounded text, clear 4xx otherwise."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, current_app, request

INTENT = re.compile(r"^/[a-z_]{1,60}(\{.{0,200}\})?$")
SOURCE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def json_body(optional: bool = False) -> dict[str, Any]:
    if optional and not request.get_data():
        return {}
    if not request.is_json:
        abort(415, "Content-Type muss application/json sein")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "der Inhalt muss ein JSON-Objekt sein")
    return body


def text_field(body: dict[str, Any], name: str = "text", required: bool = True) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        abort(400, f"„{name}“ muss ein Text sein")
    value = value.strip()
    if required and not value:
        abort(400, f"„{name}“ fehlt oder ist leer")
    limit = current_app.config["MAX_MESSAGE_CHARS"]
    if len(value) > limit:
        abort(413, f"„{name}“ ist zu lang (höchstens {limit} Zeichen)")
    return value


def optional_pattern(body: dict[str, Any], name: str, pattern: re.Pattern[str]) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.match(value):
        abort(400, f"„{name}“ hat nicht die erwartete Form")
    return value


def after_param() -> int:
    """The last message id a client has (`?after=` or SSE's `Last-Event-ID`): only newer ones are sent."""
    raw = request.args.get("after") or request.headers.get("Last-Event-ID") or "0"
    if not raw.isdigit():
        abort(400, "„after“ muss eine Nachrichten-Nummer sein")
    return int(raw)
