"""Per-process read caches of the API, valid while the registry's generation has not moved."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class GenerationCache(Generic[V]):
    """A bounded LRU map whose entries hold only at the generation they were stored at.

    ``get(key, generation)`` answers a value stored under that key at *exactly* that
    generation (see :mod:`grappe.registry.generation` for why that makes it the database's
    answer); an entry of another generation is dropped. Thread-safe: the API's endpoints run
    in a thread pool.

    Parameters
    ----------
    size
        Most entries kept; the least recently used goes first. ``0`` keeps nothing.

    Examples
    --------
    >>> cache: GenerationCache[bytes] = GenerationCache(size=2)
    >>> cache.put("a", 7, b"page")
    >>> cache.get("a", 7), cache.get("a", 8), cache.get("a", 7)
    (b'page', None, None)
    """

    def __init__(self, size: int = 1024) -> None:
        if size < 0:
            raise ValueError(f"size={size}: expected 0 (no cache) or more")
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[int, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, generation: int) -> V | None:
        """The value stored for ``key`` at ``generation``, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != generation:
                if entry is not None:
                    del self._entries[key]
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: Hashable, generation: int, value: V) -> None:
        """Store ``value`` for ``key`` as read at ``generation``."""
        if self.size == 0:
            return
        with self._lock:
            current = self._entries.get(key)
            if current is not None and current[0] > generation:
                return  # a newer reader already stored a fresher answer
            self._entries[key] = (generation, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
