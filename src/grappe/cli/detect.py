"""`grappe detect`: find, test, score and rank the potential clusters of the fabric store."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.table import Table

from grappe.cli._analysis import (
    AtOption,
    EngineOption,
    LevelOption,
    ReferenceOption,
    SectorsOption,
    StoreOption,
    analysis_input,
    check_reference,
)
from grappe.cli._console import RichReporter, console, err_console, handle_errors, number
from grappe.detection.levels import DEFAULT_MIN_EMPLOYMENT, DEFAULT_MIN_ESTABLISHMENTS
from grappe.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from grappe.detection.indicators import OutputFormat

#: Candidates shown in the terminal and on the map without --top.
DEFAULT_TOP = 20
# Imported files named in a map's caption before "et N autre(s)".
_SOURCES_NAMED = 3


def register(app: typer.Typer) -> None:
    """Add the ``detect`` command to the main app."""
    app.command(
        "detect",
        epilog="Exemple : grappe detect --store magasin --level ze --format csv --out candidats.csv",
    )(detect_command)


def detect_command(
    *,
    store: StoreOption = None,
    level: LevelOption = "ze",
    sectors: SectorsOption = "sous-classe",
    engine: EngineOption = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="csv (pour les programmes), csv-excel (Excel en français : « ; », virgule "
            "décimale), xlsx, json, parquet ou geojson (défaut : extension de --out, sinon csv).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Fichier des candidats (sinon : tableau des meilleurs)."),
    ] = None,
    map_path: Annotated[
        Path | None,
        typer.Option("--map", help="Carte des meilleurs candidats (.png ou .svg)."),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option(
            "--top",
            min=1,
            help="Nombre de meilleurs candidats affichés et cartographiés (défaut : 20) ; "
            "avec --out ou --format, seuls ceux-là sont écrits (défaut : tous).",
        ),
    ] = None,
    at: AtOption = None,
    permutations: Annotated[
        int,
        typer.Option("--permutations", min=0, help="Permutations du test Gi* (0 : analytique)."),
    ] = 999,
    alpha: Annotated[
        float,
        typer.Option("--alpha", help="Taux de fausses découvertes du test Gi* (entre 0 et 1)."),
    ] = 0.05,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Graine des permutations (même graine, même résultat).")
    ] = 0,
    min_establishments: Annotated[
        int,
        typer.Option(
            "--min-establishments",
            min=0,
            help="Masse minimale : établissements employeurs d'un candidat (établissements "
            "pour des données sans effectifs).",
        ),
    ] = DEFAULT_MIN_ESTABLISHMENTS,
    min_employment: Annotated[
        int,
        typer.Option(
            "--min-employment",
            min=0,
            help="Masse minimale : emplois (estimés) d'un candidat, quand les données ont des "
            "effectifs.",
        ),
    ] = DEFAULT_MIN_EMPLOYMENT,
    include_local: Annotated[
        bool,
        typer.Option(
            "--include-local",
            help="Garder aussi les activités présentielles (commerce de proximité, BTP, "
            "santé…), marquées traded=false ; par défaut seules les activités exposées.",
        ),
    ] = False,
    reference: ReferenceOption = None,
    save: Annotated[
        str | None,
        typer.Option(
            "--save",
            help="Garder ce classement sous ce nom, avec ses paramètres et sa date, pour "
            "l'observatoire du site web (GRAPPE_HOME/observatory/NOM ; un même nom remplace "
            "l'ancien).",
        ),
    ] = None,
) -> None:
    """Classer les grappes potentielles : territoire x secteur, preuves et score.

    Chaque candidat (un secteur présent dans un territoire) porte ses preuves : effectifs et
    leur fourchette, part de PME, quotient de localisation, règle « cluster fort » de l'U.S.
    Cluster Mapping, étoiles de l'European Cluster Observatory, test Gi* de point chaud (sur les
    communes, permutations, Benjamini-Hochberg), taux de création ; le score combine taille,
    spécialisation, significativité et dynamisme ; une phrase dit les raisons du classement.
    Les candidats sous la masse minimale (établissements employeurs, emplois) sont écartés.
    Par défaut, seules les activités exposées (qui vendent hors de leur territoire) sont
    candidates ; --include-local ajoute les activités présentielles. Avec --reference, un
    magasin régional se compare au magasin national ; chaque sortie nomme sa référence.
    """
    with handle_errors():
        from grappe.detection import runs
        from grappe.detection.candidates import candidate_format, detect
        from grappe.detection.ranking import MinimumMass

        given = analysis_input(store, level, sectors, engine, at)
        if not 0 < alpha < 1:
            raise InputError(f"--alpha {alpha!r} : attendu un taux strictement entre 0 et 1")
        fmt = candidate_format(out, output) if (out is not None or output is not None) else None
        if fmt is not None and out is None and fmt in ("parquet", "geojson", "xlsx"):
            raise InputError(f"--format {fmt} : indiquez un fichier avec --out")
        check_reference(reference)
        if map_path is not None and map_path.suffix.lower() not in (".png", ".svg"):
            raise InputError(f"--map {map_path} : extension attendue .png ou .svg")
        if save is not None:
            runs.check_name(save)
        with RichReporter() as reporter:
            found = detect(
                given.store,
                level=given.level,
                sectors=given.sectors,
                engine=given.engine,
                at=given.at,
                permutations=permutations,
                alpha=alpha,
                seed=seed,
                reporter=reporter,
                include_local=include_local,
                minimum_mass=MinimumMass(min_establishments, min_employment),
                reference=reference,
            )
        if found.basis == "establishments":
            err_console.print(
                "Données sans effectifs : la masse et la spécialisation reposent sur les "
                "établissements.",
                highlight=False,
            )
        if len(found) == 0:
            err_console.print(
                f"Aucun candidat n'atteint la masse minimale (--min-establishments "
                f"{min_establishments}, --min-employment {min_employment}).",
                highlight=False,
            )
        shown = top if top is not None else DEFAULT_TOP
        if out is not None and fmt is not None:
            found.write(out, fmt, top=top)
            written = len(found) if top is None else min(top, len(found))
            err_console.print(
                f"{written} candidats écrits dans {out} ({fmt}).", highlight=False
            )
        elif fmt is not None:
            from grappe.detection.indicators import write_frame

            frame = found.frame if top is None else found.top(top)
            # parquet, geojson and xlsx were refused above without --out
            write_frame(frame, sys.stdout, cast("OutputFormat", fmt))
        else:
            best = found.top(shown)
            print_top(
                best,
                title=_title(found.territory_level, len(best), found.date, found.include_local),
            )
            err_console.print(f"Référence des quotients de localisation : {found.reference}.",
                              highlight=False)
        if map_path is not None:
            from grappe.detection.maps import COMMUNE_OUTLINES, commune_outlines_version

            if given.level == "commune" and commune_outlines_version() is None:
                err_console.print(
                    f"Contours des communes absents (paquet {COMMUNE_OUTLINES} non installé : "
                    "pip install 'grappe[maps]') : communes dessinées sur les départements.",
                    highlight=False,
                )
            found.map(map_path, top=shown, source=_store_source(given.store))
            err_console.print(f"Carte écrite : {map_path}", highlight=False)
        if save is not None:
            runs.save(found, save, store=given.store, sectors=given.sectors)
            err_console.print(f"Classement gardé sous le nom {save} (observatoire).", highlight=False)


def print_top(frame: pd.DataFrame, title: str) -> None:
    """Print candidates as a Rich table with French headers."""
    table = Table(title=title)
    for header, justify in (
        ("rang", "right"), ("territoire", "left"), ("secteur", "left"),
        ("étab.", "right"), ("emploi estimé", "right"), ("QL", "right"),
        ("fort", "center"), ("étoiles", "center"), ("Gi* z", "right"),
        ("p ajustée", "right"), ("création", "right"), ("score", "right"),
    ):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for row in frame.itertuples(index=False):
        table.add_row(
            str(row.rank),
            f"{row.territory_name} ({row.territory_code})",
            f"{row.sector} {_cut(str(row.sector_name))}" + ("" if row.traded else " (présentiel)"),
            number(row.establishments),
            f"{number(row.employment)} ({number(row.employment_low)}–{number(row.employment_high)})",
            _decimal(row.lq, 1),
            "oui" if row.strong else "",
            "★" * int(row.stars),
            _decimal(row.gi_z, 1),
            _p(row.p_adjusted) + (" *" if row.significant else ""),
            _percent(row.creation_rate),
            _decimal(row.score, 3),
        )
    console.print(table)
    console.print(
        "* point chaud Gi* significatif (Benjamini-Hochberg). QL : quotient de localisation "
        "de l'emploi ; fort : règle de l'U.S. Cluster Mapping ; étoiles : European Cluster "
        "Observatory.",
        style="dim",
    )


def _title(level: str, top: int, date: str, include_local: bool = False) -> str:
    when = f" au {date}" if date else ""
    scope = "activités exposées et présentielles" if include_local else "activités exposées"
    return f"Grappes potentielles : les {top} meilleurs candidats (niveau {level}, {scope}){when}"




def _store_source(store: Path) -> str:
    """The files behind a store, for the caption of a map: names and formats."""
    from grappe.fabric.store import FabricStore

    rows = FabricStore.open(store).sources().to_pylist()
    files = [f"{Path(r['path']).name} ({r['format']})" for r in rows[:_SOURCES_NAMED]]
    more = len(rows) - _SOURCES_NAMED
    return ", ".join(files) + (f" et {more} autre(s) fichier(s)" if more > 0 else "")


def _decimal(value: float, digits: int) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.{digits}f}".replace(".", ",")


def _p(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.1e}".replace(".", ",") if value < 0.001 else f"{value:.3f}".replace(".", ",")


def _percent(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{100 * value:.1f} %".replace(".", ",")


def _cut(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"

