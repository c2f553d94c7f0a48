"""Pairs learned in the service: a customer's (masked) question and the entry that answered it, for `train`.

The gateway owns where they come from (its database: one-click FAQ answers in the inbox, agent replies an
editor confirmed; bot/conversation/learning.py) and writes the confirmed ones here as JSON lines,
`{"question": …, "faq_id": …}`, whenever they change (also after a customer's erasure). The knowledge base
reads only this file, so it never imports the gateway nor needs its database.

They belong to the FAQ folder the service serves: `train` on other data (an `eval` file, the benchmarks) gets
none. Their digest is part of the trained model's key, so newly confirmed pairs make the next `train` (and
the service's background training at start) train again, even when the FAQ files are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Iterable
from pathlib import Path

from knowledge_base.settings import Settings

Pair = tuple[str, str]
"""(question, faq_id)."""


def read(path: Path) -> list[Pair]:
    """The pairs in `path`; none when it does not exist. Lines that are not a pair are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    pairs: list[Pair] = []
    for line in lines:
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and isinstance(item.get("question"), str) and isinstance(item.get("faq_id"), str):
            pairs.append((item["question"], item["faq_id"]))
    return pairs


def write(path: Path, pairs: Iterable[Pair]) -> int:
    """Replace `path` with `pairs` (sorted, so equal sets give equal files and digests); the number written.

    Atomic: a `train` starting meanwhile reads the old set or the new one, never half of one.
    """
    unique = sorted(set(pairs))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{socket.gethostname()}.{os.getpid()}.tmp")
    tmp.write_text(
        "".join(json.dumps({"question": q, "faq_id": f}, ensure_ascii=False) + "\n" for q, f in unique),
        encoding="utf-8",
    )
    os.replace(tmp, path)
    return len(unique)


def for_source(settings: Settings, source: str | None) -> list[Pair]:
    """The service's pairs when `source` is the FAQ folder of `settings`; else none."""
    if source is None or Path(source).resolve() != settings.faq_dir.resolve():
        return []
    return read(settings.learned_pairs_path)


def digest(pairs: list[Pair]) -> str:
    """Part of the model key: empty without pairs, so models trained before this feature keep their key."""
    if not pairs:
        return ""
    return hashlib.sha256(json.dumps(sorted(pairs), ensure_ascii=False).encode()).hexdigest()[:16]

