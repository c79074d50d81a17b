"""The ``grappe`` command line: parse, call a domain service, render."""

from __future__ import annotations

from importlib.util import find_spec

import typer

from grappe.cli import _frame, calls, demo, detect, detection, fabric, partners, refdata, serve
from grappe.cli._console import handle_errors
from grappe.errors import EngineError

# The registry needs the server extra (SQLAlchemy, Alembic); the analysis commands, `grappe
# demo` first, must run on the plain `pip install grappe`. Looked up, not imported: the
# registry loads them on first use, so that `--help` stays light.
SERVER_EXTRA = ("sqlalchemy", "alembic")


def missing_module(names: tuple[str, ...]) -> str | None:
    """The first of ``names`` that cannot be imported, or ``None``."""
    for name in names:
        try:
            if find_spec(name) is None:
                return name
        except ModuleNotFoundError:
            return name
    return None


_frame.install()

app = typer.Typer(
    name="grappe",
    help="grappe : la plateforme ouverte des clusters d'entreprises français.",
    epilog="Exemple : grappe demo, puis grappe detect --help",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(refdata.app, name="refdata")
app.add_typer(fabric.app, name="fabric")
app.add_typer(partners.app, name="partners")
app.add_typer(calls.app, name="calls")
_missing = missing_module(SERVER_EXTRA)


def _unavailable(group: str, summary: str, example: str, missing: str) -> None:
    """Register ``grappe GROUP`` as a command that says which extra it needs."""

    @app.command(
        group,
        help=f"{summary} (nécessite l'extra server).",
        epilog=f"Exemple : pip install 'grappe[server]', puis grappe {group} {example}",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def unavailable() -> None:
        with handle_errors():
            raise EngineError(
                f"`grappe {group}` nécessite l'extra server ({missing} absent) : pip install 'grappe[server]'"
            )


if _missing is not None:
    _unavailable("registry", "Registre des structures d'animation", "list", _missing)
    _unavailable("cooperation", "Coopération entre organisations", "network --help", _missing)
    _unavailable("evaluation", "Évaluation des clusters", "indicators", _missing)
else:
    from grappe.cli import cooperation, evaluation, registry

    app.add_typer(registry.app, name="registry")
    app.add_typer(cooperation.app, name="cooperation")
    app.add_typer(evaluation.app, name="evaluation")
detection.register(app)
detect.register(app)
demo.register(app)
serve.register(app)


def main() -> None:
    """Entry point of the ``grappe`` script."""
    with handle_errors():
        app()
