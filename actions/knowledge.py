"""The one knowledge base the action server asks, created on first use.

Loading takes tens of seconds (model + index), so it happens once per process and never at
import time; a model fine-tuned in the background is swapped in when it appears.
"""

from __future__ import annotations

import logging
import threading
import time

from knowledge_base.engine import KnowledgeBase

log = logging.getLogger(__name__)

TRAINED_MODEL_CHECK_SECONDS = 60.0

_lock = threading.Lock()
_kb: KnowledgeBase | None = None
_last_check = 0.0


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
        elif time.monotonic() - _last_check > TRAINED_MODEL_CHECK_SECONDS:
            _last_check = time.monotonic()
            # swapping may embed the FAQ again: never on a customer's request path
            threading.Thread(target=_swap_in_trained_model, args=(_kb,), daemon=True).start()
        return _kb


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
