"""`grappe registry prospects`: establishments of the fabric a cluster could recruit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from grappe.cli._console import console
from grappe.cli._operational import ClusterArgument, FileFormatOption, table, unit
from grappe.cli.registry._base import app, clusters, prospects
from grappe.kit import present

#: Prospects printed on screen when no file is asked for.
SHOWN = 50


@app.command("prospects", epilog="Exemple : grappe registry prospects MECA --top 200 --out prospects.xlsx")
def prospects_command(
    cluster: ClusterArgument,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Fichier .csv ou .xlsx à écrire (sinon : les 50 premiers à l'écran ; ex. : prospects.xlsx).",
        ),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Dossier du magasin du tissu productif (défaut : GRAPPE_HOME/store)."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--top", help="Garder les N mieux classés (ex. : 200).")
    ] = None,
    format: FileFormatOption = None,
) -> None:
    """Établissements du territoire et des secteurs de la structure, non adhérents, classés."""
    with unit(write=False) as (session, actor):
        ranked = prospects.prospects(
            session, actor, clusters.resolve_cluster(session, cluster), store=store, limit=limit
        )
    if out is not None:
        prospects.write_prospects(ranked, out, format=format)
        console.print(f"{present.number(ranked.num_rows)} prospects écrits dans {out}", highlight=False)
        return
    rows = ranked.slice(0, SHOWN).to_pylist()
    table(
        f"Prospects ({present.number(ranked.num_rows)}, {SHOWN} premiers)",
        ["rang", "siret", "nom", "activité", "commune", "score"],
        [
            [
                r["rank"],
                r["siret"],
                r["name"],
                present.coded(r["naf"], r["naf_name"]),
                present.coded(r["commune"], r["commune_name"]),
                present.decimal(r["score"], 4),
            ]
            for r in rows
        ],
    )
