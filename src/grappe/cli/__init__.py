"""The ``grappe`` command line: parse, call a domain service, render."""

from __future__ import annotations

import typer

from grappe.cli import demo, detect, detection, fabric, refdata, registry, serve
from grappe.cli._console import handle_errors

app = typer.Typer(
    name="grappe",
    help="grappe : la plateforme ouverte des clusters d'entreprises français.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(refdata.app, name="refdata")
app.add_typer(fabric.app, name="fabric")
app.add_typer(registry.app, name="registry")
detection.register(app)
detect.register(app)
demo.register(app)
serve.register(app)


def main() -> None:
    """Entry point of the ``grappe`` script."""
    with handle_errors():
        app()
