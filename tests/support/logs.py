"""Tests that run `configure_logging` as a real process does: the loggers it configures, restored afterwards."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from common.logging_setup import AUDIT_LOGGER

CONFIGURED = ("", AUDIT_LOGGER, "werkzeug", "faiss.loader")
"""Every logger `configure_logging` sets handlers, level or propagation on."""


@contextmanager
def restored_logging() -> Iterator[None]:
    """pytest's own logging set-up comes back afterwards; the handlers added meanwhile are closed."""
    loggers = [logging.getLogger(name) for name in CONFIGURED]
    saved = [(logger, logger.handlers[:], logger.level, logger.propagate) for logger in loggers]
    try:
        yield
    finally:
        for logger, handlers, level, propagate in saved:
            for handler in logger.handlers:
                if handler not in handlers:
                    handler.close()
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate
