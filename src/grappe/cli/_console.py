"""Console helpers shared by the CLI commands: Rich progress, error rendering, French numbers."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from grappe.errors import GrappeError
from grappe.progress import Advance

# Columns of the output when it is not a terminal (a pipe, a log file): Rich would use 80,
# where the tables of `grappe demo` and `grappe detect` wrap every cell. COLUMNS still wins.
PIPE_WIDTH = 160


def _width(stream: TextIO) -> int | None:
    isatty = getattr(stream, "isatty", None)
    if "COLUMNS" in os.environ or (isatty is not None and isatty()):
        return None
    return PIPE_WIDTH


console = Console(width=_width(sys.stdout))
err_console = Console(stderr=True, width=_width(sys.stderr))


class RichReporter:
    """Renders the steps of a domain operation as Rich progress bars (on stderr)."""

    def __init__(self) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=False,
        )

    def __enter__(self) -> RichReporter:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    @contextmanager
    def step(self, description: str, total: int | None = None) -> Iterator[Advance]:
        """Show one step as a bar (or a spinner when the total is unknown)."""
        task = self._progress.add_task(description, total=total)
        try:
            yield lambda n: self._progress.advance(task, n)
        finally:
            done = self._progress.tasks[task].completed
            self._progress.update(task, total=max(done, 1) if total is None else total,
                                  completed=max(done, 1) if total is None else total)


def number(value: float | None) -> str:
    """A number rounded to an integer with French thousands separators (narrow no-break space).

    ``None`` and NaN (a figure that does not exist) print as a dash.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{round(value):,}".replace(",", "\u202f")


def print_error(message: str) -> None:
    """Print one error line on stderr."""
    # Escaped: a message quoting a value such as [server] or a list is text, not markup.
    err_console.print(f"[bold red]Erreur :[/] {escape(message)}", highlight=False, soft_wrap=True)


@contextmanager
def handle_errors() -> Iterator[None]:
    """Render grappe errors as one clear line and exit with status 2."""
    try:
        yield
    except GrappeError as exc:
        print_error(str(exc))
        sys.exit(2)
