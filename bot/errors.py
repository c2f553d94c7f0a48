"""Every error under /api and every JSON request gets a JSON body with a message, never an HTML page or a 500 trace."""

from __future__ import annotations

import logging
import re

from flask import Flask, jsonify, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("auskunft.gateway")

CONVERSATION_TOKEN = re.compile(r"(/conversations/)[A-Za-z0-9_-]{20,}")
"""A widget conversation's token in a path (a customer's key to read and write it); inbox ids are short numbers."""


CONFIRMATION_LINK = re.compile(r"(/transcript/confirm/)[A-Za-z0-9_.-]+")
"""A signed transcript-mail confirmation (bot.web.mail_confirm): whoever has it can have the transcript sent."""


def redact_tokens(text: str) -> str:
    """`text` (a path, a request line) with conversation tokens and confirmation links replaced: logs must not
    hand them out."""
    return CONFIRMATION_LINK.sub(r"\1[token]", CONVERSATION_TOKEN.sub(r"\1[token]", text))


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.is_json or request.accept_mimetypes.best == "application/json"


def json_error(status: int, message: str):  # type: ignore[no-untyped-def]
    return jsonify(error=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
        return json_error(400, f"CSRF-Prüfung fehlgeschlagen: {error.description}")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        if wants_json():
            return json_error(error.code or 500, error.description or error.name)
        return error

    @app.errorhandler(Exception)
    def unexpected(error: Exception):  # type: ignore[no-untyped-def]
        log.exception("unexpected error on %s %s", request.method, redact_tokens(request.path))
        if wants_json():
            return json_error(500, "interner Fehler")
        return InternalServerError()
