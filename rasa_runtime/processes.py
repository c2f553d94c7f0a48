"""Start Rasa and the action server, wait until both answer, stop both.

Ready means: the action server answers /health and has loaded the knowledge base (a warm-up
call), and Rasa answers /status with a loaded model.

Both are closed by default: Rasa binds 127.0.0.1 and its HTTP API needs the Rasa token (`--auth-token`, handed
over by environment, never on the command line where every local user could read it); the action server binds
127.0.0.1 and its `/webhook` needs the actions token, which Rasa sends (endpoints.yml). Both tokens, and the
reload token, come from common/shared_secret.py and are passed to both processes.

Logs go to files under var/. The ports must be free at start (a leftover's answers are never taken for ours),
and the children die with this process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.child_processes import die_with_parent, require_free
from common.private_files import private_dir, private_file
from common.shared_secret import ACTIONS_TOKEN_ENV, RASA_TOKEN_ENV, actions_token, rasa_token
from knowledge_base.reload_token import ENV as RELOAD_TOKEN_ENV
from knowledge_base.reload_token import reload_token
from rasa_runtime.paths import CREDENTIALS, MODEL, RASA_VENV, ROOT, VAR, rasa_env

START_TIMEOUT = 240.0

RASA_PYTHON = RASA_VENV / "bin" / "python"
RASA_WITH_TOKEN = (
    "import os, sys; from rasa.__main__ import main; "
    f"sys.argv = ['rasa', sys.argv[1], '--auth-token', os.environ['{RASA_TOKEN_ENV}'], *sys.argv[2:]]; main()"
)
"""`rasa …` with the auth token from the environment: `ps` shows the command line to every local user."""


@dataclass
class Settings:
    rasa_port: int = 5005
    actions_port: int = 5055
    endpoints: Path = field(default_factory=lambda: ROOT / os.environ.get("AUSKUNFT_RASA_ENDPOINTS", "endpoints.yml"))
    """Read when the settings are made, not at import (a unit's or test's environment counts)."""
    tracker_db: Path = field(default_factory=lambda: Path(os.environ.get("AUSKUNFT_TRACKER_DB") or VAR / "trackers.db"))
    """The SQLite tracker store; the gateway finds the same file through the same variable (GDPR erasure)."""
    log_dir: Path = field(default_factory=lambda: Path(os.environ.get("AUSKUNFT_LOG_DIR") or VAR))
    """rasa.log and actions.log (the processes' own output); var/ unless the log folder is set."""
    extra_env: dict[str, str] = field(default_factory=dict)
    """Extra environment for both processes (tests point feedback/orders at temporary files)."""

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def rasa_api(self, path: str) -> str:
        """A URL of Rasa's HTTP API with the Rasa token (`?token=`), which every route but `/` and `/version`
        and the channels' webhooks requires."""
        return f"{self.rasa_url}{path}?token={rasa_token()}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"


def rasa_command(settings: Settings, host: str = "127.0.0.1") -> list[str]:
    """`rasa run` with the REST channel and the HTTP API (token from the environment); systemd units and the
    scale test start the same command (`python -m rasa_runtime rasa`)."""
    return [str(RASA_PYTHON), "-c", RASA_WITH_TOKEN, "run", "--enable-api", "-i", host, "-p", str(settings.rasa_port),
            "--model", str(MODEL), "--endpoints", str(settings.endpoints), "--credentials", str(CREDENTIALS)]


def actions_command(settings: Settings) -> list[str]:
    """The action server (actions/server.py); it reads its listening address from its own settings."""
    return [sys.executable, "-m", "actions.server", "--actions", "actions", "-p", str(settings.actions_port)]


def http_json(url: str, body: Any = None, timeout: float = 5.0) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


class Services:
    """The two processes as one unit; a context manager stops both, whatever happens."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.actions: subprocess.Popen[bytes] | None = None
        self.rasa: subprocess.Popen[bytes] | None = None
        self.ready_after: dict[str, float] = {}
        """Seconds from `wait_until_ready` until each process answered (benchmarks)."""

    def _spawn(self, command: list[str], log_name: str) -> subprocess.Popen[bytes]:
        s = self.settings
        s.log_dir.mkdir(parents=True, exist_ok=True)
        env = rasa_env(
            # one question at a time: one torch thread answers in ~20 ms, two threads on a busy
            # 2-core machine took ~1 s (oversubscription); the operator may still override it
            AUSKUNFT_TORCH_THREADS=os.environ.get("AUSKUNFT_TORCH_THREADS", "1"),
            AUSKUNFT_ACTIONS_PORT=str(s.actions_port),
            AUSKUNFT_TRACKER_DB=str(s.tracker_db),
            PYTHONUNBUFFERED="1",
            **{RELOAD_TOKEN_ENV: reload_token()},  # the gateway reads the same one: POST /kb/reload
            **{ACTIONS_TOKEN_ENV: actions_token()},  # Rasa sends it (endpoints.yml), the action server checks it
            **{RASA_TOKEN_ENV: rasa_token()},  # Rasa's --auth-token; the gateway sends the same one
            **s.extra_env,
        )
        # own process group: Ctrl-C in the terminal reaches us only, and we stop the children in order;
        # the parent-death signal stops them when we die without a chance to (SIGKILL)
        with (s.log_dir / log_name).open("ab") as log:
            return subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=die_with_parent(),
            )

    def start(self) -> None:
        s = self.settings
        if not MODEL.exists():
            raise FileNotFoundError(f"{MODEL} is missing: run `python -m rasa_runtime train` first")
        # Rasa's SQLite tracker store holds every conversation: created 0600 in a 0700 folder before Rasa opens
        # it (SQLite gives its -wal/-shm files the database's mode)
        private_dir(s.tracker_db.parent, fix_existing=s.tracker_db.parent.resolve() == VAR.resolve())
        private_file(s.tracker_db)
        require_free({"action server": s.actions_port, "Rasa": s.rasa_port})
        self.start_actions()
        self.start_rasa()

    def start_rasa(self) -> None:
        """`rasa run` with the REST channel and the HTTP API; its action endpoint follows `actions_port`."""
        self.rasa = self._spawn(rasa_command(self.settings), "rasa.log")

    def start_actions(self) -> None:
        """rasa_sdk's action server with `POST /kb/reload` added (actions/server.py)."""
        self.actions = self._spawn(actions_command(self.settings), "actions.log")

    def stop_actions(self) -> None:
        """Stop only the action server (tests of what customers see when it is down)."""
        self._terminate([self.actions])
        self.actions = None

    def wait_until_ready(self, timeout: float = START_TIMEOUT) -> float:
        """Seconds until both answer; raises RuntimeError if a process dies or time runs out."""
        started = time.perf_counter()
        deadline = started + timeout
        actions_ready = rasa_ready = False
        while not (actions_ready and rasa_ready):
            for log_name, process in (("actions.log", self.actions), ("rasa.log", self.rasa)):
                if process is None or process.poll() is not None:
                    raise RuntimeError(f"a process exited during start-up; see {self.settings.log_dir / log_name}")
            if time.perf_counter() > deadline:
                raise RuntimeError(f"not ready after {timeout:.0f} s; see the logs in {self.settings.log_dir}")
            if not actions_ready and (actions_ready := self._actions_ready()):
                self.ready_after["actions"] = time.perf_counter() - started
            if not rasa_ready and (rasa_ready := self._rasa_ready()):
                self.ready_after["rasa"] = time.perf_counter() - started
            if not (actions_ready and rasa_ready):
                time.sleep(0.5)
        self._warm_up()
        self.ready_after["knowledge_base"] = time.perf_counter() - started
        return time.perf_counter() - started

    def answering(self, name: str) -> bool:
        """Whether `"rasa"` (with a model loaded) or `"actions"` answers now (the supervisor's check)."""
        return self._rasa_ready() if name == "rasa" else self._actions_ready()

    def _actions_ready(self) -> bool:
        try:
            http_json(f"{self.settings.actions_url}/health", timeout=2)
        except (OSError, ValueError):
            return False
        return True

    def warm_up(self) -> None:
        """Public for the supervisor: a restarted action server loads the knowledge base before a customer waits."""
        self._warm_up()

    def _warm_up(self) -> None:
        """Load the knowledge base in the action server now rather than on the first customer's question."""
        warm_up = {
            "next_action": "action_warm_up",
            "sender_id": "warm-up",
            "tracker": {"sender_id": "warm-up", "slots": {}, "latest_message": {}, "events": [], "active_loop": {}},
            "domain": {},
            "version": "3.6.21",
        }
        http_json(f"{self.settings.actions_url}/webhook?token={actions_token()}", warm_up, timeout=START_TIMEOUT)

    def _rasa_ready(self) -> bool:
        try:
            status = http_json(self.settings.rasa_api("/status"), timeout=2)
        except (OSError, ValueError):
            return False
        return bool(status.get("model_id"))

    def running(self) -> bool:
        return all(p is not None and p.poll() is None for p in (self.rasa, self.actions))

    def stop(self) -> None:
        self._terminate([self.rasa, self.actions])
        self.rasa = self.actions = None

    @staticmethod
    def _terminate(processes: list[subprocess.Popen[bytes] | None]) -> None:
        """SIGTERM to each process group (Rasa keeps nothing only in memory), SIGKILL after 15 s."""
        running = [p for p in processes if p is not None and p.poll() is None]
        for process in running:
            os.killpg(process.pid, signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def __enter__(self) -> Services:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

