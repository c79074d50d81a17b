"""What every `grappe cooperation` command shares: the group, its coded option values, helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TypeVar, overload

import typer

from grappe.cli import _operational as operational
from grappe.errors import InputError
from grappe.kit.dates import option_date

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from grappe.registry.clusters import service as cluster_service
    from grappe.registry.policy import Actor
else:
    cluster_service = operational.Lazy("grappe.registry.clusters.service")

#: Values of the coded options, written here so that `--help` loads no model
#: (tests/cooperation/test_cli.py checks they agree with the models' enums).
FORMATS = ("anr", "table")
LINK_KINDS = (
    "supplier_customer",
    "subcontracting",
    "co_development",
    "horizontal_partnership",
    "shared_resource",
)
ORIENTATIONS = ("means", "products_markets", "working_club")
PROJECT_KINDS = ("rd_innovation", "market", "training", "structuring")
STATUSES = (
    "idea",
    "drafting",
    "labelled",
    "submitted",
    "funded",
    "rejected",
    "running",
    "completed",
    "abandoned",
)
CATEGORIES = (
    "member_firm",
    "non_member_firm",
    "laboratory",
    "training_body",
    "public_body",
    "foreign_partner",
)
DEAL_KINDS = ("goods", "services", "subcontracting", "other")
#: The layers of ``--layers`` (``grappe.cooperation.network.LAYERS``).
LAYERS = ("projects", "links", "events", "business")
#: Columns of the measures file (CONTRACTS, "network measures"), the stored id last.
MEASURES = ("organisation", "kind", "degree", "weighted_degree", "betweenness", "eigenvector",
            "community", "core", "organisation_id")
MEASURE_LABELS = {
    "organisation": "Organisation",
    "kind": "Nature",
    "degree": "Degré (partenaires distincts)",
    "weighted_degree": "Degré pondéré",
    "betweenness": "Intermédiarité",
    "eigenvector": "Centralité de vecteur propre",
    "community": "Communauté",
    "core": "Cœur",
    "organisation_id": "N° organisation",
}
MEASURE_SUFFIXES = (".csv", ".xlsx")
app = typer.Typer(
    help="Coopération : liens, projets collaboratifs, affaires entre membres, import des projets.",
    epilog="Exemple : grappe cooperation import-projects --format anr projets.xlsx partenaires.xlsx",
    no_args_is_help=True,
)

ClusterArgument = operational.ClusterArgument
Limit = Annotated[int, typer.Option("--limit", help="Nombre de lignes au plus (1 à 500).")]


@app.callback()
def _options(acting: operational.ActingOption = None) -> None:
    # the registry's unit of work reads the acting user from its state: one rule for both groups
    operational.act_as(acting)


def _amount(option: str, text: str) -> Decimal:
    try:
        return Decimal(text.replace(" ", "").replace(",", "."))
    except InvalidOperation as exc:
        raise InputError(f"{option} {text!r} : montant invalide (ex. : 12500 ou 12500,50)") from exc


def _date(option: str, text: str | None) -> dt.date | None:
    return None if text is None else option_date(option, text)


def label(category: str, code: str | None) -> str:
    """The French label of a stored code (:data:`grappe.kit.present.LABELS`, the one place)."""
    from grappe.kit import present

    return present.label(category, code)


@overload
def in_cluster(cluster: str, *, write: bool = ...) -> AbstractContextManager[tuple[Session, Actor, int]]: ...
@overload
def in_cluster(
    cluster: str | None, *, write: bool = ...
) -> AbstractContextManager[tuple[Session, Actor, int | None]]: ...
def in_cluster(
    cluster: str | None, *, write: bool = True
) -> AbstractContextManager[tuple[Session, Actor, int | None]]:
    """The command's unit of work with the cluster it names resolved (None when none is named).

    ``write=False`` for commands that only read (see :func:`grappe.cli._operational.unit`).
    """
    return _in_cluster(cluster, write)


@contextmanager
def _in_cluster(cluster: str | None, write: bool) -> Iterator[tuple[Session, Actor, int | None]]:
    with operational.unit(write=write) as (session, actor):
        yield session, actor, None if cluster is None else cluster_service.resolve_cluster(session, cluster)


Item = TypeVar("Item")
Item_co = TypeVar("Item_co", covariant=True)


class Listing(Protocol[Item_co]):
    """One page of a list as the services answer it (``EventPage``, ``LinkPage``…)."""

    @property
    def total(self) -> int: ...
    @property
    def items(self) -> Sequence[Item_co]: ...


@overload
def print_listing(
    cluster: str,
    fetch: Callable[[Session, Actor, int], Listing[Item]],
    title: str,
    columns: list[str],
    row: Callable[[Item], list[object]],
) -> None: ...
@overload
def print_listing(
    cluster: str | None,
    fetch: Callable[[Session, Actor, int | None], Listing[Item]],
    title: str,
    columns: list[str],
    row: Callable[[Item], list[object]],
) -> None: ...
def print_listing(
    cluster: str | None,
    fetch: Callable[[Session, Actor, Any], Listing[Item]],
    title: str,
    columns: list[str],
    row: Callable[[Item], list[object]],
) -> None:
    """Read one page of a cluster's records (``fetch``) and print it as a table, its total in the title."""
    with in_cluster(cluster, write=False) as (session, actor, cluster_id):
        page = fetch(session, actor, cluster_id)
    operational.table(f"{title} ({page.total})", columns, [row(item) for item in page.items])
