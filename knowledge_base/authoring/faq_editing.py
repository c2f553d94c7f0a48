"""Changing one FAQ entry from the editors' page, in its YAML file, the way an editor would by hand.

The file is edited in ruamel.yaml's round-trip mode (`faq_alternatives.round_trip_yaml`: comments, key order
and the files' indentation stay; other entries stay byte for byte), multi-line answers as `|` blocks, `updated`
set to today. The change is refused when the file changed since the editor opened the form (`base_hash`, also
when the change came from another replica);
after writing, the folder is linted and the file goes back to what it was on errors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from knowledge_base.authoring.faq_alternatives import UnknownEntry, dump, round_trip_yaml, write_atomically
from knowledge_base.authoring.faq_files import Finding, load_faqs
from knowledge_base.authoring.lint import lint
from knowledge_base.authoring.write_lock import faq_writing
from knowledge_base.schema import FaqEntry


class StaleEdit(RuntimeError):
    """The file changed since the form was opened: saving would overwrite someone's change."""


@dataclass(frozen=True)
class EntryChanges:
    question: str
    alternatives: list[str]
    answer: str
    short_answer: str | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class EditResult:
    path: Path
    findings: list[Finding] = field(default_factory=list)
    """Validation or lint errors (the file is then unchanged), else lint's warnings for the file."""
    written: bool = False


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def edit_entry(faq_dir: Path, faq_id: str, changes: EntryChanges, base_hash: str, today: dt.date | None = None,
               redis_url: str = "") -> EditResult:
    """Write `changes` into entry `faq_id`; validation or lint errors leave the file as it was.

    The hash is compared under the FAQ write lock (`redis_url`: the one across replicas, `FaqsBusy` when it
    cannot be had), so of two editors who opened the same version only the first one's save is written.
    """
    with faq_writing(redis_url):
        located = next((e for e in load_faqs(faq_dir).entries if e.entry.id == faq_id), None)
        if located is None:
            raise UnknownEntry(f"no FAQ entry with id {faq_id!r} in {faq_dir}")
        path = located.path
        if file_hash(path) != base_hash:
            raise StaleEdit(f"{path.name} changed since the form was opened")
        values = _clean(changes)
        try:
            FaqEntry.model_validate({"id": faq_id, "updated": today or dt.date.today(), **values})
        except ValidationError as error:
            return EditResult(path, [Finding(path, located.line, "error", _describe(error))])
        original = path.read_text(encoding="utf-8")
        yaml = round_trip_yaml()
        document = yaml.load(original)
        entry = next(i for i in document["faqs"] if isinstance(i, CommentedMap) and i.get("id") == faq_id)
        _apply(entry, values, today or dt.date.today())
        write_atomically(path, dump(yaml, document))
        findings = lint(load_faqs(faq_dir))
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            write_atomically(path, original)
            return EditResult(path, errors)
        return EditResult(path, [f for f in findings if f.path == path], written=True)


def _clean(changes: EntryChanges) -> dict[str, object]:
    values: dict[str, object] = {
        "question": " ".join(changes.question.split()),
        "alternatives": [" ".join(a.split()) for a in changes.alternatives if a.strip()],
        "answer": "\n".join(line.rstrip() for line in changes.answer.strip().splitlines()),
        "tags": [t.strip() for t in changes.tags if t.strip()],
    }
    if changes.short_answer and changes.short_answer.strip():
        values["short_answer"] = " ".join(changes.short_answer.split())
    return values


def _apply(entry: CommentedMap, values: dict[str, object], today: dt.date) -> None:
    """Set each key where it is (a new key goes before `updated`); absent optional values are removed."""
    answer = str(values["answer"])
    block = "\n" in answer or isinstance(entry.get("answer"), LiteralScalarString)  # `answer: |` as editors write it
    wanted: dict[str, object] = {
        "question": values["question"],
        "alternatives": _flow_like(entry.get("alternatives"), list(values["alternatives"])),  # type: ignore[arg-type]
        "answer": LiteralScalarString(answer + "\n") if block else answer,
        "short_answer": values.get("short_answer"),
        "tags": _flow_like(entry.get("tags"), list(values["tags"])),  # type: ignore[arg-type]
        "updated": today,
    }
    for key, value in wanted.items():
        if value in (None, []):
            entry.pop(key, None)
        elif key in entry:
            entry[key] = value
        else:
            entry.insert(list(entry).index("updated") if "updated" in entry else len(entry), key, value)


def _flow_like(existing: object, items: list[str]) -> CommentedSeq:
    """A list in the style the entry had (`tags: [a, b]` stays inline, alternatives stay one per line)."""
    sequence = CommentedSeq(items)
    if isinstance(existing, CommentedSeq) and existing.fa.flow_style():
        sequence.fa.set_flow_style()
    return sequence


def _describe(error: ValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(p) for p in problem["loc"])
        parts.append(f"`{where}`: {problem['msg']}")
    return "; ".join(parts)
