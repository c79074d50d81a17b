"""What every `grappe cooperation` command shares: the group, its coded option values, helpers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated

import typer

from grappe.cli import _operational as operational
from grappe.errors import InputError
from grappe.kit.dates import option_date

if TYPE_CHECKING:
    from grappe.registry.clusters import service as cluster_service
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
#: French names of the states and statuses the tables show (the codes are what options take).
LINK_STATES = {"pending": "en attente", "confirmed": "confirmé", "declined": "refusé"}
STATUS_NAMES = dict(
    zip(
        STATUSES,
        ("idée", "montage", "labellisé", "déposé", "financé", "refusé", "en cours", "terminé", "abandonné"),
        strict=True,
    )
)

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


