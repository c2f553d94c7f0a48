"""What a person reads on a page: the text of the HTML outside scripts and styles, never attributes (stdlib parser).

Also what staff read in the JSON the pages' scripts render. `internal_words` finds the codes and raw Markdown that
must not show there.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

HIDDEN = {"script", "style"}
INLINE = {"a", "strong", "em", "b", "i", "code", "abbr", "span", "time"}
"""Tags inside a run of text: no word break around them ("in <strong>2–3</strong>." reads "in 2–3.")."""
SOURCE = {"textarea"}
"""Where editors edit Markdown source on purpose (the in-browser FAQ editor): visible, but not a rendered text."""
CODES = re.compile(
    r"(?<![\w@.-])(waiting_for_agent|with_agent|low_confidence|requested|repeated_failure|frustration|"
    r"bot_unavailable|contact|clear match|close matches|agent_reply|faq_button|UTC)(?![\w@-])"
)
"""Internal codes as whole words; an e-mail address such as contact@example.com is not one."""
RAW_MARKDOWN = re.compile(r"\*\*|\]\(")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN | SOURCE:
            self.skipping.append(tag)
        if tag not in INLINE:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()
        if tag not in INLINE:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


def internal_words(text: str) -> list[str]:
    """Every internal code and raw Markdown marker in `text` (already visible text), with some context."""
    found = [f"{m.group(0)!r} in …{text[max(0, m.start() - 40):m.end() + 40]}…" for m in CODES.finditer(text)]
    found += [f"{m.group(0)!r} in …{text[max(0, m.start() - 40):m.end() + 40]}…" for m in RAW_MARKDOWN.finditer(text)]
    return found
