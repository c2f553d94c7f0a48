"""The agent inbox (placeholder until step 3)."""

from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("inbox", __name__, url_prefix="/agent")


@bp.get("/")
@login_required
def queue():  # type: ignore[no-untyped-def]
    return "queue"
