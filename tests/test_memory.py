"""Freed heap memory goes back to the system."""

from __future__ import annotations

import subprocess
import sys

import pytest

from grappe.memory import _malloc_trim

# In a fresh process: 200 MiB of arrays small enough for the heap, all freed but the last
# (which pins the top of the heap, so glibc cannot give the rest back on its own).
_SCRIPT = """
import resource

import numpy as np
from grappe.memory import release_freed_memory

def resident():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()

arrays = [np.ones(8192) for _ in range(3200)]  # 64 KiB each
last = arrays[-1]
before = resident()
del arrays
kept = resident()
release_freed_memory()
print(before - kept, before - resident())
"""


@pytest.mark.skipif(_malloc_trim() is None, reason="the C library has no malloc_trim")
def test_freed_heap_is_returned() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT], check=True, capture_output=True, text=True
    ).stdout.split()
    freed_alone, freed_trimmed = (int(v) for v in out)
    assert freed_alone < 50 * 2**20  # glibc keeps the freed arrays...
    assert freed_trimmed > 150 * 2**20  # ...until they are released

