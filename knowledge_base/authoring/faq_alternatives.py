"""Adding customers' phrasings to an entry's `alternatives`, in place, keeping the file as the editor wrote it.

ruamel.yaml's round-trip mode keeps comments, key order, flow lists and block scalars; the files'
indentation (`faqs:` items at 2, their keys at 4, list items at 6) and no line wrapping are set
explicitly, so an untouched file dumps byte for byte as it was. After writing, the folder is linted;
on errors the file goes back to what it was and the findings are returned.
"""

from __future__ import annotations

import io
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from knowledge_base.authoring.faq_files import Finding, load_faqs
from knowledge_base.authoring.lint import lint
from knowledge_base.authoring.write_lock import faq_writing


class UnknownEntry(LookupError):
    pass


@dataclass
class AddResult:
    path: Path
    added: list[str] = field(default_factory=list)
    """The phrasings written; ones the entry already had are skipped."""
    findings: list[Finding] = field(default_factory=list)
    """Lint's errors after the change (the change was then reverted), and its warnings about the new phrasings."""

    @property
    def reverted(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


def round_trip_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never re-wrap a long question or short_answer
    return yaml


def dump(yaml: YAML, document: object) -> str:
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue()


def add_alternatives(faq_dir: Path, faq_id: str, phrasings: list[str], redis_url: str = "") -> AddResult:
    """Append `phrasings` to entry `faq_id`'s alternatives in its file; lint; revert on errors.

    Under the FAQ write lock (`redis_url`: the one across replicas; raises `FaqsBusy` when it cannot be had).
    """
    with faq_writing(redis_url):
        return _add(faq_dir, faq_id, phrasings)


def write_atomically(path: Path, text: str) -> None:
    """Readers (the file watchers of the gateway and the action server) never see a half-written file; the
    temporary name is unique across the machines sharing the folder."""
    tmp = path.with_name(f".{path.name}.{socket.gethostname()}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, path.stat().st_mode & 0o777)
    os.replace(tmp, path)


def _add(faq_dir: Path, faq_id: str, phrasings: list[str]) -> AddResult:
    located = next((e for e in load_faqs(faq_dir).entries if e.entry.id == faq_id), None)
    if located is None:
        raise UnknownEntry(f"no FAQ entry with id {faq_id!r} in {faq_dir}")
    path = located.path
    original = path.read_text(encoding="utf-8")
    yaml = round_trip_yaml()
    document = yaml.load(original)
    entry = next(item for item in document["faqs"] if isinstance(item, CommentedMap) and item.get("id") == faq_id)
    result = AddResult(path)
    known = {_key(text) for text in (entry.get("question", ""), *(entry.get("alternatives") or []))}
    for phrasing in (" ".join(p.split()) for p in phrasings):
        if phrasing and _key(phrasing) not in known:
            known.add(_key(phrasing))
            result.added.append(phrasing)
    if not result.added:
        return result
    alternatives = entry.get("alternatives")
    if not isinstance(alternatives, CommentedSeq):
        alternatives = CommentedSeq()
        entry.insert(list(entry).index("question") + 1 if "question" in entry else len(entry), "alternatives",
                     alternatives)
    alternatives.extend(result.added)
    write_atomically(path, dump(yaml, document))
    added = {_key(text) for text in result.added}
    result.findings = [
        f for f in lint(load_faqs(faq_dir))
        if f.severity == "error" or (f.path == path and any(text in f.message.lower() for text in added))
    ]
    if result.reverted:
        write_atomically(path, original)
    return result


def _key(text: str) -> str:
    return " ".join(str(text).lower().split()).strip("?!. ")
