"""The demo shop page at `/` and the widget's files (served from web_widget/), its two libraries included."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, render_template, send_from_directory

WIDGET_DIR = Path(__file__).resolve().parents[2] / "web_widget"
NODE_MODULES = WIDGET_DIR / "node_modules"
LIBRARIES = {
    "markdown-it.min.js": "markdown-it/dist/browser/markdown-it.umd.min.js",
    "purify.min.js": "dompurify/dist/purify.min.js",
}
"""The libraries' own dist files (pinned by web_widget/package-lock.json, fetched by `make setup`): only these are
served from node_modules, never the rest of it."""
WIDGET_FILES = (".html", ".js", ".css")
"""The widget's own files; package.json and the lock file are no business of a browser."""
bp = Blueprint("pages", __name__)


@bp.get("/")
def demo_shop():  # type: ignore[no-untyped-def]
    return render_template("demo_shop.html")


@bp.get("/widget/lib/<library>")
def widget_library(library: str):  # type: ignore[no-untyped-def]
    if library not in LIBRARIES:
        abort(404)
    return send_from_directory(NODE_MODULES, LIBRARIES[library], max_age=300)


@bp.get("/widget/<filename>")
def widget_file(filename: str):  # type: ignore[no-untyped-def]
    if not filename.endswith(WIDGET_FILES):
        abort(404)
    return send_from_directory(WIDGET_DIR, filename, max_age=300)
