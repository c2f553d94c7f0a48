"""The demo page embeds the widget with one script tag; the widget files are served, nothing outside them."""

from __future__ import annotations

import re

from flask.testing import FlaskClient


def test_demo_page_and_widget_files(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    [tag] = re.findall(r"<script[^>]*>", page)  # one tag, its settings as data attributes: no inline script
    assert 'src="/widget/loader.js"' in tag and " async" in tag and 'data-title="Lindgrün Kundenservice"' in tag
    for name in ("loader.js", "chat.html", "chat.js", "answer_html.js", "texts.js", "chat.css"):
        assert client.get(f"/widget/{name}").status_code == 200
    assert client.get("/widget/../bot/config.py").status_code == 404


def test_the_libraries_are_served_from_node_modules_and_nothing_else_of_it(client: FlaskClient) -> None:
    """markdown-it and DOMPurify as their own dist files (`make setup` fetched them); not the rest of node_modules,
    nor the widget's package files."""
    markdown_it = client.get("/widget/lib/markdown-it.min.js")
    purify = client.get("/widget/lib/purify.min.js")
    assert markdown_it.status_code == purify.status_code == 200
    assert "javascript" in markdown_it.mimetype and b"markdownit" in markdown_it.data and b"DOMPurify" in purify.data
    for path in ("lib/package.json", "lib/..%2Fpackage.json", "package.json", "package-lock.json",
                 "node_modules/dompurify/package.json", "node_modules/.installed"):
        assert client.get(f"/widget/{path}").status_code == 404, path


def test_widget_never_uses_inner_html() -> None:
    from bot.web.pages import WIDGET_DIR

    for script in WIDGET_DIR.glob("*.js"):
        assert "innerHTML" not in script.read_text(), script
