"""The demo shop page at `/` and the widget's files (served from web_widget/)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, render_template, send_from_directory

WIDGET_DIR = Path(__file__).resolve().parents[2] / "web_widget"
bp = Blueprint("pages", __name__)


@bp.get("/")
def demo_shop():  # type: ignore[no-untyped-def]
    return render_template("demo_shop.html")


@bp.get("/widget/<path:filename>")
def widget_file(filename: str):  # type: ignore[no-untyped-def]
    return send_from_directory(WIDGET_DIR, filename, max_age=300)
