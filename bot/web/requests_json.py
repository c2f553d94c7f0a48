"""Reading request bodies strictly: JSON objects only, bounded text, clear 4xx otherwise.

Every `request.get_json()` of the app (widget API, inbox, webhooks) goes through `StrictJSONProvider`: a body
nested deeper than `MAX_JSON_DEPTH` or with a lone surrogate (`"\\ud800"`, valid JSON but no text: it cannot be
stored or encoded) is invalid JSON, so a 400 and never a RecursionError or UnicodeEncodeError. Numbers in URLs and
`after` are bounded to SQL's 64-bit integers (`BoundedInt`, `after_param`): a 30-digit id is a 404 / 400.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, abort, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

MAX_JSON_DEPTH = 32
"""Our bodies nest 2 (widget) to 6 (Messenger) levels; Python's parser recurses per level."""
MAX_SQL_INT = 2**63 - 1
DIGITS = re.compile(r"^[0-9]{1,19}$")  # ASCII only: str.isdigit() also takes "٣" and "²"
SURROGATE = re.compile(r"[\ud800-\udfff]")


class InvalidJSON(ValueError):
    """Raised by `StrictJSONProvider.loads`; Flask turns it into a 400 (or None with `silent=True`)."""


def check_parsed(value: Any) -> Any:
    """`value` if it nests at most MAX_JSON_DEPTH levels and has no lone surrogate in a key or string."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if SURROGATE.search(item):
                raise InvalidJSON("ungültiges Unicode-Zeichen (einzelnes Surrogat)")
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            raise InvalidJSON(f"zu tief verschachtelt (höchstens {MAX_JSON_DEPTH} Ebenen)")
        children = list(item.keys()) + list(item.values()) if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children)
    return value


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON with bounded nesting and real text only (see the module's docstring)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise InvalidJSON(f"zu tief verschachtelt (höchstens {MAX_JSON_DEPTH} Ebenen)") from None
        return check_parsed(value)


class BoundedInt(IntegerConverter):
    """`<int:…>` in every route: at most a 64-bit integer, so a 30-digit id is a 404, not an SQL overflow."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_SQL_INT)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Before the blueprints are registered: converters are looked up when a route is added."""
    app.json = StrictJSONProvider(app)
    app.url_map.converters["int"] = BoundedInt


def sql_int(raw: str) -> int | None:
    """A non-negative number a database column can hold, from ASCII digits; None otherwise."""
    if not DIGITS.match(raw) or int(raw) > MAX_SQL_INT:
        return None
    return int(raw)


def form_ids(invalid: str, none: str) -> list[int]:
    """The ticked rows of a staff list form (`ids`): all valid database numbers (a 30-digit one is no SQL
    overflow) and at least one, else 400 with the page's German wording."""
    given = request.form.getlist("ids")
    ids = [number for number in map(sql_int, given) if number is not None]
    if len(ids) != len(given):
        abort(400, invalid)
    if not ids:
        abort(400, none)
    return ids


INTENT = re.compile(r"^/[a-z_]{1,60}(\{.{0,200}\})?$")
SOURCE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def json_body(optional: bool = False) -> dict[str, Any]:
    if optional and not request.get_data():
        return {}
    if not request.is_json:
        abort(415, "Content-Type muss application/json sein")
    try:
        body = current_app.json.loads(request.get_data())
    except InvalidJSON as error:
        abort(400, f"der Inhalt ist kein gültiges JSON: {error}")
    except ValueError:  # also bytes that are no UTF-8
        abort(400, "der Inhalt ist kein gültiges JSON")
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
    after = sql_int(raw)
    if after is None:
        abort(400, "„after“ muss eine Nachrichten-Nummer sein")
    return after
