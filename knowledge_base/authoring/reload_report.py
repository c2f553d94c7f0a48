"""What one reload of the FAQ files did: accepted or rejected (with the lint report), what changed, how long.

Editors see it on the reload page and in `POST /admin/kb/reload`'s JSON; a rejected reload names every
problem with file and line, and the service keeps answering from the last good index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge_base.authoring.faq_files import FaqCollection, Finding
from knowledge_base.settings import PROJECT_ROOT


def display_path(path: Path) -> str:
    """Relative to the project when inside it (`knowledge_base/faqs/versand.yml`), else absolute."""
    resolved = path.resolve()
    return str(resolved.relative_to(PROJECT_ROOT)) if resolved.is_relative_to(PROJECT_ROOT) else str(resolved)


def finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "file": display_path(finding.path),
        "line": finding.line,
        "severity": finding.severity,
        "message": finding.message,
    }


@dataclass(frozen=True)
class ReloadResult:
    """One reload; `accepted=False` means the files had errors and the previous index still serves."""

    accepted: bool
    findings: tuple[Finding, ...]
    """Errors (which reject) and warnings (shown, not rejecting), sorted by file and line."""
    entries: int
    """Entries served after this reload (the old count when rejected)."""
    texts: int = 0
    """Questions, alternatives and answers in the new index."""
    embedded: int = 0
    """Texts that had to be embedded; unchanged texts come from the cache."""
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    model: str = ""
    """`base`, `trained` (fine-tuned on an earlier or this content) or `fixed` (tests)."""
    content_hash: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    """`load_and_lint`, `index` (embedding what changed + building), `total`."""
    collection: FaqCollection | None = field(default=None, compare=False, repr=False)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "errors": sum(f.severity == "error" for f in self.findings),
            "warnings": sum(f.severity == "warning" for f in self.findings),
            "findings": [finding_json(f) for f in self.findings],
            "entries": self.entries,
            "texts": self.texts,
            "embedded": self.embedded,
            "added": list(self.added),
            "changed": list(self.changed),
            "removed": list(self.removed),
            "model": self.model,
            "content_hash": self.content_hash,
            "seconds": {key: round(value, 3) for key, value in self.seconds.items()},
        }
