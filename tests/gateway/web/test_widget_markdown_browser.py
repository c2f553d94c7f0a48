"""The widget renders answers with the server's Markdown semantics: every FAQ answer (and a few hard cases) through
the widget's markdown-it + DOMPurify in Chromium and through bot/markdown_html.py (markdown-it-py + nh3) gives the
same elements, attributes and text — numbered lists as <ol>, links, emphasis."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from flask import Flask
from selenium.webdriver.remote.webdriver import WebDriver

from bot.markdown_html import to_html
from tests.support.browser import wait

pytestmark = pytest.mark.browser

FAQ_DIR = Path(__file__).resolve().parents[3] / "knowledge_base" / "faqs"
HARD_CASES = [
    "So geht's:\n1. erst *dies*\n2. dann __das__\n\n3. Punkt drei",
    "3. beginnt bei drei\n4. weiter",
    '- a\n  - verschachtelt\n- [Link](https://example.com/a?b=1&c=2 "Titel")',
    "Zeile eins\nZeile zwei mit `code` und <b>HTML</b> <script>alert(1)</script>",
    "[böse](javascript:alert(1)) [mail](mailto:info@example.com) [relativ](/hilfe)",
    "> Zitat\n\n---\n\n# Titel\n\n```\nblock\n```",
]
ATTRIBUTES = ("href", "start", "target", "rel")

# The widget's render() into a throwaway element, as [tag, attributes] / text items (whitespace-only text dropped).
STRUCTURE_JS = """
const names = arguments[1];
const box = document.createElement("div");
box.append(window.AuskunftMarkdown.render(arguments[0]));
const out = [];
(function walk(node) {
  for (const child of node.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) {
      const text = child.textContent.replace(/\\s+/g, " ").trim();
      if (text) out.push(text);
    } else if (child.nodeType === Node.ELEMENT_NODE) {
      const attrs = {};
      for (const name of names) if (child.hasAttribute(name)) attrs[name] = child.getAttribute(name);
      out.push([child.tagName.toLowerCase(), attrs]);
      walk(child);
      out.push("/" + child.tagName.toLowerCase());
    }
  }
})(box);
return out;
"""


class Structure(HTMLParser):
    """The same items from the server's HTML."""

    VOID = ("br", "hr")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[object] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.items.append([tag, {k: v for k, v in attrs if k in ATTRIBUTES}])
        if tag in self.VOID:
            self.items.append(f"/{tag}")

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID:
            self.items.append(f"/{tag}")

    def handle_data(self, data: str) -> None:
        if text := " ".join(data.split()):
            self.items.append(text)


def server_structure(markdown: str) -> list[object]:
    parser = Structure()
    parser.feed(str(to_html(markdown)))
    parser.close()
    return merge_text(parser.items)


def merge_text(items: list[object]) -> list[object]:
    """Adjacent text items as one (the parsers split text at entities differently)."""
    merged: list[object] = []
    for item in items:
        if (
            isinstance(item, str)
            and not item.startswith("/")
            and merged
            and isinstance(merged[-1], str)
            and not merged[-1].startswith("/")
        ):
            merged[-1] = f"{merged[-1]} {item}"
        else:
            merged.append(item)
    return merged


def faq_answers() -> list[str]:
    answers = []
    for path in sorted(FAQ_DIR.glob("*.yml")):
        answers += [entry["answer"] for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["faqs"]]
    return answers


def test_faq_answers_render_in_the_widget_as_on_the_server(browser: WebDriver, live_url: str, app: Flask) -> None:
    answers = faq_answers()
    assert len(answers) > 20 and any("\n1. " in a for a in answers)  # the return steps are a numbered list
    browser.switch_to.default_content()
    browser.get(f"{live_url}/widget/chat.html")
    wait(browser, lambda: browser.execute_script("return Boolean(window.markdownit && window.DOMPurify)"))
    seen_tags: set[str] = set()
    for markdown in answers + HARD_CASES:
        widget = merge_text(browser.execute_script(STRUCTURE_JS, markdown, list(ATTRIBUTES)))
        assert widget == server_structure(markdown), markdown
        seen_tags |= {item[0] for item in widget if isinstance(item, list)}
    assert {"ol", "ul", "li", "a", "strong", "em", "p", "br"} <= seen_tags
    scripts = browser.execute_script("return [...document.scripts].map((s) => s.getAttribute('src'))")
    assert scripts == ["texts.js", "lib/markdown-it.min.js", "lib/purify.min.js", "answer_html.js", "chat.js"]
