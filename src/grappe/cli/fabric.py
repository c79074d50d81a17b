"""`grappe fabric` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="fabric", no_args_is_help=True)
