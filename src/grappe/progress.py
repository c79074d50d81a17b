"""Progress reporting that domain code emits and interfaces render (Rich in the CLI)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

Advance = Callable[[int], None]


class Reporter(Protocol):
    """Receives the steps of a long operation.

    ``step`` opens a step with a French description and an optional total; the
    context value is a callable that advances the step by a number of units.
    """

    def step(self, description: str, total: int | None = None) -> AbstractContextManager[Advance]:
        """Open a step; advance it with the returned callable."""
        ...


class SilentReporter:
    """A reporter that shows nothing (library default)."""

    @contextmanager
    def step(self, description: str, total: int | None = None) -> Iterator[Advance]:
        """Open a silent step."""
        yield lambda _n: None


SILENT = SilentReporter()
