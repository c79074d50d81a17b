"""What every `grappe registry` command shares: the Typer group, the unit of work, tables.

The registry's modules are imported on first use (see ``_Lazy``), so that `--help` stays light.
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

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError
    from sqlalchemy.orm import Session

    from grappe.registry import bounds, migrate, open_registry, prospects
    from grappe.registry.accounts import service as accounts
    from grappe.registry.accounts import signin
    from grappe.registry.accounts.schemas import UserCreate
    from grappe.registry.clusters import service as clusters
    from grappe.registry.clusters.schemas import ClusterCreate
    from grappe.registry.fees import figures, letters, schedule_files
    from grappe.registry.fees import service as fees
    from grappe.registry.fees.schemas import PaymentIn
    from grappe.registry.invitations import service as invitations
    from grappe.registry.invitations.schemas import InvitationCreate
    from grappe.registry.memberships import files
    from grappe.registry.models import InvitationStatus
    from grappe.registry.policy import Actor
    from grappe.storage.sql import get_engine
else:

    class _Lazy:
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

    bounds, migrate, prospects = (
        _Lazy(f"grappe.registry.{name}") for name in ("bounds", "migrate", "prospects")
    )
    accounts, signin = _Lazy("grappe.registry.accounts.service"), _Lazy("grappe.registry.accounts.signin")
    clusters = _Lazy("grappe.registry.clusters.service")
    fees, figures = _Lazy("grappe.registry.fees.service"), _Lazy("grappe.registry.fees.figures")
    letters, schedule_files = (
        _Lazy(f"grappe.registry.fees.{name}") for name in ("letters", "schedule_files")
    )
    invitations = _Lazy("grappe.registry.invitations.service")
    files = _Lazy("grappe.registry.memberships.files")
    open_registry = _Lazy("grappe.registry", "open_registry")
    get_engine = _Lazy("grappe.storage.sql", "get_engine")
    InvitationStatus = _Lazy("grappe.registry.models", "InvitationStatus")
    UserCreate = _Lazy("grappe.registry.accounts.schemas", "UserCreate")
    ClusterCreate = _Lazy("grappe.registry.clusters.schemas", "ClusterCreate")
    PaymentIn = _Lazy("grappe.registry.fees.schemas", "PaymentIn")
    InvitationCreate = _Lazy("grappe.registry.invitations.schemas", "InvitationCreate")

#: The values of ``grappe.registry.models.Role`` (tests/test_cli_help.py checks they agree):
#: written here so that the help does not load the registry's models.
ROLES = ("admin", "funder", "manager", "member", "public")

app = typer.Typer(
    help="Registre des structures d'animation : adhérents, cotisations, annuaire, prospects.",
    epilog="Exemple : grappe registry --as chargee@meca.fr list",
    no_args_is_help=True,
)

ClusterArgument = Annotated[
    str,
    typer.Argument(metavar="STRUCTURE", help="N°, sigle ou nom de la structure (ex. : MECA)."),
]

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


@app.callback()
def _options(acting: ActingOption = None) -> None:
    act_as(acting)


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
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)
