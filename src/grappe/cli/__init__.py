"""The ``grappe`` command line: parse, call a domain service, render."""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from functools import partial
from importlib import import_module
from importlib.util import find_spec
from typing import Any

import typer
import typer.core
from typer import _click

from grappe.cli import _frame, demo, detect, detection, serve
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

#: Command groups built on first use, by name, in the order the help lists them: the module
#: holding each group's ``app``. `grappe detect` then loads none of them (about 0.2 s of
#: imports and Typer building every command of every group at each start).
LAZY_GROUPS: dict[str, str] = {
    "refdata": "grappe.cli.refdata",
    "fabric": "grappe.cli.fabric",
    "partners": "grappe.cli.partners",
    "calls": "grappe.cli.calls",
}


def _load_group(name: str, module: str) -> _click.Command:
    """The Click group of ``grappe NAME``, built as ``add_typer`` on the main app builds it."""
    holder = typer.Typer(pretty_exceptions_enable=False)
    holder.add_typer(import_module(module).app, name=name)
    return typer.main.get_group(holder).commands[name]


class _LazyCommands(MutableMapping[str, _click.Command]):
    """A group's commands: the built ones, then the lazy groups, each built when looked up."""

    def __init__(self, built: MutableMapping[str, _click.Command],
                 lazy: dict[str, Callable[[], _click.Command]]) -> None:
        self._built = dict(built)
        self._lazy = {name: load for name, load in lazy.items() if name not in self._built}
        self._order = [*self._built, *self._lazy]

    def __getitem__(self, name: str) -> _click.Command:
        if name not in self._built and name in self._lazy:
            self._built[name] = self._lazy.pop(name)()
        return self._built[name]

    def __setitem__(self, name: str, command: _click.Command) -> None:
        if name not in self._built and name not in self._lazy:
            self._order.append(name)
        self._lazy.pop(name, None)
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self._built and name not in self._lazy:
            raise KeyError(name)
        self._built.pop(name, None)
        self._lazy.pop(name, None)
        self._order.remove(name)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, name: object) -> bool:
        return name in self._built or name in self._lazy


class LazyGroup(typer.core.TyperGroup):
    """The root group: the groups of :data:`LAZY_GROUPS` are imported and built on lookup."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _LazyCommands(self.commands, {
            name: partial(_load_group, name, module) for name, module in LAZY_GROUPS.items()
        })


app = typer.Typer(
    name="grappe",
    help="grappe : la plateforme ouverte des clusters d'entreprises français.",
    epilog="Exemple : grappe demo, puis grappe detect --help",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=LazyGroup,
)
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
    LAZY_GROUPS |= {
        "registry": "grappe.cli.registry",
        "cooperation": "grappe.cli.cooperation",
        "evaluation": "grappe.cli.evaluation",
    }
detection.register(app)
detect.register(app)
demo.register(app)
serve.register(app)


def main() -> None:
    """Entry point of the ``grappe`` script."""
    with handle_errors():
        app()
