"""Several gateway processes in one test: two apps on one database (SQLite file or PostgreSQL) and one Redis
database, each served over real HTTP when a test needs it, and an SSE reader for the widget's event stream."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.config import ROOT
from tests.support import databases
from tests.support.net import free_port

REDIS_URL = os.environ.get("AUSKUNFT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def fresh_redis() -> str:
    """The tests' Redis database, emptied; the test is skipped where no Redis answers."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL} (AUSKUNFT_TEST_REDIS_URL)")
    finally:
        client.close()
    return REDIS_URL


@contextmanager
def shared_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A database URL both apps use: a SQLite file, or a fresh PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    pytest.importorskip("psycopg")
    # the server and the name prefix of every PostgreSQL test database (tests/support/databases.py)
    name = f"{make_url(databases.postgres_url()).database}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(databases.postgres_url("postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # no server here: these tests need one
        admin.dispose()
        pytest.skip(f"no PostgreSQL at {databases.postgres_url('postgres')} ({databases.POSTGRES_ENV}): {error}")
    try:
        yield databases.postgres_url(name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class EventStream:
    """The widget's SSE stream read in a thread; `next_event` hands the parsed events over one by one."""

    def __init__(self, url: str) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.response = requests.get(url, stream=True, timeout=(5, 60))
        self.response.raise_for_status()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        event, data = "message", ""
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                if line.startswith("event: "):
                    event = line[len("event: "):]
                elif line.startswith("data: "):
                    data = line[len("data: "):]
                elif not line and data:
                    self.events.put((event, json.loads(data)))
                    event, data = "message", ""
        except (requests.RequestException, AttributeError):
            pass  # closed by the test

    def wait_for(self, event: str, matches: Callable[[Any], bool], timeout: float) -> Any:
        """The first `event` whose data `matches(data)`; AssertionError after `timeout` seconds without one."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                name, data = self.events.get(timeout=min(left, 0.1))
            except queue.Empty:
                continue
            if name == event and matches(data):
                return data
        raise AssertionError(f"no {event!r} event as expected within {timeout} s")

    def close(self) -> None:
        self.response.close()


class ReplicaProcess:
    """Gateway B in a process of its own (`tests.support.replica_process`): its `url`, and `command` for the rest."""

    def __init__(self, database: str, redis_url: str, rasa_delay: float = 0.0) -> None:
        self.url = f"http://127.0.0.1:{(port := free_port())}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.replica_process", "--database", database, "--redis", redis_url,
             "--port", str(port), "--delay", str(rasa_delay)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        if self._line(timeout=180) != "ready":
            self.close()
            raise RuntimeError("gateway B did not start; its errors are above")

    def _line(self, timeout: float) -> str:
        """The process's next line of output (commands are answered quickly; starting takes a while)."""
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.process.stdout.readline()), daemon=True).start()  # type: ignore[union-attr]
        try:
            return lines.get(timeout=timeout).strip()
        except queue.Empty:
            raise AssertionError(f"gateway B said nothing within {timeout} s") from None

    def command(self, name: str, timeout: float = 60) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(name + "\n")
        self.process.stdin.flush()
        return self._line(timeout)

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.write("quit\n")  # type: ignore[union-attr]
                self.process.stdin.close()  # type: ignore[union-attr]
            except OSError:
                pass  # it has gone already
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
