"""Options and checks shared by the analysis commands (`grappe indicators`, `grappe detect`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from grappe.detection.levels import CLUSTER_LEVEL, SECTOR_LEVELS, TERRITORY_LEVELS
from grappe.errors import InputError
from grappe.kit.dates import option_date

#: Values of ``--sectors`` other than a sector-group file.
SECTOR_CHOICES = (*SECTOR_LEVELS, CLUSTER_LEVEL)

ENGINES = ("duckdb", "spark")

StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="Dossier du magasin du tissu productif (défaut : GRAPPE_HOME/store)."),
]
LevelOption = Annotated[
    str, typer.Option("--level", help=f"Niveau territorial : {', '.join(TERRITORY_LEVELS)}.")
]
SectorsOption = Annotated[
    str,
    typer.Option(
        "--sectors",
        help=f"Niveau sectoriel ({', '.join(SECTOR_LEVELS)}), {CLUSTER_LEVEL} (catégories de "
        "grappes des activités exposées) ou fichier de groupes (.toml).",
    ),
]
EngineOption = Annotated[
    str | None,
    typer.Option("--engine", help="Moteur : duckdb ou spark (défaut : GRAPPE_ENGINE)."),
]
AtOption = Annotated[
    str | None,
    typer.Option("--at", help="Date du tissu, AAAA-MM-JJ ou JJ/MM/AAAA (défaut : la plus récente "
                 "des données)."),
]

ReferenceOption = Annotated[
    Path | None,
    typer.Option(
        "--reference",
        help="Magasin de référence (par exemple le fichier national) : quotients de "
        "localisation et parts du secteur calculés par rapport à lui (défaut : le magasin "
        "analysé lui-même).",
    ),
]


def check_reference(reference: Path | None) -> None:
    """Refuse a ``--reference`` that is not a store directory, before any counting."""
    if reference is not None and not reference.is_dir():
        raise InputError(f"--reference {reference} : magasin introuvable")


@dataclass(frozen=True)
class AnalysisInput:
    """What an analysis command reads: the store, the levels, the engine and the date."""

    store: Path
    level: str
    sectors: str | Path
    engine: str | None
    at: dt.date | None


def analysis_input(
    store: Path | None, level: str, sectors: str, engine: str | None, at: str | None
) -> AnalysisInput:
    """Check the shared options and name the first wrong one (``InputError``)."""
    choice("--level", level, TERRITORY_LEVELS)
    is_file = sectors.lower().endswith(".toml")
    if not is_file:
        choice("--sectors", sectors, SECTOR_CHOICES)
    if engine is not None:
        choice("--engine", engine, ENGINES)
    date = option_date("--at", at) if at is not None else None
    from grappe.config import get_settings

    store_dir = store if store is not None else get_settings().store_dir
    if not store_dir.is_dir():
        raise InputError(
            f"--store {store_dir} : magasin introuvable (importez d'abord un fichier avec "
            "`grappe fabric import`, ou indiquez --store)"
        )
    if date is not None:
        warn_past_data("--at", date, store_dir)
    return AnalysisInput(store_dir, level, Path(sectors) if is_file else sectors, engine, date)


def warn_past_data(option: str, date: dt.date, store_dir: Path) -> None:
    """Say on stderr when ``date`` is past the latest date the store's data know.

    The analysis still runs (the fabric past its data is the fabric at its latest date),
    but a user who typed 2042 for 2024 should see it.
    """
    from grappe.cli._console import err_console
    from grappe.fabric.store import FabricStore

    latest = FabricStore.open(store_dir).latest_date()
    if latest is not None and date > latest:
        err_console.print(
            f"Attention : {option} {date.isoformat()} dépasse les données du magasin "
            f"(dernière date connue : {latest.isoformat()}).",
            markup=False, highlight=False, soft_wrap=True,
        )


def choice(option: str, value: str, allowed: tuple[str, ...]) -> None:
    """Refuse a value outside ``allowed``, naming the option and the allowed values."""
    if value not in allowed:
        raise InputError(f"{option} {value!r} : valeur inconnue ; attendu : {', '.join(allowed)}")
