"""`grappe indicators` (and the other detection commands): aggregate the store, compute, write."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from grappe.cli._analysis import (
    AtOption,
    EngineOption,
    LevelOption,
    ReferenceOption,
    SectorsOption,
    StoreOption,
    analysis_input,
    check_reference,
    choice,
)
from grappe.cli._console import RichReporter, err_console, handle_errors
from grappe.errors import InputError

if TYPE_CHECKING:
    from grappe.detection.indicators import Measure, Table


def register(app: typer.Typer) -> None:
    """Add the commands of this module to the main app."""
    app.command(
        "indicators",
        epilog="Exemple : grappe indicators --store magasin --level departement --sectors division "
        "--out indicateurs.csv",
    )(indicators_command)


def indicators_command(
    *,
    store: StoreOption = None,
    level: LevelOption = "ze",
    sectors: SectorsOption = "division",
    at: AtOption = None,
    measure: Annotated[
        str,
        typer.Option(
            "--measure", help="Mesure des indicateurs : employment (effectifs) ou establishments."
        ),
    ] = "employment",
    engine: EngineOption = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="csv (pour les programmes), csv-excel (Excel en français : « ; », virgule "
            "décimale), xlsx, json ou parquet (défaut : extension de --out, sinon csv).",
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
    reference: ReferenceOption = None,
) -> None:
    """Calculer les indicateurs de spécialisation et de concentration du tissu productif.

    Quotient de localisation (LQ) et RCA, Krugman, Hachman, Herfindahl, Gini locational,
    Hoover, Ellison-Glaeser, focus, taille, dynamisme ; chaque chiffre fondé sur les effectifs
    porte sa fourchette (tranches d'effectifs SIRENE). La table des cellules ajoute la règle
    « cluster fort » de l'U.S. Cluster Mapping et les étoiles de l'European Cluster Observatory.
    Avec --reference, un magasin régional se compare au magasin national (colonne reference).
    """
    with handle_errors():
        from grappe.detection.indicators import (
            MEASURES,
            TABLES,
            indicators,
            output_format,
            write_frame,
        )

        given = analysis_input(store, level, sectors, engine, at)
        choice("--measure", measure, MEASURES)
        choice("--table", table, TABLES)
        fmt = output_format(out, output)
        if fmt in ("parquet", "xlsx") and out is None:
            raise InputError(f"--format {fmt} : indiquez un fichier avec --out")
        check_reference(reference)

        from grappe.detection.aggregate import aggregate
        from grappe.detection.candidates import name_columns
        from grappe.detection.reference import OWN_REFERENCE, reference_at_snapshot
        from grappe.detection.rules import apply_rules

        with RichReporter() as reporter:
            counts = aggregate(
                given.store, given.level, given.sectors, at=given.at, engine=given.engine,
                reporter=reporter,
            )
            compared = None
            if reference is not None:
                with reporter.step("Totaux de la référence"):
                    compared = reference_at_snapshot(reference, counts, given.level,
                                                     given.sectors, given.at, given.engine)
            with reporter.step("Calcul des indicateurs"):
                result = indicators(counts, measure=cast("Measure", measure), reference=compared)
                if table == "cells":
                    frame = apply_rules(result).to_frame()
                else:
                    frame = result.frame(cast("Table", table))
                # People read names: every output carries them beside the codes.
                frame = name_columns(frame, given.level, given.sectors)
                if compared is not None:
                    frame["reference"] = compared.name
        if out is None:
            write_frame(frame, sys.stdout, fmt)
        else:
            write_frame(frame, out, fmt)
            err_console.print(f"{len(frame)} lignes écrites dans {out} ({fmt}).", highlight=False)
        err_console.print("Référence des quotients de localisation : "
                          f"{OWN_REFERENCE if compared is None else compared.name}.",
                          highlight=False)

