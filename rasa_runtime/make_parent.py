"""Let `kill -INT <pid of make run>` stop the service the way Ctrl-C does.

GNU make forwards SIGTERM to its recipe but on SIGINT only waits for it (a terminal's Ctrl-C reaches the whole
process group; a `kill` reaches make alone), so the service would never hear it. make's handler resets SIGINT to
its default before it waits, so the parent's caught-signals mask (`SigCgt` in /proc) losing SIGINT means "make was
interrupted": we then interrupt ourselves. A make that ignores SIGINT (a background job of a script) cannot be
helped this way; `kill -TERM` works there.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path


def _catches_sigint(pid: int) -> bool | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    return None


def forward_sigint_from_make(interval: float = 0.5) -> threading.Thread | None:
    """If our parent is make and catches SIGINT, watch it and raise SIGINT here once it stops catching it."""
    parent = os.getppid()
    try:
        name = Path(f"/proc/{parent}/comm").read_text().strip()
    except OSError:
        return None
    if name not in {"make", "gmake"} or not _catches_sigint(parent):
        return None

    def watch() -> None:
        while _catches_sigint(parent) and os.getppid() == parent:
            threading.Event().wait(interval)
        if os.getppid() == parent:
            os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=watch, name="make-sigint", daemon=True)
    thread.start()
    return thread
