"""The demo page embeds the widget with one script tag; the widget files are served, nothing outside them."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_demo_page_and_widget_files(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<script src="/widget/loader.js" async></script>' in page
    for name in ("loader.js", "chat.html", "chat.js", "markdown.js", "texts.js", "chat.css"):
        assert client.get(f"/widget/{name}").status_code == 200
    assert client.get("/widget/../bot/config.py").status_code == 404


def test_widget_never_uses_inner_html() -> None:
    from bot.web.pages import WIDGET_DIR

    for script in WIDGET_DIR.glob("*.js"):
        assert "innerHTML" not in script.read_text(), script
