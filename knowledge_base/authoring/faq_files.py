"""Reading FAQ topic files, keeping file and line of every entry for editors."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from knowledge_base.schema import FaqEntry, FaqFile

DEFAULT_FAQ_DIR = Path(__file__).resolve().parents[1] / "faqs"


@dataclass(frozen=True)
class Finding:
    """One problem in the FAQ files, located for the editor."""

    path: Path
    line: int
    severity: Literal["error", "warning"]
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class LocatedEntry:
    """An FAQ entry and where it is written."""

    entry: FaqEntry
    path: Path
    line: int
    topic: str
    phrasing_lines: tuple[int, ...] = ()
    """Line of the question and of each alternative, in `entry.match_texts` order."""

    def phrasing_line(self, index: int) -> int:
        return self.phrasing_lines[index] if index < len(self.phrasing_lines) else self.line


@dataclass
class FaqCollection:
    """Everything read from a set of FAQ files: valid entries and the problems found."""

    entries: list[LocatedEntry] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def content_hash(self) -> str:
        return content_hash([located.entry for located in self.entries])


def content_hash(entries: list[FaqEntry]) -> str:
    """Hash of the entries' content; changes whenever any entry changes."""
    payload = [entry.model_dump(mode="json") for entry in entries]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def faq_paths(path: Path) -> list[Path]:
    """The topic files at `path` (a folder of *.yml/*.yaml files, or one file)."""
    if path.is_dir():
        return sorted([*path.glob("*.yml"), *path.glob("*.yaml")])
    return [path]


def files_digest(path: Path) -> str:
    """The FAQ files as saved (names and bytes): equal digests, nothing to reload. Cheap: no YAML parsing."""
    digest = hashlib.sha256()
    for file in faq_paths(path) if path.exists() else []:
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def load_faqs(path: Path = DEFAULT_FAQ_DIR) -> FaqCollection:
    """Read and validate all topic files; never raises for bad content."""
    collection = FaqCollection()
    if not path.exists():
        collection.findings.append(Finding(path, 0, "error", "path does not exist"))
        return collection
    files = faq_paths(path)
    if not files:
        collection.findings.append(Finding(path, 0, "error", "no *.yml FAQ files found"))
    for file in files:
        _load_file(file, collection)
    _check_duplicate_ids(collection)
    return collection


def _load_file(path: Path, collection: FaqCollection) -> None:
    try:
        document = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    except (YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        collection.findings.append(Finding(path, line, "error", f"not valid YAML: {exc}"))
        return
    if not isinstance(document, CommentedMap):
        collection.findings.append(
            Finding(path, 1, "error", "expected a mapping with `topic:` and `faqs:`")
        )
        return
    try:
        topic_file = FaqFile.model_validate(document)
    except ValidationError as exc:
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else ""
            collection.findings.append(
                Finding(path, _key_line(document, key), "error", _describe(error))
            )
        return
    for raw in topic_file.faqs:
        _load_entry(raw, path, topic_file.topic, collection)


def _load_entry(raw: object, path: Path, topic: str, collection: FaqCollection) -> None:
    if not isinstance(raw, CommentedMap):
        collection.findings.append(Finding(path, 1, "error", "an FAQ entry must be a mapping"))
        return
    line = raw.lc.line + 1
    label = f"entry {raw.get('id')!r}" if raw.get("id") else "entry without id"
    try:
        entry = FaqEntry.model_validate(dict(raw))
    except ValidationError as exc:
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else ""
            collection.findings.append(
                Finding(path, _key_line(raw, key), "error", f"{label}: {_describe(error)}")
            )
        return
    collection.entries.append(LocatedEntry(entry, path, line, topic, _phrasing_lines(raw)))


def _phrasing_lines(raw: CommentedMap) -> tuple[int, ...]:
    lines = [_key_line(raw, "question")]
    alternatives = raw.get("alternatives")
    if isinstance(alternatives, CommentedSeq):
        lines.extend(alternatives.lc.item(i)[0] + 1 for i in range(len(alternatives)))
    return tuple(lines)


def _key_line(mapping: CommentedMap, key: str) -> int:
    """The line of `key` in `mapping`, or of the mapping itself when the key is absent."""
    if key in mapping:
        return mapping.lc.key(key)[0] + 1
    return mapping.lc.line + 1


def _describe(error: dict) -> str:
    loc = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "missing":
        return f"missing field `{loc}`"
    if kind == "extra_forbidden":
        return f"unknown field `{loc}` (allowed: id, question, alternatives, answer, short_answer, tags, updated)"
    if kind == "string_too_short":
        return f"`{loc}` is empty"
    return f"`{loc}`: {error['msg']}"


def _check_duplicate_ids(collection: FaqCollection) -> None:
    first_seen: dict[str, LocatedEntry] = {}
    unique: list[LocatedEntry] = []
    for located in collection.entries:
        previous = first_seen.get(located.entry.id)
        if previous is None:
            first_seen[located.entry.id] = located
            unique.append(located)
            continue
        collection.findings.append(
            Finding(
                located.path,
                located.line,
                "error",
                f"duplicate id {located.entry.id!r} (first used at {previous.path}:{previous.line})",
            )
        )
    collection.entries = unique
