"""`python -m tests.support.faq_writer …`: one FAQ write as another replica would make it, in its own process.

The write is slowed down (a second between reading the file and writing it back), so two writers started
together overlap for sure: without one lock across processes the second write would carry the first one's
stale read. Both start when the file `go` appears. Prints the outcome as JSON: `written`, `stale` or `busy`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from knowledge_base.authoring import faq_alternatives, faq_editing
from knowledge_base.authoring.faq_editing import EntryChanges, StaleEdit, edit_entry
from knowledge_base.authoring.faq_files import load_faqs
from knowledge_base.authoring.write_lock import FaqsBusy

SLOW_WRITE_SECONDS = 1.0


def slowed(write):  # type: ignore[no-untyped-def]
    def write_later(path: Path, text: str) -> None:
        time.sleep(SLOW_WRITE_SECONDS)
        write(path, text)
    return write_later


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=("add", "edit"))
    parser.add_argument("faq_dir", type=Path)
    parser.add_argument("faq_id")
    parser.add_argument("text", help="the phrasing to add, or the new answer")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--go", type=Path, required=True)
    parser.add_argument("--base-hash", default="")
    args = parser.parse_args()
    faq_alternatives.write_atomically = slowed(faq_alternatives.write_atomically)
    faq_editing.write_atomically = slowed(faq_editing.write_atomically)
    while not args.go.exists():
        time.sleep(0.01)
    try:
        if args.action == "add":
            result = faq_alternatives.add_alternatives(args.faq_dir, args.faq_id, [args.text], args.redis_url)
            outcome = "written" if result.added and not result.reverted else "unchanged"
        else:
            entry = next(e.entry for e in load_faqs(args.faq_dir).entries if e.entry.id == args.faq_id)
            changes = EntryChanges(entry.question, list(entry.alternatives), args.text, entry.short_answer,
                                   list(entry.tags))
            outcome = "written" if edit_entry(args.faq_dir, args.faq_id, changes, args.base_hash,
                                              redis_url=args.redis_url).written else "rejected"
    except StaleEdit:
        outcome = "stale"
    except FaqsBusy:
        outcome = "busy"
    print(json.dumps({"outcome": outcome}))


if __name__ == "__main__":
    main()
