"""Keep the service's processes up: a child that exits is started again, with backoff, while the others go on.

One crash used to stop everything ("A process exited; stopping"), and customers then got "connection refused".
The supervisor runs in the main thread (the children's parent-death signal is tied to the thread that spawned
them) and is driven by `check()`, called about twice a second; nothing here blocks for long.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from common.child_processes import kill_group, port_in_use

log = logging.getLogger(__name__)

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
STABLE_AFTER = 60.0
"""A child that ran this long before exiting is restarted after FIRST_BACKOFF again: it was not crash-looping."""


@dataclass
class Unit:
    """One supervised child: how to start it, whether it answers, what to do once it answers after a restart."""

    name: str
    port: int
    spawn: Callable[[], subprocess.Popen[bytes]]
    answering: Callable[[], bool]
    after_restart: Callable[[], None] | None = None
    """Runs in a thread once the restarted child answers (the action server's knowledge-base warm-up)."""
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    exited_at: float | None = None
    restart_at: float | None = None
    backoff: float = FIRST_BACKOFF
    restarts: int = 0


class Supervisor:
    """Watches units started elsewhere (`adopt`) or here, restarts the ones that exit."""

    def __init__(self, units: list[Unit], clock: Callable[[], float] = time.monotonic) -> None:
        self.units = units
        self.clock = clock
        self.recovered: list[tuple[str, float]] = []
        """(unit, seconds from its exit until it answered again), for the logs and the figures in docs/."""

    def check(self) -> None:
        """One round: notice exits, start what is due, report what answers again."""
        now = self.clock()
        for unit in self.units:
            if unit.process is not None and unit.process.poll() is not None and unit.restart_at is None:
                self._exited(unit, now)
            elif unit.restart_at is not None and now >= unit.restart_at:
                self._restart(unit, now)
            elif unit.exited_at is not None and unit.process is not None and unit.answering():
                seconds = now - unit.exited_at
                self.recovered.append((unit.name, seconds))
                log.warning("%s answers again, %.1f s after it exited", unit.name, seconds)
                unit.exited_at = None
                if unit.after_restart is not None:
                    threading.Thread(target=unit.after_restart, name=f"after-restart-{unit.name}", daemon=True).start()

    def _exited(self, unit: Unit, now: float) -> None:
        assert unit.process is not None
        if now - unit.started_at >= STABLE_AFTER:
            unit.backoff = FIRST_BACKOFF
        kill_group(unit.process)  # helpers it may have started would otherwise hold its port
        log.error(
            "%s exited (code %s); starting it again in %.0f s", unit.name, unit.process.returncode, unit.backoff
        )
        unit.exited_at = unit.exited_at or now
        unit.restart_at = now + unit.backoff
        unit.backoff = min(unit.backoff * 2, MAX_BACKOFF)

    def _restart(self, unit: Unit, now: float) -> None:
        if port_in_use(unit.port):  # never take another process's answers for our child's
            log.error("%s: port %d is held by another process; trying again in %.0f s", unit.name, unit.port,
                      unit.backoff)
            unit.restart_at = now + unit.backoff
            unit.backoff = min(unit.backoff * 2, MAX_BACKOFF)
            return
        unit.process = unit.spawn()
        unit.started_at = now
        unit.restart_at = None
        unit.restarts += 1
        log.warning("%s started again (pid %d, restart %d)", unit.name, unit.process.pid, unit.restarts)

    def run_until(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Check until `stop` is set (a signal handler sets it)."""
        while not stop.wait(interval):
            self.check()
