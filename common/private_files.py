"""Files with personal data readable by their owner only: folders 0700, database files 0600 (issue 13)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def private_dir(path: Path, fix_existing: bool = False) -> None:
    """`path` created 0700 where missing (its missing parents too); `fix_existing`: an existing one is made 0700
    (the project's own `var/`, which an older version or `mkdir` left 0755)."""
    existed = path.exists()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not existed or fix_existing:
        try:
            path.chmod(0o700)
        except OSError as error:  # not ours: the operator chose it and its rights
            log.warning("could not make %s private: %s", path, error)


def private_file(path: Path) -> None:
    """`path` exists and is 0600 (SQLite creates its -wal and -shm files with the database file's mode)."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    try:
        path.chmod(0o600)
    except OSError as error:
        log.warning("could not make %s private: %s", path, error)
