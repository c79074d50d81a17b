"""`grappe fabric` commands: import files into the store, describe it, generate test data."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from grappe.cli._console import RichReporter, console, handle_errors, number, print_error

if TYPE_CHECKING:
    from grappe.fabric.store import ImportReport, StoreInfo

app = typer.Typer(
    help="Tissu productif : import de fichiers d'établissements et d'effectifs, état du magasin, "
    "quarantaine, retrait d'une source.",
    epilog="Exemple : grappe fabric import StockEtablissement.csv --format sirene --store magasin",
    no_args_is_help=True,
)

StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="Dossier du magasin (ex. : magasin ; défaut : GRAPPE_HOME/store)."),
]




def _summary(reports: list[ImportReport]) -> Table:
    table = Table(title="Import")
    for column in ("fichier", "format", "lues", "stockées", "en quarantaine", "durée"):
        table.add_column(column, justify="left" if column in ("fichier", "format") else "right")
    for r in reports:
        if r.refused is not None:
            table.add_row(r.path.name, "refusé", "–", "–", "–", "–")
            continue
        table.add_row(
            r.path.name,
            r.format + (" (déjà importé)" if r.skipped else ""),
            number(r.rows_read),
            number(r.rows_stored),
            number(r.rows_quarantined),
            f"{r.seconds:.1f} s",
        )
    return table


@app.command(
    "import",
    epilog="Exemple : grappe fabric import StockEtablissement.csv --format sirene --store magasin",
)
def import_(
    paths: Annotated[
        list[Path],
        typer.Argument(metavar="FICHIERS", help="Fichiers CSV ou Parquet à importer (ex. : "
                       "StockEtablissement.csv)."),
    ],
    format: Annotated[
        str | None,
        typer.Option("--format", help="Format des fichiers : sirene, urssaf ou table "
                     "(détecté d'après l'en-tête par défaut)."),
    ] = None,
    store: StoreOption = None,
    delimiter: Annotated[
        str | None,
        typer.Option("--delimiter", help="Séparateur CSV, par ex. ';' (détecté par défaut)."),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="Encodage CSV : utf-8, cp1252 (Windows) ou latin-1 "
                     "(détecté par défaut : UTF-8, sinon Windows-1252)."),
    ] = None,
) -> None:
    """Importer des fichiers SIRENE, URSSAF ou des tables agrégées dans le magasin.

    Chaque fichier est importé en entier ou refusé en entier ; un fichier refusé
    n'empêche pas l'import des autres. La commande sort avec le statut 2 si un
    fichier a été refusé.
    """
    with handle_errors():
        from grappe.fabric.store import FabricStore

        fabric = FabricStore.open(store)
        with RichReporter() as reporter:
            reports = fabric.import_files(paths, format=format, delimiter=delimiter,
                                          encoding=encoding, reporter=reporter, errors="report")
        console.print(_summary(reports))
        for r in reports:
            if r.refused is not None:
                continue
            console.print(
                f"{r.path.name} : lignes lues = lignes stockées + lignes en quarantaine : "
                f"{number(r.rows_read)} = {number(r.rows_stored)} + {number(r.rows_quarantined)}"
                + (" (fichier déjà importé, rien de changé)" if r.skipped else "")
            )
        if any(r.rows_quarantined for r in reports if not r.skipped):
            console.print("Détail des lignes en quarantaine : grappe fabric quarantine")
        refused = [r.refused for r in reports if r.refused is not None]
        for reason in refused:
            print_error(reason)
        if refused:
            sys.exit(2)


def _info_text(info: StoreInfo) -> None:
    console.print(f"Magasin : {info.path}")
    if not info.sources:
        console.print("Aucune source importée.")
        return
    sources = Table(title="Sources")
    for column in ("source", "type", "format", "fichier", "lues", "stockées", "quarantaine",
                   "importée le"):
        sources.add_column(column)
    for s in info.sources:
        sources.add_row(s["source_id"][:12], s["kind"], s["format"], Path(s["path"]).name,
                        number(s["rows_read"]), number(s["rows_stored"]), number(s["rows_quarantined"]),
                        s["imported_at"])
    console.print(sources)
    rows = Table(title="Lignes stockées")
    rows.add_column("niveau")
    rows.add_column("lignes", justify="right")
    rows.add_row("établissements", number(info.rows_by_kind.get("establishments", 0)))
    for level, n in info.rows_by_level.items():
        rows.add_row(f"agrégats : {level}", number(n))
    console.print(rows)
    if info.dates != (None, None):
        console.print(f"Dates des établissements : du {info.dates[0]} au {info.dates[1]}")
    if info.years != (None, None):
        console.print(f"Années des agrégats : de {info.years[0]} à {info.years[1]}")
    if info.quarantine_by_reason:
        reasons = Table(title="Quarantaine par motif")
        reasons.add_column("motif")
        reasons.add_column("lignes", justify="right")
        for reason, n in info.quarantine_by_reason.items():
            reasons.add_row(reason, number(n))
        console.print(reasons)
    else:
        console.print("Quarantaine vide.")


@app.command("info", epilog="Exemple : grappe fabric info --store magasin --format json")
def info(
    store: StoreOption = None,
    format: Annotated[
        str, typer.Option("--format", help="Présentation : text ou json.")
    ] = "text",
) -> None:
    """Décrire le magasin : sources, lignes par niveau, quarantaine par motif."""
    with handle_errors():
        if format not in ("text", "json"):
            from grappe.errors import InputError

            raise InputError(f"--format {format!r} inconnu ; valeurs possibles : text, json")
        from grappe.fabric.store import FabricStore

        result = FabricStore.open(store).info()
        if format == "json":
            typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        else:
            _info_text(result)


#: Columns of the quarantine export and their French labels (XLSX headers).
QUARANTINE_LABELS = {
    "source_id": "Source",
    "file": "Fichier",
    "line": "Ligne",
    "column": "Colonne",
    "value": "Valeur",
    "reason": "Motif",
}
QUARANTINE_FORMATS = ("text", "csv", "xlsx")
_QUARANTINE_SHOWN = 50
"""Rows the text listing shows without --top: the export holds them all."""


def _quarantine_format(fmt: str | None, out: Path | None) -> str:
    """The format asked, else the one of ``--out``'s suffix, else text (``InputError``)."""
    from grappe.cli._analysis import choice
    from grappe.errors import InputError

    if fmt is None:
        fmt = out.suffix.lower().lstrip(".") if out is not None else "text"
        if out is not None and fmt not in QUARANTINE_FORMATS[1:]:
            raise InputError(f"--out {out.name} : extension attendue .csv ou .xlsx")
    choice("--format", fmt, QUARANTINE_FORMATS)
    if fmt == "xlsx" and out is None:
        raise InputError("--format xlsx : indiquez un fichier avec --out")
    if fmt == "text" and out is not None:
        raise InputError("--out : un fichier s'écrit en csv ou xlsx (--format csv ou xlsx)")
    return fmt


@app.command(
    "quarantine",
    epilog="Exemple : grappe fabric quarantine --store magasin --format xlsx --out quarantaine.xlsx",
)
def quarantine(
    store: StoreOption = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="Une seule source : son identifiant (ou son début, comme "
                     "fabric info l'affiche) ou le nom du fichier importé (ex. : "
                     "StockEtablissement.csv)."),
    ] = None,
    format: Annotated[
        str | None,
        typer.Option("--format", help="Présentation : text, csv ou xlsx (défaut : d'après "
                     "l'extension de --out, sinon text)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Fichier à écrire, .csv ou .xlsx (ex. : quarantaine.xlsx ; "
                     "CSV sans --out : sur la sortie standard)."),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option("--top", min=1, help=f"Nombre de lignes au plus (défaut : {_QUARANTINE_SHOWN} "
                     "à l'écran, toutes dans un fichier)."),
    ] = None,
) -> None:
    """Lister ou exporter les lignes en quarantaine : fichier, ligne, colonne, valeur, motif."""
    with handle_errors():
        from grappe.fabric.store import FabricStore

        fmt = _quarantine_format(format, out)
        fabric = FabricStore.open(store)
        chosen = [fabric.resolve_source(source)] if source is not None else \
            fabric.sources().to_pylist()
        source_id = chosen[0]["source_id"] if source is not None else None
        limit = top if top is not None or fmt != "text" else _QUARANTINE_SHOWN
        rows = fabric.quarantine(source_id, limit=limit)
        if fmt == "text":
            _quarantine_text(rows.to_pylist(), sum(int(s["rows_quarantined"]) for s in chosen))
            return
        from grappe.kit import export

        if out is None:
            export.write_csv(sys.stdout, rows, columns=list(QUARANTINE_LABELS))
            return
        export.write(out, rows, columns=list(QUARANTINE_LABELS), labels=QUARANTINE_LABELS,
                     sheet="Quarantaine")
        console.print(f"Écrit : {out} ({number(rows.num_rows)} lignes en quarantaine)")


def _quarantine_text(rows: list[dict[str, Any]], total: int) -> None:
    if not rows:
        console.print("Quarantaine vide.")
        return
    table = Table(title="Lignes en quarantaine")
    for column in ("fichier", "ligne", "colonne", "valeur", "motif"):
        table.add_column(column, justify="right" if column == "ligne" else "left",
                         overflow="fold")
    for r in rows:
        table.add_row(Path(str(r["file"])).name, number(r["line"]) if r["line"] is not None
                      else "–", str(r["column"] or "–"), str(r["value"] or "–"),
                      str(r["reason"]))
    console.print(table, markup=False)
    if total > len(rows):
        console.print(f"{number(len(rows))} lignes sur {number(total)} ; toutes : --format csv "
                      "ou --out quarantaine.xlsx")


@app.command(
    "remove",
    epilog="Exemple : grappe fabric remove StockEtablissement.csv --store magasin",
)
def remove(
    source: Annotated[
        str,
        typer.Argument(metavar="SOURCE", help="La source à retirer : son identifiant (ou son "
                       "début, comme fabric info l'affiche) ou le nom du fichier importé "
                       "(ex. : StockEtablissement.csv)."),
    ],
    store: StoreOption = None,
) -> None:
    """Retirer une source du magasin : ses lignes, sa quarantaine et sa fiche, d'un seul coup.

    La source disparaît entière ou reste entière, même si la commande est interrompue.
    """
    with handle_errors():
        from grappe.fabric.store import FabricStore

        with RichReporter() as reporter:
            removed = FabricStore.open(store).remove_source(source, reporter=reporter)
        console.print(
            f"Source retirée : {removed.path.name} ({removed.source_id[:12]}, "
            f"{number(removed.rows_stored)} lignes stockées, "
            f"{number(removed.rows_quarantined)} en quarantaine)"
        )


@app.command(
    "synth",
    epilog="Exemple : grappe fabric synth --establishments 100000 --seed 1 --invalid-rate 0.01 "
    "--out synthetique.csv",
)
def synth(
    out: Annotated[
        Path, typer.Option("--out", help="Fichier à écrire : .csv ou .parquet (ex. : synthetique.csv).")
    ],
    establishments: Annotated[
        int, typer.Option("--establishments", help="Nombre d'établissements.")
    ] = 100_000,
    seed: Annotated[int, typer.Option("--seed", help="Graine aléatoire (même graine, même fichier).")] = 0,
    region: Annotated[
        str | None, typer.Option("--region", help="Code COG d'une région, ex. 84 (toute la France sinon).")
    ] = None,
    invalid_rate: Annotated[
        float, typer.Option("--invalid-rate", help="Part de lignes invalides, de 0 à 1 (ex. : 0.01).")
    ] = 0.0,
    strength: Annotated[
        float, typer.Option("--strength", help="Force des clusters plantés (0 : aucun).")
    ] = 1.0,
) -> None:
    """Générer un fichier SIRENE synthétique avec des clusters plantés."""
    from grappe.fabric.synth import write_synthetic

    with handle_errors():
        with RichReporter() as reporter:
            report = write_synthetic(out, establishments, seed, region=region,
                                     invalid_rate=invalid_rate, strength=strength,
                                     reporter=reporter)
        console.print(
            f"Écrit : {report.path} ({number(report.rows)} établissements dont "
            f"{number(report.invalid_rows)} invalides, {report.seconds:.1f} s)"
        )
