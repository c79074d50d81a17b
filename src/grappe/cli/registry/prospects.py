"""`grappe registry prospects`: establishments of the fabric a cluster could recruit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from grappe.cli._console import console
from grappe.cli._operational import ClusterArgument, unit
from grappe.cli.registry._base import app, clusters, prospects


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
) -> None:
    """Établissements du territoire et des secteurs de la structure, non adhérents, classés."""
    with unit(write=False) as (session, actor):
        table = prospects.prospects(
            session, actor, clusters.resolve_cluster(session, cluster), store=store, limit=limit
        )
    if out is not None:
        prospects.write_prospects(table, out)
        console.print(f"{table.num_rows} prospects écrits dans {out}")
        return
    rows = table.slice(0, 50).to_pylist()
    table(
        f"Prospects ({table.num_rows}, 50 premiers)",
        ["rang", "siret", "nom", "naf", "commune", "score"],
        [[r["rang"], r["siret"], r["nom"], r["naf"], r["commune"], r["score"]] for r in rows],
    )
