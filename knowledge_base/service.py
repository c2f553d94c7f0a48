"""A process's knowledge base, held in one place: loaded on first use, watched, reloaded, upgraded.

Loading takes tens of seconds (model + index), so it happens once and never at import time. Both processes
that serve the knowledge base hold it here: the action server one per process (`shared()`), the gateway one
per app (bot/integrations/kb_reload.py). Each holder starts one file watcher on the FAQ folder once loaded,
so a saved file reaches every process without anyone calling it, and swaps in a model fine-tuned in the
background when it appears, so the editors' pages and the bot serve the same model.

With `AUSKUNFT_REDIS_URL` (the knowledge base's `Settings.redis_url`) each holder also listens on the FAQ
broadcast (knowledge_base/broadcast.py) and announces its own reloads there: every replica on the shared FAQ
folder reloads within seconds, whether the change was saved on its machine or another.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from common.settings_errors import load_settings
from knowledge_base.authoring.faq_files import files_digest
from knowledge_base.authoring.reload_report import ReloadResult
from knowledge_base.broadcast import KbBroadcast
from knowledge_base.engine import KnowledgeBase
from knowledge_base.settings import Settings
from knowledge_base.watcher import FaqWatcher

log = logging.getLogger(__name__)

TRAINED_MODEL_CHECK_SECONDS = 60.0
WARM_UP_QUESTION = "Wie lange dauert die Lieferung?"
SHARED_FOLDER_LAG_SECONDS = 5.0
"""A broadcast may arrive before a network volume shows this machine the new files: wait this long for them."""


class KnowledgeService:
    """Holds one `KnowledgeBase`, created by `factory` on the first `knowledge_base()` call; thread-safe.

    `watch` starts one `FaqWatcher` once it is loaded; `on_reload` sees every reload's result (the gateway's
    metrics). Tests pass a factory with a fake embedder and a temporary FAQ folder.
    """

    def __init__(
        self,
        factory: Callable[[], KnowledgeBase] = KnowledgeBase,
        watch: bool = False,
        on_reload: Callable[[ReloadResult], None] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._factory = factory
        self._watch = watch
        self._on_reload = on_reload
        self._kb: KnowledgeBase | None = None
        self._last_check = 0.0
        self._closed = False
        self.watcher: FaqWatcher | None = None
        self.broadcast: KbBroadcast | None = None
        self.last_announced: int | None = None
        """How many replicas heard this holder's last reload on the broadcast (None: no broadcast, or it failed)."""

    @classmethod
    def holding(cls, kb: KnowledgeBase) -> KnowledgeService:
        """A service around a knowledge base that is ready as it is: no loading, no watcher (tests' stubs)."""
        service = cls(factory=lambda: kb)
        service._kb, service._last_check = kb, time.monotonic()
        return service

    def knowledge_base(self) -> KnowledgeBase:
        """The knowledge base, loaded on the first call; looks for a fine-tuned model once a minute."""
        with self._lock:
            if self._kb is None:
                self._kb = self._load()
            elif time.monotonic() - self._last_check > TRAINED_MODEL_CHECK_SECONDS:
                self._last_check = time.monotonic()
                # swapping may embed the FAQ again: never on a customer's or an editor's request path
                threading.Thread(target=_swap_in_trained_model, args=(self._kb,), daemon=True).start()
            return self._kb

    def reload(self) -> ReloadResult:
        """Re-read the FAQ files now (lint, embed what changed, swap); errors keep the last good index.

        The first call loads instead, and returns that load's result. Announced on the broadcast, so the other
        replicas reload too.
        """
        with self._lock:
            kb = self._kb
        if kb is None:
            kb = self.knowledge_base()
            assert kb.last_result is not None
            result = kb.last_result
        else:
            result = kb.refresh()
            self._report(result)
        if self.broadcast is not None:
            self.last_announced = self.broadcast.publish(kb.files_version)
        return result

    def close(self) -> None:
        """Stop the file watcher and the broadcast listener (an app or a test is done with this service)."""
        with self._lock:
            watcher, self.watcher, self._closed = self.watcher, None, True
            broadcast, self.broadcast = self.broadcast, None
        if watcher is not None:
            watcher.stop()
        if broadcast is not None:
            broadcast.stop()

    def _load(self) -> KnowledgeBase:
        started = time.perf_counter()
        kb = self._factory()
        self._report(kb.refresh())
        if kb.is_loaded:  # the model's first question costs seconds (torch, spaCy): not a customer's
            kb.rank(WARM_UP_QUESTION)
            log.info("knowledge base ready in %.1f s (%d entries)", time.perf_counter() - started, len(kb.entries))
        self._last_check = time.monotonic()
        if self._watch and not self._closed:
            self._start_watching(kb)
        if kb.settings.redis_url.get_secret_value() and not self._closed:
            self.broadcast = KbBroadcast(kb.settings.redis_url.get_secret_value()).listen(self._heard)
        return kb

    def _heard(self, version: str | None) -> None:
        """Another replica announced `version` of the FAQ files (None: a periodic check): reload if ours differ."""
        kb = self._kb
        if kb is None or self._closed:
            return
        if version is not None:
            deadline = time.monotonic() + SHARED_FOLDER_LAG_SECONDS
            while files_digest(kb.settings.faq_dir) != version and time.monotonic() < deadline:
                time.sleep(0.25)
        if files_digest(kb.settings.faq_dir) != kb.files_version:
            self._report(kb.refresh())

    def _report(self, result: ReloadResult) -> None:
        if result.accepted:
            log.info("FAQ files served: %d entries, %d texts embedded, %.2f s",
                     result.entries, result.embedded, result.seconds["total"])
        else:
            log.warning("FAQ reload rejected: %s", "; ".join(str(f) for f in result.errors[:5]))
        if self._on_reload is not None:
            self._on_reload(result)

    def _start_watching(self, kb: KnowledgeBase) -> None:
        try:
            self.watcher = FaqWatcher(kb.settings.faq_dir, self.reload).start()
        except OSError:  # e.g. no inotify instances left: reload then only when asked to (button, POST)
            log.exception("cannot watch %s for FAQ changes", kb.settings.faq_dir)


def _swap_in_trained_model(kb: KnowledgeBase) -> None:
    try:
        if kb.use_trained_model_if_ready():
            log.info("switched to the model fine-tuned on the FAQ")
    except Exception:  # a failed swap must not stop the bot; the served model keeps serving
        log.exception("could not switch to the fine-tuned model")


_shared_lock = threading.Lock()
_shared: KnowledgeService | None = None


def shared() -> KnowledgeService:
    """This process's one service (the action server's): settings from the environment, created on first call."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = KnowledgeService(watch=load_settings(Settings).kb_watch)
        return _shared


def share(service: KnowledgeService | None) -> None:
    """Make `service` this process's one (tests); None: the next `shared()` creates a fresh one."""
    global _shared
    with _shared_lock:
        previous, _shared = _shared, service
    if previous is not None and previous is not service:
        previous.close()
