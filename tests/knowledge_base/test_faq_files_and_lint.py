"""Loading FAQ files and `lint`: every problem reported at once, with file and line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from knowledge_base.authoring.faq_files import load_faqs
from knowledge_base.authoring.lint import lint
from knowledge_base.tools.cli import cli
from tests.conftest import write

BROKEN = """\
topic: Kaputt
faqs:
  - id: ok-entry
    question: Was kostet der Versand?
    answer: 4,95 €.
    updated: 2026-11-20
  - id: no-answer
    question: Wo ist mein Paket?
    updated: 2026-11-20
  - id: empty-answer
    question: Wie storniere ich?
    answer: "   "
    updated: 2026-11-20
  - id: ok-entry
    question: Doppelte ID?
    answer: Ja.
    updated: 2026-11-20
  - id: Bad Id
    question: Falsches Format
    answer: Antwort
    updated: 2026-11-20
    colour: red
  - question: Ohne ID und ohne Datum
    answer: Antwort
"""


def test_valid_file_loads_with_lines(faq_dir: Path) -> None:
    collection = load_faqs(faq_dir)
    assert collection.findings == []
    assert [e.entry.id for e in collection.entries] == ["versand-lieferzeit", "versand-kosten", "retoure-frist"]
    assert [e.line for e in collection.entries] == [3, 10, 17]
    assert collection.entries[0].topic == "Versand"


def test_all_problems_reported_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "faqs" / "kaputt.yml", BROKEN)
    findings = [str(f) for f in load_faqs(path.parent).findings]
    expected = [
        f"{path}:7: error: entry 'no-answer': missing field `answer`",
        f"{path}:12: error: entry 'empty-answer': `answer` is empty",
        f"{path}:14: error: duplicate id 'ok-entry' (first used at {path}:3)",
        f"{path}:18: error: entry 'Bad Id': `id`: String should match pattern '^[a-z0-9][a-z0-9-]*$'",
        f"{path}:22: error: entry 'Bad Id': unknown field `colour` (allowed: id, question, alternatives, answer, "
        "short_answer, tags, updated)",
    ]
    for line in expected:
        assert line in findings
    assert any(f.startswith(f"{path}:23: error: entry without id: missing field `id`") for f in findings)
    assert any("missing field `updated`" in f and f.startswith(f"{path}:23:") for f in findings)
    # the valid entry is still loaded: one bad entry does not hide the rest
    assert [e.entry.id for e in load_faqs(path.parent).entries] == ["ok-entry"]


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    path = write(tmp_path / "faqs" / "a.yml", "topic: X\nfaqs:\n  - id: a\n    question: [unclosed\n")
    (finding,) = load_faqs(path.parent).findings
    assert finding.severity == "error" and "not valid YAML" in finding.message
    assert finding.line >= 4


def test_wrong_top_level_and_empty_folder(tmp_path: Path) -> None:
    write(tmp_path / "faqs" / "list.yml", "- id: a\n")
    assert "expected a mapping with `topic:` and `faqs:`" in str(load_faqs(tmp_path / "faqs").findings[0])
    (tmp_path / "empty").mkdir()
    assert "no *.yml FAQ files found" in str(load_faqs(tmp_path / "empty").findings[0])


def test_long_answer_without_short_answer_warns(tmp_path: Path) -> None:
    long_answer = "Sehr lange Antwort. " * 20
    path = write(
        tmp_path / "faqs" / "a.yml",
        f"topic: T\nfaqs:\n  - id: lang\n    question: Frage?\n    answer: {long_answer}\n    updated: 2026-11-01\n"
        f"  - id: lang-mit-kurz\n    question: Andere Frage?\n    answer: {long_answer}\n"
        "    short_answer: Kurz.\n    updated: 2026-11-01\n",
    )
    findings = lint(load_faqs(path.parent))
    assert [(f.line, f.severity) for f in findings] == [(3, "warning")]
    assert "too long for SMS (max 320); add a `short_answer`" in findings[0].message


def test_short_answer_over_limit_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path / "faqs" / "a.yml",
        f"topic: T\nfaqs:\n  - id: a\n    question: F?\n    answer: A\n    short_answer: {'x' * 321}\n"
        "    updated: 2026-11-01\n",
    )
    (finding,) = load_faqs(path.parent).findings
    assert finding.line == 6 and "short_answer" in finding.message and "320" in finding.message


def test_collision_between_entries_is_reported(faq_dir: Path, fake_embedder) -> None:
    write(
        faq_dir / "zwei.yml",
        """\
        topic: Doppelt
        faqs:
          - id: versand-preis
            question: Wie teuer ist der Versand?
            answer: Siehe Versandkosten.
            updated: 2026-11-20
        """,
    )
    findings = lint(load_faqs(faq_dir), fake_embedder)
    collisions = [f for f in findings if "collision" in f.message]
    assert len(collisions) == 1
    message = collisions[0].message
    assert "'versand-kosten'" in message and "'versand-preis'" in message
    # located at the phrasing itself: the question in zwei.yml, or the alternative in versand.yml
    assert (collisions[0].path.name, collisions[0].line) in {("zwei.yml", 4), ("versand.yml", 14)}
    assert "Wie teuer ist der Versand?" in message


def test_distinct_entries_do_not_collide(faq_dir: Path, fake_embedder) -> None:
    assert lint(load_faqs(faq_dir), fake_embedder) == []


def test_lint_cli_exit_code_and_output(tmp_path: Path, faq_dir: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["lint", str(faq_dir), "--no-collisions"])
    assert ok.exit_code == 0, ok.output
    assert "3 entries checked: 0 errors, 0 warnings" in ok.output
    broken = write(tmp_path / "broken" / "kaputt.yml", BROKEN)
    result = runner.invoke(cli, ["lint", str(broken.parent), "--no-collisions"])
    assert result.exit_code == 1
    assert f"{broken}:7: error: entry 'no-answer': missing field `answer`" in result.output
