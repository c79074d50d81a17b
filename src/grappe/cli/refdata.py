"""`grappe refdata` commands: what reference data is packaged, NAF look-ups, ZE import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from grappe.cli._console import RichReporter, console, handle_errors, number

app = typer.Typer(
    help="Données de référence : NAF rév. 2, territoires, zones d'emploi.",
    epilog="Exemple : grappe refdata naf 25.62A",
    no_args_is_help=True,
)




@app.command(
    "import-ze", epilog="Exemple : grappe refdata import-ze table-appartenance-geo-communes.xlsx"
)
def import_ze(
    file: Annotated[
        Path,
        typer.Argument(metavar="FICHIER", help="Table INSEE des zones d'emploi 2020, .xlsx (ex. : "
                       "table-appartenance-geo-communes.xlsx)."),
    ],
) -> None:
    """Importer une édition des zones d'emploi (table INSEE) : elle remplace les zones 2020 embarquées."""
    from grappe.refdata import territories

    with handle_errors(), RichReporter() as reporter:
        result = territories.import_ze(file, reporter=reporter)
    console.print(
        f"Zones d'emploi importées : {number(result['rows'])} lignes lues, "
        f"{number(result['communes'])} communes actuelles rattachées à {result['zones']} zones "
        f"({result['metropolitan_zones']} en France métropolitaine)."
    )
    if result["unknown_communes"]:
        shown = ", ".join(result["unknown_codes"][:20])
        more = " ..." if result["unknown_communes"] > 20 else ""
        console.print(
            f"[yellow]{result['unknown_communes']} codes commune inconnus du COG, ignorés :"
            f"[/] {shown}{more}"
        )
    if result["communes_from_epci"]:
        console.print(
            f"{result['communes_from_epci']} communes recréées depuis la géographie du fichier "
            "rattachées à la zone de leur EPCI."
        )
    if result["communes_without_zone"]:
        console.print(
            f"{result['communes_without_zone']} communes actuelles sans zone d'emploi "
            "(collectivités d'outre-mer, communes créées depuis la géographie du fichier)."
        )
    console.print(f"Écrit : {result['path']}")


def _info() -> dict[str, Any]:
    import pyarrow.compute as pc

    from grappe.refdata import clusters, naf, provenance, territories

    table = naf.table()
    levels = {lvl: int(pc.sum(pc.equal(table["level"], lvl)).as_py()) for lvl in naf.LEVELS}
    counts = {
        "naf": levels,
        "communes": territories.communes().num_rows,
        "commune_aliases": territories.commune_aliases().num_rows,
        "epci": territories.epcis().num_rows,
        "departements": territories.departements().num_rows,
        "regions": territories.regions().num_rows,
        "commune_neighbours": territories.neighbours().num_rows,
        "traded_sous_classes": int(pc.sum(clusters.definitions().column("traded")).as_py()),
        "cluster_categories": clusters.categories().num_rows,
    }
    path = territories.ze_path()
    zones = territories.zones_emploi()
    ze: dict[str, Any] = {"imported": territories.ze_imported(), "path": str(path),
                          "communes": zones.num_rows, "zones": len(pc.unique(zones["ze"]))}
    return {"counts": counts, "zones_emploi": ze, "provenance": provenance()}


@app.command("info", epilog="Exemple : grappe refdata info --format json")
def info(
    output: Annotated[str, typer.Option("--format", help="Présentation : text ou json.")] = "text",
) -> None:
    """Afficher les données de référence embarquées, leur provenance et l'état des ZE."""
    with handle_errors():
        if output not in ("text", "json"):
            from grappe.errors import InputError

            raise InputError(f"format inconnu : {output!r} (attendu : text, json)")
        data = _info()
    if output == "json":
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))
        return
    counts = data["counts"]
    table = Table(title="Données de référence embarquées")
    table.add_column("Table")
    table.add_column("Lignes", justify="right")
    for lvl, n in counts["naf"].items():
        table.add_row(f"NAF rév. 2 — {lvl}", str(n))
    labels = {"communes": "Communes", "commune_aliases": "Codes commune acceptés",
              "epci": "EPCI", "departements": "Départements", "regions": "Régions",
              "commune_neighbours": "Paires de communes voisines",
              "traded_sous_classes": "Sous-classes exposées (les autres : présentielles)",
              "cluster_categories": "Catégories de grappes"}
    for key, text in labels.items():
        table.add_row(text, str(counts[key]))
    console.print(table)

    sources: dict[str, dict[str, str]] = {}
    for entry in data["provenance"]["files"].values():
        for source in entry["sources"]:
            # a registry package, or a file of the shared data a script derived from
            sources[source.get("package") or source["file"]] = source
    prov = Table(title=f"Provenance (construit le {data['provenance']['built']})")
    for column in ("Paquet ou fichier", "Version", "Licence"):
        prov.add_column(column)
    for name in sorted(sources):
        prov.add_row(name, sources[name]["version"], sources[name]["licence"])
    console.print(prov)

    ze = data["zones_emploi"]
    where = (f"importées : {ze['path']}" if ze["imported"] else
             "embarquées ; une édition plus récente : `grappe refdata import-ze FICHIER.xlsx`")
    console.print(f"Zones d'emploi : {ze['zones']} zones, {ze['communes']} communes ({where}).")


@app.command("naf", epilog="Exemple : grappe refdata naf 2562A")
def naf_code(
    code: Annotated[
        str, typer.Argument(metavar="CODE", help="Code NAF de tout niveau (ex. : 25.62A, 2562A, 25, C).")
    ],
) -> None:
    """Afficher un code NAF : niveau, libellé et codes parents."""
    import pyarrow.compute as pc

    from grappe.refdata import clusters, naf

    with handle_errors():
        canonical = naf.normalize(code)
        chain = [canonical]
        while (up := naf.parent(chain[-1])) is not None:
            chain.append(up)
        children = naf.table().filter(pc.equal(naf.table()["parent"], canonical)).num_rows
    console.print(f"[bold]{canonical}[/] ({naf.level(canonical)}) : {naf.label(canonical)}",
                  highlight=False)
    for parent in chain[1:]:
        console.print(f"  dans {parent} ({naf.level(parent)}) : {naf.label(parent)}",
                      highlight=False)
    if children:
        console.print(f"  {children} codes au niveau inférieur", highlight=False)
    if naf.level(canonical) == "sous-classe":
        category = clusters.category(canonical)
        if category is None:
            console.print("  activité présentielle (hors des catégories de grappes)",
                          highlight=False)
        else:
            name = clusters.members()[category][0]
            console.print(f"  activité exposée, catégorie de grappe : {name} ({category})",
                          highlight=False)
