"""Console helpers shared by the CLI commands: Rich progress, error rendering."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
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

console = Console()
err_console = Console(stderr=True)


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


@contextmanager
def handle_errors() -> Iterator[None]:
    """Render grappe errors as one clear line and exit with status 2."""
    try:
        yield
    except GrappeError as exc:
        err_console.print(f"[bold red]Erreur :[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
