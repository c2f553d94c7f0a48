"""FAQ edits for the editor and reload tests: a new entry, a broken one, and editing a FAQ file in place."""

from __future__ import annotations

from pathlib import Path

NEW_ENTRY = """\
  - id: zahlung-bitcoin
    question: Kann ich mit Bitcoin bezahlen?
    alternatives:
      - Kryptowährung Zahlung
      - Bezahlung mit Krypto
    answer: Nein, Bitcoin und andere Kryptowährungen nehmen wir nicht an.
    updated: 2026-11-25
"""
BROKEN_ENTRY = """\
  - id: kaputt
    question: Diese Frage hat keine Antwort?
    updated: 2026-11-25
"""


def append_entry(faq_file: Path, entry: str) -> None:
    faq_file.write_text(faq_file.read_text(encoding="utf-8") + entry, encoding="utf-8")


def replace_in(faq_file: Path, old: str, new: str) -> None:
    text = faq_file.read_text(encoding="utf-8")
    assert old in text
    faq_file.write_text(text.replace(old, new), encoding="utf-8")
