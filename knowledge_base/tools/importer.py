"""Bring an existing FAQ (CSV or JSONL with question/answer[/id] columns) into FAQ files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from knowledge_base.german_text import fold
from knowledge_base.schema import FaqEntry
from knowledge_base.tools.evaluation import read_jsonl


class FaqImportError(ValueError):
    """The input file cannot be imported; the message says where and why."""


def slugify(text: str, max_words: int = 6) -> str:
    words = re.findall(r"[a-z0-9]+", fold(text))
    return "-".join(words[:max_words]) or "eintrag"


def read_rows(path: Path) -> list[dict]:
    """Rows of a `.csv` (comma or semicolon, header row) or `.jsonl` file."""
    if path.suffix.lower() in {".jsonl", ".ndjson"}:
        return read_jsonl(path)
    text = path.read_text(encoding="utf-8-sig")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return list(csv.DictReader(io.StringIO(text), dialect=dialect))


def rows_to_entries(rows: list[dict], taken_ids: set[str], source: str) -> list[FaqEntry]:
    """Validated entries; ids kept when given, else made from the question, never clashing."""
    entries, problems = [], []
    used = set(taken_ids)
    today = dt.date.today()
    for number, raw in enumerate(rows, start=2 if source.endswith(".csv") else 1):
        row = {str(k).strip().lower(): v for k, v in raw.items() if k is not None}
        alternatives = row.get("alternatives") or []
        if isinstance(alternatives, str):
            alternatives = [a.strip() for a in alternatives.split("|") if a.strip()]
        wanted = str(row.get("id") or "").strip() or slugify(str(row.get("question") or ""))
        faq_id, suffix = wanted, 2
        while faq_id in used:
            faq_id, suffix = f"{wanted}-{suffix}", suffix + 1
        try:
            entry = FaqEntry(
                id=faq_id,
                question=str(row.get("question") or ""),
                answer=str(row.get("answer") or ""),
                alternatives=tuple(alternatives),
                updated=today,
            )
        except ValidationError as exc:
            fields = ", ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            problems.append(f"{source}: row {number}: {fields}")
            continue
        used.add(faq_id)
        entries.append(entry)
    if problems:
        raise FaqImportError("\n".join(problems))
    if not entries:
        raise FaqImportError(f"{source}: no rows with `question` and `answer` columns found")
    return entries


def write_faq_file(entries: list[FaqEntry], path: Path, topic: str) -> None:
    """Write entries in the editors' format (answers as readable block text)."""
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    document = {
        "topic": topic,
        "faqs": [
            {
                "id": e.id,
                "question": e.question,
                "alternatives": list(e.alternatives),
                "answer": LiteralScalarString(e.answer.strip() + "\n"),
                "updated": e.updated,
            }
            for e in entries
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        handle.write("# Imported FAQ entries. Add alternatives customers use, then run `lint`.\n")
        yaml.dump(document, handle)
