"""Text for channels without Markdown: plain text from the FAQ's Markdown, splitting, SMS encoding and segments.

Markdown is parsed with markdown-it (not regexes), so nested emphasis, links and lists come out right.
"""

from __future__ import annotations

import math
import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True})
"""CommonMark with raw HTML off (as in the widget: HTML in an answer stays text) and a line break kept as one (as the
widget shows it); staff pages render with it too (bot/markdown_html.py)."""


def _inline(children: list[Token]) -> str:
    parts: list[str] = []
    href: str | None = None
    link_start = 0
    for token in children:
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif token.type == "link_open":
            href = str(token.attrs.get("href", ""))
            link_start = len(parts)
        elif token.type == "link_close" and href:
            label = "".join(parts[link_start:])
            parts.append(f" ({href})" if label.strip() != href else "")
            href = None
        elif token.type == "image":
            parts.append(token.content)
    return "".join(parts)


def markdown_to_plain(markdown: str) -> str:
    """`**4,95 €**` → `4,95 €`, `[Kontakt](https://…)` → `Kontakt (https://…)`, lists → `• item` / `1. item`."""
    blocks: list[str] = []
    lists: list[list[int]] = []  # per open list: [next number] for ordered lists, [] for bullets
    prefix = ""
    for token in MARKDOWN.parse(markdown):
        if token.type == "bullet_list_open":
            lists.append([])
        elif token.type == "ordered_list_open":
            lists.append([int(token.attrs.get("start", 1) or 1)])
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "list_item_open":
            indent = "  " * (len(lists) - 1)
            if lists and lists[-1]:
                prefix = f"{indent}{lists[-1][0]}. "
                lists[-1][0] += 1
            else:
                prefix = f"{indent}• "
        elif token.type == "inline":
            blocks.append(("\n" if lists else "\n\n") + prefix + _inline(token.children or []))
            prefix = ""
        elif token.type in ("fence", "code_block"):
            blocks.append("\n\n" + token.content.rstrip("\n"))
    return "".join(blocks).strip()


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at paragraphs, then lines, sentences, words — never mid-word
    unless a single word is longer than the limit."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    for separator in (r"\n\s*\n", r"\n", r"(?<=[.!?…])\s+", r"\s+"):
        pieces = [p for p in re.split(separator, text) if p.strip()]
        if len(pieces) > 1:
            break
    else:
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    joiner = "\n\n" if separator == r"\n\s*\n" else ("\n" if separator == r"\n" else " ")
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{joiner}{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        if len(piece) <= limit:
            current = piece
        else:
            *whole, current = split_text(piece, limit)
            chunks.extend(whole)
    if current:
        chunks.append(current)
    return chunks


# GSM 03.38: the 7-bit alphabet every phone supports (German umlauts and ß are in it), and the extension
# table, whose characters take two septets. Anything else makes the whole SMS UCS-2 (70 characters).
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")
TYPOGRAPHY = str.maketrans(
    {
        "–": "-",
        "—": "-",
        "„": '"',
        "“": '"',
        "”": '"',
        "‚": "'",
        "‘": "'",
        "’": "'",
        "…": "...",
        "•": "-",
        "\u00a0": " ",
        "\u202f": " ",
    }
)  # what carriers' "smart encoding" does: typographic marks would switch the SMS to UCS-2


def sms_friendly(text: str) -> str:
    return text.translate(TYPOGRAPHY)


def is_gsm(text: str) -> bool:
    return all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in text)


def sms_segments(text: str) -> int:
    """How many SMS a text is sent as: GSM-7 160 (153 per part when concatenated), UCS-2 70 (67)."""
    if is_gsm(text):
        septets = len(text) + sum(ch in GSM_EXTENDED for ch in text)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def fit_sms(text: str, max_segments: int = 3, more: str = "", suffix: str = "") -> str:
    """`text + suffix` if it fits in `max_segments`; else `text` cut at a sentence (or a word, with "..."),
    then "Mehr: <more>", then `suffix` (the numbered options, which must survive)."""
    if sms_segments(text + suffix) <= max_segments:
        return text + suffix
    tail = f" Mehr: {more}" if more else ""
    words = text.split(" ")
    low, high = 0, len(words)
    while low < high:  # the most words that still fit with "...", the link and the suffix
        middle = (low + high + 1) // 2
        if sms_segments(" ".join(words[:middle]) + "..." + tail + suffix) <= max_segments:
            low = middle
        else:
            high = middle - 1
    cut = " ".join(words[:low]).rstrip()
    sentence_end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "), cut.rfind("\n"))
    if sentence_end > len(cut) // 2:
        return cut[: sentence_end + 1].rstrip() + tail + suffix
    return cut.rstrip(" ,;:-") + "..." + tail + suffix
