"""The one knowledge base the action server asks, created on first use.

Loading takes tens of seconds (model + index), so it happens once per process and never at
import time; a model fine-tuned in the background is swapped in when it appears. Edited FAQ files
are picked up live: a watcher on the FAQ folder (off with `AUSKUNFT_KB_WATCH=false`) and the
gateway's call to `POST /kb/reload` (actions/server.py) both run `reload_now`.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from knowledge_base.authoring.reload_report import ReloadResult
from knowledge_base.engine import KnowledgeBase
from knowledge_base.watcher import FaqWatcher

log = logging.getLogger(__name__)

TRAINED_MODEL_CHECK_SECONDS = 60.0

_lock = threading.Lock()
_kb: KnowledgeBase | None = None
_last_check = 0.0
_watcher: FaqWatcher | None = None


def knowledge_base() -> KnowledgeBase:
    """The shared instance, loaded on first call; looks for a fine-tuned model once a minute."""
    global _kb, _last_check
    with _lock:
        if _kb is None:
            started = time.perf_counter()
            kb = KnowledgeBase()
            kb.reload()
            _kb, _last_check = kb, time.monotonic()
            log.info("knowledge base ready in %.1f s (%d entries)", time.perf_counter() - started, len(kb.entries))
            _start_watching(kb)
        elif time.monotonic() - _last_check > TRAINED_MODEL_CHECK_SECONDS:
            _last_check = time.monotonic()
            # swapping may embed the FAQ again: never on a customer's request path
            threading.Thread(target=_swap_in_trained_model, args=(_kb,), daemon=True).start()
        return _kb


def reload_now() -> ReloadResult:
    """Re-read the FAQ files now (lint, embed what changed, swap); errors keep the last good index."""
    result = knowledge_base().refresh()
    if result.accepted:
        log.info("knowledge base reloaded: %d entries, %d texts embedded, %.2f s",
                 result.entries, result.embedded, result.seconds["total"])
    else:
        log.warning("FAQ reload rejected: %s", "; ".join(str(f) for f in result.errors[:5]))
    return result


def _start_watching(kb: KnowledgeBase) -> None:
    global _watcher
    if _watcher is None and os.environ.get("AUSKUNFT_KB_WATCH", "true").lower() != "false":
        try:
            _watcher = FaqWatcher(kb.settings.faq_dir, reload_now).start()
        except OSError:  # e.g. no inotify instances left: live reload then only through POST /kb/reload
            log.exception("cannot watch %s; reload through POST /kb/reload", kb.settings.faq_dir)


def _swap_in_trained_model(kb: KnowledgeBase) -> None:
    try:
        if kb.use_trained_model_if_ready():
            log.info("switched to the model fine-tuned on the FAQ")
    except Exception:  # a failed swap must not stop the bot; the base model keeps serving
        log.exception("could not switch to the fine-tuned model")


def set_knowledge_base(kb: KnowledgeBase | None) -> None:
    """Replace the shared instance (tests)."""
    global _kb, _last_check
    with _lock:
        _kb, _last_check = kb, time.monotonic()
