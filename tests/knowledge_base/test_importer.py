"""`import`: a company's existing FAQ export becomes an FAQ file that passes lint."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from knowledge_base.authoring.faq_files import load_faqs
from knowledge_base.tools.cli import cli
from knowledge_base.tools.importer import slugify
from tests.conftest import write


def _env(faq_dir: Path) -> dict[str, str]:
    return {"AUSKUNFT_FAQ_DIR": str(faq_dir)}


def test_slugify_folds_german() -> None:
    assert slugify("Wie läuft die Rücksendung ab? Größe & Maße") == "wie-laeuft-die-ruecksendung-ab-groesse"
    assert slugify("???") == "eintrag"


def test_import_semicolon_csv_with_and_without_ids(tmp_path: Path, faq_dir: Path) -> None:
    source = write(
        tmp_path / "export.csv",
        'id;question;answer;alternatives\n'
        'versand-kosten;Was kostet der Versand?;"4,95 €; ab 50 € frei.";\n'
        ';Kann ich in der Filiale bezahlen?;"Ja, bar oder mit Karte.\n\nAuch **kontaktlos**.";'
        "Barzahlung Laden|Karte im Laden\n",
    )
    result = CliRunner().invoke(cli, ["import", str(source), "--topic", "Altes FAQ"], env=_env(faq_dir))
    assert result.exit_code == 0, result.output
    assert "wrote 2 entries" in result.output
    collection = load_faqs(faq_dir)
    assert collection.findings == []
    imported = {e.entry.id: e for e in collection.entries if e.path.name == "export.yml"}
    # "versand-kosten" is taken by the existing FAQ, so the import gets a fresh id
    assert set(imported) == {"versand-kosten-2", "kann-ich-in-der-filiale-bezahlen"}
    paid = imported["kann-ich-in-der-filiale-bezahlen"]
    assert paid.topic == "Altes FAQ"
    assert paid.entry.answer == "Ja, bar oder mit Karte.\n\nAuch **kontaktlos**."
    assert paid.entry.alternatives == ("Barzahlung Laden", "Karte im Laden")
    assert imported["versand-kosten-2"].entry.answer == "4,95 €; ab 50 € frei."


def test_import_jsonl(tmp_path: Path, faq_dir: Path) -> None:
    rows = [
        {"question": "Gibt es Gutscheine?", "answer": "Ja.", "alternatives": ["Gutschein kaufen"]},
        {"id": "app", "question": "Gibt es eine App?", "answer": "Ja, für iOS und Android."},
    ]
    source = write(tmp_path / "faq.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    out = tmp_path / "faqs" / "neu.yml"
    result = CliRunner().invoke(cli, ["import", str(source), "--out", str(out)], env=_env(faq_dir))
    assert result.exit_code == 0, result.output
    entries = {e.entry.id: e.entry for e in load_faqs(out).entries}
    assert entries["gibt-es-gutscheine"].alternatives == ("Gutschein kaufen",)
    assert entries["app"].question == "Gibt es eine App?"


def test_bad_rows_are_reported_and_nothing_written(tmp_path: Path, faq_dir: Path) -> None:
    source = write(tmp_path / "bad.csv", "question,answer\nNur Frage,\n,Nur Antwort\nGut?,Ja\n")
    result = CliRunner().invoke(cli, ["import", str(source)], env=_env(faq_dir))
    assert result.exit_code == 1
    assert "bad.csv: row 2: answer" in result.output
    assert "bad.csv: row 3: question" in result.output
    assert not (faq_dir / "bad.yml").exists()


def test_import_refuses_to_overwrite_and_rejects_wrong_columns(tmp_path: Path, faq_dir: Path) -> None:
    source = write(tmp_path / "versand.csv", "frage,antwort\nA,B\n")
    result = CliRunner().invoke(cli, ["import", str(source)], env=_env(faq_dir))
    assert result.exit_code == 1 and "versand.yml exists already" in result.output
    result = CliRunner().invoke(cli, ["import", str(source), "--out", str(tmp_path / "x.yml")], env=_env(faq_dir))
    assert result.exit_code == 1 and "row 2" in result.output and "question" in result.output


def test_invalid_jsonl_names_the_line(tmp_path: Path, faq_dir: Path) -> None:
    source = write(tmp_path / "faq.jsonl", '{"question": "a", "answer": "b"}\n{kaputt\n')
    result = CliRunner().invoke(cli, ["import", str(source)], env=_env(faq_dir))
    assert result.exit_code == 1 and "faq.jsonl:2: not valid JSON" in result.output
