"""`grappe indicators` (and the other detection commands): aggregate the store, compute, write."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, cast

import typer

from grappe.cli._console import RichReporter, err_console, handle_errors
from grappe.config import get_settings
from grappe.detection.counts import SECTOR_LEVELS, TERRITORY_LEVELS
from grappe.detection.indicators import (
    MEASURES,
    TABLES,
    Measure,
    Table,
    indicators,
    output_format,
    write_frame,
)
from grappe.errors import InputError

ENGINES = ("duckdb", "spark")


def register(app: typer.Typer) -> None:
    """Add the commands of this module to the main app."""
    app.command("indicators")(indicators_command)


def indicators_command(
    *,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store", help="Dossier du magasin du tissu productif (défaut : GRAPPE_HOME/store)."
        ),
    ] = None,
    level: Annotated[
        str, typer.Option("--level", help=f"Niveau territorial : {', '.join(TERRITORY_LEVELS)}.")
    ] = "ze",
    sectors: Annotated[
        str,
        typer.Option(
            "--sectors",
            help=f"Niveau sectoriel ({', '.join(SECTOR_LEVELS)}) ou fichier de groupes (.toml).",
        ),
    ] = "division",
    at: Annotated[
        str | None,
        typer.Option("--at", help="Date du tissu (AAAA-MM-JJ ; défaut : la plus récente)."),
    ] = None,
    measure: Annotated[
        str,
        typer.Option(
            "--measure", help="Mesure des indicateurs : employment (effectifs) ou establishments."
        ),
    ] = "employment",
    engine: Annotated[
        str | None,
        typer.Option("--engine", help="Moteur : duckdb ou spark (défaut : GRAPPE_ENGINE)."),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--format", help="csv, json ou parquet (défaut : extension de --out, sinon csv)."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Fichier de sortie (défaut : sortie standard).")
    ] = None,
    table: Annotated[
        str,
        typer.Option(
            "--table",
            help="cells (territoire x secteur, avec cluster fort et étoiles), territories "
            "(spécialisation) ou sectors (concentration).",
        ),
    ] = "cells",
) -> None:
    """Calculer les indicateurs de spécialisation et de concentration du tissu productif.

    Quotient de localisation (LQ) et RCA, Krugman, Hachman, Herfindahl, Gini locational,
    Hoover, Ellison-Glaeser, focus, taille, dynamisme ; chaque chiffre fondé sur les effectifs
    porte sa fourchette (tranches d'effectifs SIRENE). La table des cellules ajoute la règle
    « cluster fort » de l'U.S. Cluster Mapping et les étoiles de l'European Cluster Observatory.
    """
    with handle_errors():
        _choice("--level", level, TERRITORY_LEVELS)
        if not sectors.lower().endswith(".toml"):
            _choice("--sectors", sectors, SECTOR_LEVELS)
        _choice("--measure", measure, MEASURES)
        _choice("--table", table, TABLES)
        if engine is not None:
            _choice("--engine", engine, ENGINES)
        fmt = output_format(out, output)
        if fmt == "parquet" and out is None:
            raise InputError("--format parquet : indiquez un fichier avec --out")
        date = _date("--at", at)
        store_dir = store if store is not None else get_settings().store_dir
        if not store_dir.is_dir():
            raise InputError(
                f"--store {store_dir} : magasin introuvable (importez d'abord un fichier avec "
                "`grappe fabric import`, ou indiquez --store)"
            )
        sector_spec: str | Path = Path(sectors) if sectors.lower().endswith(".toml") else sectors

        from grappe.detection.aggregate import aggregate
        from grappe.detection.rules import apply_rules

        with RichReporter() as reporter:
            counts = aggregate(
                store_dir, level, sector_spec, at=date, engine=engine, reporter=reporter
            )
            with reporter.step("Calcul des indicateurs"):
                result = indicators(counts, measure=cast(Measure, measure))
                if table == "cells":
                    frame = apply_rules(result).to_frame()
                else:
                    frame = result.frame(cast(Table, table))
        if out is None:
            write_frame(frame, sys.stdout, fmt)
        else:
            write_frame(frame, out, fmt)
            err_console.print(f"{len(frame)} lignes écrites dans {out} ({fmt}).", highlight=False)


def _choice(option: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InputError(f"{option} {value!r} : valeur inconnue ; attendu : {', '.join(allowed)}")


def _date(option: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"{option} {value!r} : date invalide, attendu AAAA-MM-JJ") from exc
