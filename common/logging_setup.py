"""One logging set-up for every Auskunft process: the gateway, the action server and the knowledge-base CLI.

Called once by each entry point (never at import, never for a test app), so pytest's caplog keeps working.
Each process writes to stderr and to its own size-rotated file under `var/log/` (`gateway.log`, `actions.log`,
`cli.log`, `supervisor.log` for `python -m bot run`); audit events (logger `auskunft.audit`: who did what to
accounts and customers' data, no personal data) go to `var/log/audit.log` as well, a record of their own that
operators can keep and ship apart. They also stay in the process's main log: an error reads best next to the
action that preceded it, and the audit lines carry nothing the main log may not hold.
"""

from __future__ import annotations

import logging
import logging.config
import os
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.settings_errors import load_settings

ROOT = Path(__file__).resolve().parent.parent
AUDIT_LOGGER = "auskunft.audit"
ProcessKind = Literal["gateway", "actions", "cli", "supervisor"]

PROGRESS_BARS_OFF = {
    "TQDM_DISABLE": "1",  # tqdm reads it when imported: bars of the processes started from here (Rasa's training)
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",  # datasets, imported only when the fine-tune starts
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}
"""The libraries' documented switches, set in the environment so they reach libraries imported later and child
processes; bars of what is already imported are switched by the callers (`show_progress=progress_bars_wanted()`)."""


class LogSettings(BaseSettings):
    """`AUSKUNFT_LOG_LEVEL`, `AUSKUNFT_LOG_DIR`, `AUSKUNFT_LOG_MAX_BYTES`, `AUSKUNFT_LOG_BACKUPS`."""

    model_config = SettingsConfigDict(env_prefix="AUSKUNFT_LOG_", env_ignore_empty=True, extra="ignore")

    level: str = "INFO"
    dir: Path = ROOT / "var" / "log"
    max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    """A file is rotated when the next line would take it past this size."""
    backups: int = Field(default=5, ge=1)
    """Rotated files kept per log (`gateway.log.1` … `gateway.log.5`)."""

    @field_validator("level", mode="before")
    @classmethod
    def _known_level(cls, value: object) -> object:
        name = str(value).strip().upper()
        if name not in logging.getLevelNamesMapping():
            raise ValueError(f"unknown log level {value!r}; expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return name


def progress_bars_wanted() -> bool:
    """Progress bars only for a person watching a terminal: in a log file or a pipe they are noise."""
    return sys.stderr.isatty()


def logging_config(
    kind: ProcessKind, settings: LogSettings, console_level: str | int = logging.NOTSET
) -> dict[str, Any]:
    """The `dictConfig` mapping: root → stderr + `<kind>.log`, `auskunft.audit` → also `audit.log`."""

    def rotating(name: str, formatter: str) -> dict[str, Any]:
        return {
            "class": "logging.handlers.RotatingFileHandler",
            "filename": str(settings.dir / name),
            "maxBytes": settings.max_bytes,
            "backupCount": settings.backups,
            "encoding": "utf-8",
            "delay": True,  # a process that never audits never opens audit.log
            "formatter": formatter,
        }

    return {
        "version": 1,
        "disable_existing_loggers": False,  # modules imported before this keep logging
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)-8s %(name)s: %(message)s"},
            "audit": {"format": "%(asctime)s %(message)s", "datefmt": "%Y-%m-%dT%H:%M:%S%z"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "plain",
                "level": console_level,
            },
            "file": rotating(f"{kind}.log", "plain"),
            "audit": rotating("audit.log", "audit"),
        },
        "loggers": {
            AUDIT_LOGGER: {"handlers": ["audit"], "level": "INFO", "propagate": True},
            # request lines carry client addresses: on the console as before, not kept in a file
            "werkzeug": {"handlers": ["console"], "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "propagate": False},
            "faiss.loader": {"level": "WARNING"},  # which CPU instructions it tried, at every start
        },
        "root": {"handlers": ["console", "file"], "level": settings.level},
    }


def configure_logging(
    kind: ProcessKind, settings: LogSettings | None = None, console_level: str | int = logging.NOTSET
) -> None:
    """Set up logging for this process (replaces any earlier set-up); progress bars off unless on a terminal.

    `console_level` lets a command keep stderr quieter than its file (the knowledge-base CLI without `-v`).
    """
    settings = settings or load_settings(LogSettings)
    settings.dir.mkdir(parents=True, exist_ok=True)
    logging.config.dictConfig(logging_config(kind, settings, console_level))
    if not progress_bars_wanted():
        for name, value in PROGRESS_BARS_OFF.items():
            os.environ.setdefault(name, value)


def set_console_level(level: str | int) -> None:
    """Change what reaches stderr after `configure_logging` (e.g. a `--verbose` flag); no-op if not configured."""
    for handler in logging.getLogger().handlers:
        if handler.get_name() == "console":
            handler.setLevel(level)
