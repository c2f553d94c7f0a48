"""The demo page embeds the widget with one script tag; the widget files are served, nothing outside them."""

from __future__ import annotations

import re

from flask.testing import FlaskClient


def test_demo_page_and_widget_files(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    [tag] = re.findall(r"<script[^>]*>", page)  # one tag, its settings as data attributes: no inline script
    assert 'src="/widget/loader.js"' in tag and " async" in tag and 'data-title="Lindgrün Kundenservice"' in tag
    for name in ("loader.js", "chat.html", "chat.js", "markdown.js", "texts.js", "chat.css"):
        assert client.get(f"/widget/{name}").status_code == 200
    assert client.get("/widget/../bot/config.py").status_code == 404


def test_widget_never_uses_inner_html() -> None:
    from bot.web.pages import WIDGET_DIR

    for script in WIDGET_DIR.glob("*.js"):
        assert "innerHTML" not in script.read_text(), script
