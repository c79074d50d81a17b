"""What every operational command group shares: the acting user, the unit of work, schemas, tables.

`grappe registry`, `grappe cooperation` and the later operational groups work on the registry
database as one acting user (``--as``), one transaction per command. The domain modules are
imported on first use (see :class:`Lazy`), so that `--help` stays light.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.table import Table

from grappe.cli._console import console
from grappe.errors import InputError
from grappe.kit.export import FileFormat

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError
    from sqlalchemy.orm import Session

    from grappe.registry import bounds, open_registry
    from grappe.registry.accounts import service as accounts
    from grappe.registry.policy import Actor


class Lazy:
    """A module, or one of its attributes, imported on first use.

    SQLAlchemy and pydantic take most of the start-up time: `--help` must not load them
    (CONTRACTS: every `--help` within 3x a bare Typer app).
    """

    def __init__(self, module: str, attribute: str | None = None) -> None:
        self._module, self._attribute = module, attribute

    def _target(self) -> Any:
        module = import_module(self._module)
        return module if self._attribute is None else getattr(module, self._attribute)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._target()(*args, **kwargs)


if not TYPE_CHECKING:
    bounds, accounts = Lazy("grappe.registry.bounds"), Lazy("grappe.registry.accounts.service")
    open_registry = Lazy("grappe.registry", "open_registry")

ClusterArgument = Annotated[
    str,
    typer.Argument(metavar="STRUCTURE", help="N°, sigle ou nom de la structure (ex. : MECA)."),
]

FileFormatOption = Annotated[
    FileFormat | None,
    typer.Option(
        "--format",
        help="csv (pour les programmes), csv-excel (Excel en français : « ; », virgule décimale, "
        "en-têtes français) ou xlsx (défaut : extension du fichier, .csv pour les programmes).",
    ),
]
"""The format of a registry file export (CONTRACTS.md, "Files")."""

_state: dict[str, str | None] = {"as": None}
M = TypeVar("M", bound="BaseModel")


ActingOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Agir en tant que : jeton d'API (grp_…) ou e-mail d'un utilisateur "
        "(ex. : chargee@meca.fr ; défaut : administrateur local).",
    ),
]
"""The acting user of the commands that work on the registry database (every group's ``--as``)."""


def act_as(acting: str | None) -> None:
    """Remember the acting user of this command line (the group callbacks' ``--as``)."""
    _state["as"] = acting


@contextmanager
def unit(*, write: bool = True) -> Iterator[tuple[Session, Actor]]:
    """A unit of work run as the acting user (resolved inside the transaction).

    ``write=False`` for commands that only read: on SQLite they run on a snapshot beside
    the server's writers instead of queueing for the write lock. A value the database
    refuses (PostgreSQL's ``DataError``, SQLite's ``OverflowError``) is bad input the bounds
    missed: one French line and exit 2, never a traceback; the transaction is rolled back.
    """
    try:
        with open_registry(write=write) as session:
            actor = accounts.actor_for(session, _state["as"])
            session.info["actor"] = actor
            yield session, actor
    except Exception as exc:
        from sqlalchemy.exc import StatementError

        if not isinstance(exc, (StatementError, OverflowError)):
            raise
        refusal = bounds.database_refusal(exc)
        if refusal is None:
            raise
        raise refusal from exc


def problems(exc: ValidationError) -> str:
    """A schema's refusal on one line: field, reason and the value (cut when long)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])} : {e['msg']} ({bounds.shown(repr(e.get('input')))})"
        for e in exc.errors()
    )


def build(model: type[M], **values: object) -> M:
    """Validate command-line values into a schema; errors become one readable InputError."""
    from pydantic import ValidationError

    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise InputError(f"valeurs invalides — {problems(exc)}") from exc


def table(title: str, columns: list[str], rows: list[list[object]]) -> None:
    """Print rows as a table (an empty cell for None)."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)
