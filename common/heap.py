"""glibc's malloc tuned from Python: big processes (training, model loading) give memory back to the system.

CPython and PyTorch free into the C allocator, which keeps the pages for reuse; a service that drops a model or
a trainer that has finished would otherwise hold them. Each call is a no-op where malloc is not glibc's (musl,
macOS): the process then reuses the memory itself.
"""

from __future__ import annotations

import ctypes
from contextlib import suppress

M_MMAP_THRESHOLD = -3  # glibc's malloc.h


def return_freed_memory() -> None:
    """Hand the heap's free pages back to the system (`malloc_trim`)."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def map_buffers_from(size: int) -> None:
    """Serve buffers of `size` bytes and more by mmap, so each goes back to the system as soon as it is freed."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, size)
