"""`grappe cooperation network`: the measures of the cooperation network and its files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from grappe.cli import _operational as operational
from grappe.cli._console import console, err_console, number
from grappe.cli.cooperation._base import (
    LAYERS,
    MEASURE_LABELS,
    MEASURE_SUFFIXES,
    MEASURES,
    _date,
    app,
    in_cluster,
)
from grappe.errors import InputError

if TYPE_CHECKING:
    from grappe.cooperation.network import NetworkAnalysis, NetworkChange


# --- network ------------------------------------------------------------------------------------


@app.command(
    "network",
    epilog="Exemple : grappe cooperation network --cluster MECA --layers projects,links "
    "--from 2024-01-01 --to 2024-12-31 --out reseau.xlsx --picture reseau.png",
)
def network_command(
    out: Annotated[
        Path,
        typer.Option(
            "--out", metavar="FICHIER", help="Mesures par organisation, .csv ou .xlsx (ex. : reseau.csv)."
        ),
    ],
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            metavar="STRUCTURE",
            help="N°, sigle ou nom de la structure : ses adhérents et les organisations "
            "avec qui ils coopèrent (ex. : MECA).",
        ),
    ] = None,
    everyone: Annotated[
        bool,
        typer.Option(
            "--all", help="Toutes les organisations enregistrées, adhérentes ou non (administrateur)."
        ),
    ] = False,
    layers: Annotated[
        str | None,
        typer.Option(
            "--layers",
            metavar="COUCHES",
            help=f"Couches, séparées par des virgules, parmi {', '.join(LAYERS)} "
            "(défaut : toutes ; ex. : projects,links).",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="DATE",
            help="Début de la période, AAAA-MM-JJ ou JJ/MM/AAAA "
            "(défaut : toutes les périodes, projets sans date compris).",
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", metavar="DATE", help="Fin de la période, incluse (ex. : 2024-12-31)."),
    ] = None,
    graphml: Annotated[
        Path | None,
        typer.Option(
            "--graphml", metavar="FICHIER", help="Écrire aussi le graphe en GraphML (ex. : reseau.graphml)."
        ),
    ] = None,
    gexf: Annotated[
        Path | None,
        typer.Option(
            "--gexf",
            metavar="FICHIER",
            help="Écrire aussi le graphe en GEXF, pour Gephi (ex. : reseau.gexf).",
        ),
    ] = None,
    picture: Annotated[
        Path | None,
        typer.Option(
            "--picture", metavar="FICHIER", help="Dessiner le réseau en .png ou .svg (ex. : reseau.png)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Graine des communautés et du dessin (ex. : 7).")] = 0,
    compare_to: Annotated[
        int | None,
        typer.Option(
            "--compare-to",
            metavar="ANNÉE",
            help="Évolution depuis cette année civile : densité, composantes, cœur, PME du "
            "cœur, dépendance (avec --from et --to ; ex. : 2023).",
        ),
    ] = None,
) -> None:
    """Mesurer le réseau de coopération : une ligne par organisation.

    Degrés, intermédiarité, centralité, communauté, cœur ; puis qui impliquer et la dépendance.
    """
    from grappe.cooperation import network_export
    from grappe.kit.export import write

    if everyone == (cluster is not None):
        raise InputError("--cluster ou --all : indiquez l'un des deux")
    chosen = _layers(layers)
    first, last = _date("--from", start), _date("--to", end)
    network_export.writable(out, MEASURE_SUFFIXES)
    for path, suffixes in (
        (graphml, network_export.GRAPHML_SUFFIXES),
        (gexf, network_export.GEXF_SUFFIXES),
        (picture, network_export.PICTURE_FORMATS),
    ):
        if path is not None:
            network_export.writable(path, suffixes)
    analysis, change = _analyse(cluster, chosen, first, last, seed, compare_to)
    table = analysis.measures
    if out.suffix.lower() == ".xlsx":
        table = table.assign(kind=table["kind"].map(network_export.KIND_LABELS).fillna(table["kind"]))
    write(out, table[list(MEASURES)], labels=MEASURE_LABELS, sheet="Réseau")
    if graphml is not None:
        network_export.write_graphml(analysis, graphml)
    if gexf is not None:
        network_export.write_gexf(analysis, gexf)
    if picture is not None:
        network_export.draw(analysis, picture, seed=seed)
    if not len(table):
        err_console.print("Aucune organisation dans ce périmètre : le fichier ne contient que l'en-tête.")
    _render(analysis, out)
    if change is not None and compare_to is not None:
        _render_change(change, compare_to, analysis)


def _layers(text: str | None) -> tuple[str, ...]:
    if text is None:
        return LAYERS
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in LAYERS]
    if unknown or not names:
        raise InputError(f"--layers {text!r} : couche inconnue ; attendu : {', '.join(LAYERS)}")
    return names


def _analyse(
    cluster: str | None,
    layers: tuple[str, ...],
    start: dt.date | None,
    end: dt.date | None,
    seed: int,
    compare_to: int | None,
) -> tuple[NetworkAnalysis, NetworkChange | None]:
    from grappe.cooperation import service

    if compare_to is not None and (start is None or end is None):
        raise InputError(f"--compare-to {compare_to} : indiquez la période analysée avec --from et --to")
    with in_cluster(cluster, write=False) as (session, actor, cluster_id):
        if compare_to is None:
            return service.analyse_network(
                session, actor, cluster_id=cluster_id, layers=layers, start=start, end=end, seed=seed
            ), None
        return service.network_change(
            session,
            actor,
            cluster_id=cluster_id,
            layers=layers,
            before=service.year_period(compare_to),
            after=(start, end),
            seed=seed,
        )


def _render(analysis: NetworkAnalysis, out: Path) -> None:
    """The summary in French: size, core, whom to involve, dependence on the most connected."""
    from grappe.detection.ranking import french_number

    summary = analysis.summary
    names = dict(zip(analysis.measures["organisation_id"], analysis.measures["organisation"], strict=True))

    def listed(ids: tuple[object, ...], limit: int = 10) -> str:
        shown = ", ".join(str(names[i]) for i in ids[:limit])
        return (shown + (f" et {number(len(ids) - limit)} autres" if len(ids) > limit else "")) or "aucun"

    def share(value: float | None) -> str:
        return "–" if value is None else f"{number(100 * value)} %"

    dependence = summary.dependence
    console.print(
        f"Réseau : {number(summary.organisations)} organisations, {number(summary.ties)} liens, "
        f"densité {french_number(summary.density, 4)}, {number(summary.components)} composante(s)."
    )
    console.print(
        f"Cœur ({summary.core_k}-cœur) : {number(summary.core_size)} organisations, "
        f"dont {share(summary.sme_share_in_core)} de PME."
    )
    console.print(f"Adhérents isolés, à impliquer : {listed(summary.isolated_members)}.")
    console.print(f"Adhérents périphériques : {listed(summary.peripheral_members)}.")
    console.print(f"Intermédiaires (points d'articulation) : {listed(summary.brokers)}.")
    console.print(
        f"Dépendance : les {dependence.top} organisations les plus connectées portent "
        f"{share(dependence.ties_lost_share)} des liens ; sans elles, la plus grande composante passe "
        f"de {share(dependence.largest_component_before)} à {share(dependence.largest_component_after)} "
        "des organisations."
    )
    console.print(f"Mesures écrites : {out}")


def _render_change(change: NetworkChange, year: int, analysis: NetworkAnalysis) -> None:
    """The change since ``year`` in French: one line per figure, before → after."""
    from grappe.kit import present

    def share(value: float | None) -> str:
        return present.percent(value)

    names = dict(zip(analysis.measures["organisation_id"], analysis.measures["organisation"], strict=True))
    operational.table(
        f"Évolution du réseau depuis {year}",
        ["mesure", str(year), "période analysée"],
        [
            ["organisations", change.organisations[0], change.organisations[1]],
            ["liens", change.ties[0], change.ties[1]],
            ["densité", present.decimal(change.density[0], 4), present.decimal(change.density[1], 4)],
            ["composantes", change.components[0], change.components[1]],
            ["taille du cœur", change.core_size[0], change.core_size[1]],
            [
                "part des PME dans le cœur",
                share(change.sme_share_in_core[0]),
                share(change.sme_share_in_core[1]),
            ],
            [
                "liens portés par les plus connectées",
                share(change.dependence[0]),
                share(change.dependence[1]),
            ],
            [
                "plus grande composante sans elles",
                share(change.largest_component_without_top[0]),
                share(change.largest_component_without_top[1]),
            ],
        ],
    )
    joined = ", ".join(str(names.get(i, i)) for i in change.joined[:10]) or "aucune"
    console.print(
        f"Liens : {number(change.ties_new)} nouveaux, {number(change.ties_kept)} maintenus, "
        f"{number(change.ties_ended)} terminés. Organisations entrées dans le réseau : {joined}"
        + (f" et {number(len(change.joined) - 10)} autres" if len(change.joined) > 10 else "")
        + f" ; sorties : {number(len(change.left))}."
    )
