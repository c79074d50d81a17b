"""`grappe demo`: generate a synthetic fabric of all France, import it, summarise it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from grappe.cli._console import RichReporter, console, handle_errors, number

if TYPE_CHECKING:
    import numpy as np

    from grappe.fabric.store import FabricStore, ImportReport
    from grappe.fabric.synth import SynthReport
    from grappe.progress import Reporter

DEFAULT_ESTABLISHMENTS = 1_000_000
"""Rows of the demo file: about a minute from generation to summary on a 2-core machine."""

DEFAULT_SEED = 2025

INVALID_RATE = 0.001
"""Share of defective rows mixed into the demo file, so that the quarantine has something."""




def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to the main app."""

    @app.command("demo", epilog="Exemple : grappe demo --establishments 200000 --seed 7")
    def demo(
        folder: Annotated[
            Path | None,
            typer.Option("--dir", help="Dossier de la démonstration (défaut : GRAPPE_HOME/demo)."),
        ] = None,
        establishments: Annotated[
            int,
            typer.Option("--establishments", min=1,
                         help="Nombre d'établissements du fichier SIRENE synthétique."),
        ] = DEFAULT_ESTABLISHMENTS,
        seed: Annotated[
            int,
            typer.Option("--seed", min=0, help="Graine du générateur (même graine, même fichier)."),
        ] = DEFAULT_SEED,
    ) -> None:
        """Démonstration : tissu productif synthétique de toute la France, importé et résumé."""
        with handle_errors():
            from grappe.config import get_settings

            folder = folder if folder is not None else get_settings().home / "demo"
            with RichReporter() as reporter:
                synth, imports, store = _generate_and_import(folder, establishments, seed, reporter)
            _print_generation(synth)
            _print_imports(imports)
            _summary(store)
            _top_candidates(store, seed)
            _next_steps(store.path)


def _generate_and_import(
    folder: Path, establishments: int, seed: int, reporter: Reporter
) -> tuple[SynthReport, list[ImportReport], FabricStore]:
    """Write the synthetic file and import it into the demo's own store.

    File and store are named after the size and the seed, so that running the demo again
    with the same arguments regenerates the same bytes and the import is a no-op.
    """
    from grappe.fabric.store import FabricStore
    from grappe.fabric.synth import write_synthetic

    name = f"sirene_synthetique_{establishments}_{seed}"
    synth = write_synthetic(folder / f"{name}.csv", establishments, seed,
                            invalid_rate=INVALID_RATE, reporter=reporter)
    store = FabricStore.open(folder / f"magasin_{establishments}_{seed}")
    imports = store.import_files([synth.path], format="sirene", reporter=reporter)
    return synth, imports, store


def _print_generation(synth: SynthReport) -> None:
    console.print(
        f"Fichier SIRENE synthétique : {synth.path} ({number(synth.rows)} établissements, "
        f"dont {number(synth.invalid_rows)} lignes volontairement erronées, {synth.seconds:.1f} s)",
        soft_wrap=True,
    )
    table = Table(title="Grappes plantées dans le fichier")
    table.add_column("grappe")
    table.add_column("NAF")
    table.add_column("communes", justify="right")
    table.add_column("établissements ajoutés", justify="right")
    for cluster in synth.planted:
        table.add_row(cluster.name, cluster.naf, str(len(cluster.communes)),
                      number(cluster.establishments))
    console.print(table)


def _print_imports(imports: list[ImportReport]) -> None:
    for r in imports:
        console.print(
            f"{r.path.name} : lignes lues = lignes stockées + lignes en quarantaine : "
            f"{number(r.rows_read)} = {number(r.rows_stored)} + {number(r.rows_quarantined)}"
            + (" (fichier déjà importé, rien de changé)" if r.skipped else ""),
            soft_wrap=True,
        )


def _summary(store: FabricStore) -> None:
    """Print the fabric of the store: région x section, estimated employment, quarantine."""
    import numpy as np

    from grappe.detection.aggregate import aggregate
    from grappe.refdata import naf, territories

    counts = aggregate(store, "region", "section")
    region_names = territories.names("region")
    section_labels = dict(
        zip(naf.table()["code"].to_pylist(), naf.table()["label"].to_pylist(), strict=True)
    )
    establishments = counts.establishments.toarray()
    central = counts.employment.toarray().sum(axis=1)
    low = counts.employment_low.toarray().sum(axis=1)
    high = counts.employment_high.toarray().sum(axis=1)
    order = np.argsort(-establishments.sum(axis=1), kind="stable")

    names = [region_names.get(str(c), str(c)) for c in counts.territories]
    for part, columns in enumerate(_fit_columns(names, establishments, console.width)):
        title = "Établissements actifs par région et section NAF"
        cross = Table(title=title if part == 0 else None)
        cross.add_column("région", no_wrap=True)
        for j in columns:
            cross.add_column(str(counts.sectors[j]), justify="right", no_wrap=True)
        for i in order:
            cross.add_row(names[i], *(number(establishments[i, j]) for j in columns))
        cross.add_row("France", *(number(establishments[:, j].sum()) for j in columns),
                      style="bold")
        console.print(cross)
    console.print("Sections : " + " ; ".join(
        f"{s} {section_labels.get(str(s), '')}" for s in counts.sectors
    ), style="dim")

    employment = Table(title="Emploi salarié estimé (d'après les tranches d'effectifs)")
    # Long région names may wrap; numbers never do.
    employment.add_column("région")
    employment.add_column("établissements actifs", justify="right")
    employment.add_column("emploi estimé", justify="right", no_wrap=True)
    employment.add_column("fourchette", justify="right", no_wrap=True)
    for i in order:
        code = str(counts.territories[i])
        employment.add_row(region_names.get(code, code), number(establishments[i].sum()),
                           number(central[i]), f"{number(low[i])} – {number(high[i])}")
    employment.add_row("France", number(establishments.sum()), number(central.sum()),
                       f"{number(low.sum())} – {number(high.sum())}", style="bold")
    console.print(employment)

    info = store.info()
    quarantine = Table(title="Lignes en quarantaine par motif")
    quarantine.add_column("motif")
    quarantine.add_column("lignes", justify="right")
    for reason, rows in info.quarantine_by_reason.items():
        quarantine.add_row(reason, number(rows))
    quarantine.add_row("total", number(sum(info.quarantine_by_reason.values())), style="bold")
    console.print(quarantine)


def _fit_columns(rows: list[str], values: np.ndarray, width: int) -> list[list[int]]:
    """Split the section columns into groups whose tables fit in the console width."""
    label = max(len(r) for r in [*rows, "région", "France"]) + 4  # borders and padding
    cell = len(number(values.sum(axis=0).max())) + 3
    per_table = max(1, (width - label) // cell)
    columns = list(range(values.shape[1]))
    return [columns[k:k + per_table] for k in range(0, len(columns), per_table)]


def _top_candidates(store: FabricStore, seed: int) -> None:
    """Print the 20 best potential clusters: zones d'emploi x sous-classe (ZE are packaged)."""
    from grappe.cli.detect import print_top
    from grappe.detection.candidates import detect

    with RichReporter() as reporter:
        found = detect(store, level="ze", sectors="sous-classe", seed=seed, reporter=reporter)
    best = found.top(20)
    print_top(best, title=f"Les {len(best)} grappes potentielles les mieux classées (zones "
                          "d'emploi x sous-classes NAF, activités exposées)")


def next_commands(store: Path) -> list[str]:
    """The commands to try next on the demo's store (printed after the demo)."""
    where = _quoted(store)
    return [
        f"grappe detect --store {where} --level ze --top 30",
        f"grappe detect --store {where} --level departement --format xlsx --out candidats.xlsx",
        f"grappe indicators --store {where} --level ze --sectors division --out indicateurs.xlsx",
        f"grappe fabric info --store {where}",
    ]


def _quoted(path: Path) -> str:
    """A path a shell reads back as one word."""
    import shlex

    return shlex.quote(str(path))


def _next_steps(store: Path) -> None:
    console.print(f"Magasin de la démonstration : {store}", soft_wrap=True, highlight=False)
    console.print("Pour continuer :", highlight=False)
    for command in next_commands(store):
        console.print(f"  {command}", soft_wrap=True, highlight=False, markup=False)
