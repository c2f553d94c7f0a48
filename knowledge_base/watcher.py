"""Reload when an editor saves an FAQ file: a watchdog observer on the FAQ folder, debounced.

Editors save in bursts (a temporary file, a rename, a second write), so the reload runs once the folder has
been quiet for `delay` seconds. Each process that serves the knowledge base (the action server, the gateway)
watches on its own, so an edit reaches both without anyone calling them.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

log = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 0.5
FAQ_SUFFIXES = (".yml", ".yaml")


class _FaqFileEvents(FileSystemEventHandler):
    def __init__(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type in ("opened", "closed_no_write"):
            return
        paths = [str(event.src_path), str(getattr(event, "dest_path", "") or "")]
        if any(path.endswith(FAQ_SUFFIXES) for path in paths):
            self.on_change()


class FaqWatcher:
    """Calls `reload` once per burst of changes to `*.yml`/`*.yaml` files in `folder`."""

    def __init__(self, folder: Path, reload: Callable[[], object], delay: float = DEBOUNCE_SECONDS) -> None:
        self.folder = folder
        self.reload = reload
        self.delay = delay
        self._timer: threading.Timer | None = None
        self._guard = threading.Lock()
        self._observer = Observer()
        self._observer.daemon = True
        self._observer.schedule(_FaqFileEvents(self._changed), str(folder), recursive=False)

    def start(self) -> FaqWatcher:
        self._observer.start()
        atexit.register(self.stop)  # a reload must not start while the interpreter shuts down
        log.info("watching %s for FAQ changes", self.folder)
        return self

    def stop(self) -> None:
        atexit.unregister(self.stop)
        with self._guard:
            if self._timer is not None:
                self._timer.cancel()
        self._observer.stop()
        self._observer.join(timeout=5)

    def _changed(self) -> None:
        with self._guard:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.delay, self._run)
            self._timer.daemon = True
            self._timer.start()

    def _run(self) -> None:
        try:
            self.reload()
        except Exception:  # the watcher must survive a failing reload; the old index keeps serving
            log.exception("reload after an FAQ change failed")
