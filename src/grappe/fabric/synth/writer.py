"""Writing a synthetic SIRENE file: checks the arguments, draws the chunks, reports."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from grappe.errors import InputError
from grappe.fabric.synth.laws import (
    CHUNK_ROWS,
    DEFECTS,
    MAX_ROWS,
    SCHEMA,
    SIRENE_COLUMNS,
    PlantedCluster,
)
from grappe.fabric.synth.rows import generate
from grappe.fabric.synth.tables import load_tables, plan_planted
from grappe.progress import SILENT, Reporter


@dataclass(frozen=True)
class SynthReport:
    """What ``write_synthetic`` wrote.

    Attributes
    ----------
    path
        The file written.
    rows
        Establishment rows (the header excluded).
    invalid_rows
        Rows carrying one defect each (see ``DEFECTS``).
    planted
        The clusters planted, with their establishment counts.
    seconds
        Wall time of the generation.
    invalid_by_defect
        ``invalid_rows`` broken down by kind of defect.
    """

    path: Path
    rows: int
    invalid_rows: int
    planted: list[PlantedCluster]
    seconds: float
    invalid_by_defect: dict[str, int] = field(default_factory=dict)




def write_synthetic(
    out: Path,
    establishments: int,
    seed: int,
    region: str | None = None,
    invalid_rate: float = 0.0,
    strength: float = 1.0,
    reporter: Reporter = SILENT,
) -> SynthReport:
    """Write a synthetic SIRENE StockEtablissement file (CSV or Parquet by extension).

    Parameters
    ----------
    out
        Output path ending in ``.csv`` or ``.parquet``; its folder is created if needed.
        The file appears only once complete (written aside, then renamed).
    establishments
        Number of establishment rows, from 1 to ``MAX_ROWS``.
    seed
        Seed of the random generators (a non-negative integer): the same arguments give
        the same bytes.
    region
        COG code of a région (e.g. ``"84"``) to restrict the communes to; all of France
        when None.
    invalid_rate
        Share of rows, between 0 and 1, that get one realistic defect each (``DEFECTS``).
    strength
        Multiplier of the planted clusters (``PLANTED_CLUSTERS``): 1 makes them clearly
        detectable, 0 plants none.
    reporter
        Receives one step whose total is the number of rows.

    Returns
    -------
    SynthReport
        The path, the row and defect counts and the clusters planted.

    Raises
    ------
    InputError
        When an argument is out of range or the extension is not ``.csv`` / ``.parquet``.
    UnknownCodeError
        When ``region`` is not a région code.
    """
    began = time.perf_counter()
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in {".csv", ".parquet"}:
        raise InputError(
            f"{out} : extension {out.suffix or '(aucune)'!r} non prise en charge ; "
            "attendu .csv ou .parquet"
        )
    if isinstance(establishments, bool) or not isinstance(establishments, int) \
            or not 1 <= establishments <= MAX_ROWS:
        raise InputError(
            f"establishments = {establishments!r} : attendu un entier entre 1 et {MAX_ROWS}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed = {seed!r} : attendu un entier >= 0")
    if not 0.0 <= invalid_rate <= 1.0:
        raise InputError(f"invalid_rate = {invalid_rate!r} : attendu un taux entre 0 et 1")
    if not 0.0 <= strength <= 100.0:
        raise InputError(f"strength = {strength!r} : attendu une intensité entre 0 et 100")
    if region is not None:
        region = region.strip()

    tables = load_tables(region)
    plan = plan_planted(tables, establishments, seed, strength)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    defects = dict.fromkeys(DEFECTS, 0)
    chunks = generate(tables, plan, seed, establishments, invalid_rate)
    step = reporter.step("Génération du tissu productif synthétique", total=establishments)
    try:
        with step as advance:
            if suffix == ".csv":
                with partial.open("wb") as sink:
                    # INSEE's header is not quoted; pyarrow would quote it.
                    sink.write((",".join(SIRENE_COLUMNS) + "\n").encode("utf-8"))
                    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
                    with pacsv.CSVWriter(sink, SCHEMA, write_options=options) as writer:
                        for table, counts in chunks:
                            writer.write_table(table)
                            _add(defects, counts)
                            advance(table.num_rows)
            else:
                with pq.ParquetWriter(partial, SCHEMA, compression="zstd") as parquet:
                    for table, counts in chunks:
                        parquet.write_table(table, row_group_size=CHUNK_ROWS)
                        _add(defects, counts)
                        advance(table.num_rows)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)

    planted_counts = np.bincount(plan.cluster, minlength=len(plan.sites))
    planted = [
        PlantedCluster(
            name=site.name,
            naf=site.naf,
            communes=plan.site_communes[i],
            establishments=int(planted_counts[i]),
        )
        for i, site in enumerate(plan.sites)
    ]
    return SynthReport(
        path=out,
        rows=establishments,
        invalid_rows=sum(defects.values()),
        planted=planted,
        seconds=time.perf_counter() - began,
        invalid_by_defect=defects,
    )


def _add(total: dict[str, int], part: dict[str, int]) -> None:
    for key, value in part.items():
        total[key] += value
