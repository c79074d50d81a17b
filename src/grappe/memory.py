"""Give the heap memory that finished steps freed back to the system, so a later step's peak is its own."""

from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable


def release_freed_memory() -> None:
    """Return the freed pages of the C heap to the system (glibc's ``malloc_trim``).

    glibc keeps the memory of freed arrays below its mmap threshold for reuse, and that
    threshold grows with every large array freed (up to 32 MiB): after the steps of a
    detection, hundreds of MiB of freed NumPy arrays stay in the process. Call this between
    steps when the next one needs memory of its own; a few milliseconds. Does nothing where
    the C library has no ``malloc_trim`` (macOS, Windows, musl).
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        process = ctypes.CDLL(None)  # the symbols of the process, its C library among them
    except OSError:
        return None
    trim = getattr(process, "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim
