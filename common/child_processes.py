"""What every child of the service gets: its own process group, death with its parent, a port nobody else holds.

Without these, a SIGKILLed `python -m bot run` left Rasa and the action server running, and the next start's
readiness check took their answers for its own children's, until its own action server failed on the taken port.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
import socket
import subprocess
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded here: a preexec_fn should not load libraries after fork


class PortTaken(RuntimeError):
    """A port the service needs is held by another process (often a leftover of an earlier run)."""


def die_with_parent(signal_number: int = signal.SIGTERM) -> Callable[[], None]:
    """A `preexec_fn`: the kernel sends the child `signal_number` when the parent dies, even by SIGKILL.

    Linux ties this to the parent *thread*: spawn from a thread that lives as long as the process (the main one).
    """
    parent = os.getpid()

    def preexec() -> None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal_number, 0, 0, 0)
        if os.getppid() != parent:  # the parent died between fork and prctl: nobody will send the signal
            os._exit(1)

    return preexec


def port_in_use(port: int, host: str = "0.0.0.0") -> bool:
    """True if something listens on `port` (any address); TIME_WAIT of a dead process does not count."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers themselves bind
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def require_free(ports: dict[str, int]) -> None:
    """Raise PortTaken naming each taken port and whose it should have been."""
    taken = [f"{port} ({name})" for name, port in ports.items() if port_in_use(port)]
    if taken:
        raise PortTaken(
            f"port {', '.join(taken)} already in use by another process (a leftover of an earlier run?); "
            "stop it or choose other ports (AUSKUNFT_GATEWAY_PORT, AUSKUNFT_RASA_PORT, AUSKUNFT_ACTIONS_PORT)"
        )


def kill_group(process: subprocess.Popen[bytes], signal_number: int = signal.SIGKILL) -> None:
    """Signal the child's whole process group (it leads one: `start_new_session`), its helpers included."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # gone already
        os.killpg(process.pid, signal_number)
