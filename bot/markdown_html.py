"""The bot's and the FAQ's Markdown as HTML for staff pages, so agents and editors read what customers see.

Parsed by the parser the channels use (`bot.channels.text.MARKDOWN`: CommonMark, raw HTML shown as text), then
cleaned by nh3 (ammonia) to an allow-list: only formatting tags, links only to http(s)/mailto, opened in a new tab
with `rel="noopener noreferrer"`. Customer text is never passed here: templates escape it as text.
"""

from __future__ import annotations

import nh3
from markupsafe import Markup

from bot.channels.text import MARKDOWN

TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr", "h1", "h2", "h3", "h4"}
ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}


def to_html(markdown: str | None) -> Markup:
    """Safe HTML for Jinja (`{{ text|markdown }}`) and for the pages' scripts (`answer_html` in JSON)."""
    rendered = MARKDOWN.render(markdown or "")
    cleaned = nh3.clean(
        rendered,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
    return Markup(cleaned)
