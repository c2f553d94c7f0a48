"""Adding phrasings to an entry's alternatives: the file keeps its comments and format; lint errors revert it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge_base.authoring.faq_alternatives import UnknownEntry, add_alternatives, dump, round_trip_yaml
from knowledge_base.authoring.faq_files import DEFAULT_FAQ_DIR, load_faqs

COMMENTED = """\
# Versand — one entry per customer question.
topic: Versand
faqs:
  - id: versand-kosten            # stable id
    question: Was kostet der Versand?
    alternatives:                 # how customers really ask
      - Versandkosten Höhe
      - "Wie teuer ist der Versand?"
    answer: |                     # Markdown
      Der Versand kostet **4,95 €**.
      Ab 50 € ist er kostenlos.
    short_answer: LONG
    tags: [versand, kosten]
    updated: 2026-11-20

  - id: versand-lieferzeit
    question: Wie lange dauert die Lieferung?
    answer: In 2–3 Werktagen.
    updated: 2026-11-20
""".replace("LONG", "Versand 4,95 €, ab 50 € kostenlos. Ein sehr langer Satz, der nicht umbrochen werden darf, "
            "auch wenn er weit über achtzig Zeichen hinausgeht.")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "versand.yml").write_text(COMMENTED, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("path", sorted(DEFAULT_FAQ_DIR.glob("*.yml")), ids=lambda p: p.name)
def test_the_demo_files_dump_byte_for_byte_as_they_are(path: Path) -> None:
    yaml = round_trip_yaml()
    text = path.read_text(encoding="utf-8")
    assert dump(yaml, yaml.load(text)) == text


def test_a_phrasing_is_appended_and_nothing_else_changes(folder: Path) -> None:
    result = add_alternatives(folder, "versand-kosten", ["  was  kostet  porto? ", "Versandkosten höhe"])
    assert result.added == ["was kostet porto?"]  # spaces tidied; the known one (any case) skipped
    assert not result.reverted
    expected = COMMENTED.replace(
        '      - "Wie teuer ist der Versand?"\n', '      - "Wie teuer ist der Versand?"\n      - was kostet porto?\n'
    )
    assert (folder / "versand.yml").read_text(encoding="utf-8") == expected
    [entry] = [e.entry for e in load_faqs(folder).entries if e.entry.id == "versand-kosten"]
    assert entry.alternatives[-1] == "was kostet porto?"


def test_an_entry_without_alternatives_gets_the_list_after_its_question(folder: Path) -> None:
    add_alternatives(folder, "versand-lieferzeit", ["Wann kommt mein Paket: bald?"])
    text = (folder / "versand.yml").read_text(encoding="utf-8")
    assert (
        "    question: Wie lange dauert die Lieferung?\n    alternatives:\n      - 'Wann kommt mein Paket: bald?'\n"
        "    answer: In 2–3 Werktagen.\n" in text
    )
    [entry] = [e.entry for e in load_faqs(folder).entries if e.entry.id == "versand-lieferzeit"]
    assert entry.alternatives == ("Wann kommt mein Paket: bald?",)


def test_lint_errors_revert_the_file_and_are_reported(folder: Path) -> None:
    (folder / "zweite.yml").write_text(
        "topic: Doppelt\nfaqs:\n  - id: versand-kosten\n    question: Noch einmal?\n    answer: x\n"
        "    updated: 2026-11-20\n",
        encoding="utf-8",
    )
    result = add_alternatives(folder, "versand-kosten", ["porto kosten"])
    assert result.reverted
    assert any("duplicate id 'versand-kosten'" in f.message for f in result.findings)
    assert (folder / "versand.yml").read_text(encoding="utf-8") == COMMENTED


def test_an_unknown_entry_is_refused(folder: Path) -> None:
    with pytest.raises(UnknownEntry):
        add_alternatives(folder, "gibt-es-nicht", ["x"])


def test_the_real_faq_folder_takes_an_alternative(tmp_path: Path) -> None:
    copy = shutil.copytree(DEFAULT_FAQ_DIR, tmp_path / "faqs")
    before = (copy / "versand.yml").read_text(encoding="utf-8").splitlines()
    result = add_alternatives(copy, "versand-kosten", ["Was zahle ich fürs Porto nach Hause?"])
    after = (copy / "versand.yml").read_text(encoding="utf-8").splitlines()
    assert result.added and not result.reverted
    assert len(after) == len(before) + 1 and [line for line in after if line not in before] == [
        "      - Was zahle ich fürs Porto nach Hause?"
    ]
