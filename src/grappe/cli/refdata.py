"""`grappe refdata` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="refdata", no_args_is_help=True)
