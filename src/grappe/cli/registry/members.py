"""`grappe registry` commands of members: import and export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from grappe.cli._console import console
from grappe.cli._operational import ClusterArgument, table, unit
from grappe.cli.registry._base import app, clusters, files


@app.command("import", epilog="Exemple : grappe registry import MECA adherents.xlsx --strict")
def import_command(
    cluster: ClusterArgument,
    file: Annotated[
        Path,
        typer.Argument(metavar="FICHIER", help="Adhérents en CSV ou XLSX (ex. : adherents.xlsx)."),
    ],
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Tout ou rien : une seule ligne rejetée et rien n'est écrit (statut de sortie 2).",
        ),
    ] = False,
) -> None:
    """Importer des adhérents (SIRET ou SIREN, nom, nature, date d'adhésion, type)."""
    with unit() as (session, actor):
        report = files.import_members(
            session, actor, clusters.resolve_cluster(session, cluster), file, strict=strict
        )
    if report.issues:
        table(
            "Lignes rejetées",
            ["ligne", "colonne", "valeur", "motif"],
            [[i.line, i.column, i.value, i.reason] for i in report.issues],
        )
    console.print(
        f"{report.rows} lignes lues, {report.inserted} adhésions créées, "
        f"{report.rejected} rejetées" + ("" if report.committed else " — rien n'a été écrit (--strict)")
    )
    if strict and report.rejected:
        raise typer.Exit(2)


@app.command("export", epilog="Exemple : grappe registry export MECA adherents.xlsx --current")
def export_command(
    cluster: ClusterArgument,
    file: Annotated[
        Path,
        typer.Argument(metavar="FICHIER", help="Fichier .csv ou .xlsx à écrire (ex. : adherents.xlsx)."),
    ],
    current: Annotated[
        bool, typer.Option("--current", help="Adhérents actuels seulement (sans les anciens).")
    ] = False,
) -> None:
    """Exporter les adhérents en CSV ou XLSX."""
    with unit(write=False) as (session, actor):
        n = files.export_members(
            session,
            actor,
            clusters.resolve_cluster(session, cluster),
            file,
            include_former=not current,
        )
    console.print(f"{n} adhésions écrites dans {file}")
