"""Synthetic SIRENE establishment files: a realistic French productive fabric with planted clusters.

The file has the layout of INSEE's ``StockEtablissement`` (the current column set, in INSEE's
order, every value a string, empty where not simulated), as ``,``-separated UTF-8 CSV with a
header or as Parquet, chosen by the extension of the output path. It is written chunk by
chunk (``CHUNK_ROWS`` rows, vectorised NumPy and Arrow per chunk), so 15 million rows fit in
a bounded memory. The chunk size is a constant and every chunk draws from its own generator
seeded by ``(seed, chunk index)``: the same arguments give the same bytes.

What is simulated, and on which assumptions
-------------------------------------------
- **Identifiers.** Legal units (SIREN) are a bijection of a running firm number onto
  ``360000000..999999999`` (so never La Poste's ``356000000``, the one SIRET whose key
  follows another rule), with a valid Luhn key. Establishments number 1..k inside their
  firm after a random offset; the NIC is that 4-digit number plus the key that makes the
  SIRET Luhn-valid, which is how INSEE builds NICs. About 6 % of firms have several
  establishments (1 + a Zipf(2.2) count capped at 200): a fifth of the rows.
- **Communes.** Real current communes (``grappe.refdata.territories``) drawn in proportion
  to their population (plus 30 inhabitants, so that no commune is impossible); the
  collectivités d'outre-mer outside SIRENE (TAAF, Wallis-et-Futuna, Polynésie,
  Nouvelle-Calédonie, Clipperton) are left out. Paris, Lyon and Marseille get their
  arrondissement codes (75101-75120, 69381-69389, 13201-13216, in equal shares) as SIRENE
  does. ``region`` restricts the draw to one région.
- **Activities.** The 732 NAF rév. 2 sous-classes. Section shares (``SECTION_SHARES``) are
  rounded orders of magnitude of INSEE's published breakdown of the active establishments
  of the Sirene stock by section (commerce, real estate, specialised and support services,
  construction and health dominate; the SCI of 68.20B and the photovoltaic producers of
  35.11Z weigh heavily). A few large or telling sous-classes get a fixed share
  (``FIXED_SHARES``, same kind of source and rounding); inside each section the rest is
  spread over the remaining sous-classes by a deterministic skewed law: the sous-classes
  are ranked by a BLAKE2b hash of their code and weighted ``1 / (rank + 1) ** 0.6``. These
  are assumptions that give a plausible shape, not published figures.
  Secondary establishments keep their firm's activity 70 % of the time.
- **Size bands.** ``BAND_SHARES`` gives the shares of ``trancheEffectifsEtablissement``
  over all establishments (most are ``NN``, ``00`` or ``01``; very few above 250); each
  section tilts them by ``(1 + central headcount) ** SECTION_TILT`` (industry most), the
  planted clusters by ``PLANTED_TILT``. 85 % of closed establishments, and all those
  closed before 2001, carry ``NN``.
- **Dates.** Creations from 1950 to the stock date (2025-01-01) with a 3.5 % yearly growth;
  lifetimes from a piecewise constant hazard (10 % a year over the first five years, which
  gives INSEE's order of 60 % five-year survival, then 4.5 %). An establishment whose
  lifetime ends before the stock date is closed (``etatAdministratifEtablissement`` F)
  with ``dateDebut`` = the closure date; 30 % of active ones have a later period start.
- **Places.** Lambert-93 coordinates scattered around the commune centroid with a standard
  deviation growing with the population (400 m to 5 km); none overseas (SIRENE gives local
  projections there). Street numbers, street types and names from short lists; postal
  codes and BAN identifiers are not simulated (left empty).
- **Names.** 30 % of establishments have an ``enseigne1Etablissement`` made of a word of
  their section (or of their cluster's trade) and a common French surname.
- **Planted clusters** (``PLANTED_CLUSTERS``): extra establishments of one sous-class in
  real places, spread evenly through the file, always active, with a strong size tilt.
  Their number is ``strength * min(max(minimum, per_million * rows / 1e6), rows / 200)``:
  at 15 M rows and strength 1, hundreds of establishments as in reality (the Arve valley
  holds most French décolletage); at 200 k rows still a dozen or more where the
  background expects well under one.
- **Defects** (``invalid_rate``): that share of the rows (rounded per chunk, never a planted
  row) gets exactly one realistic defect among ``DEFECTS``; ``SynthReport.invalid_rows``
  counts them so tests can check that an import quarantines exactly those rows.
"""

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
    FIXED_SHARES,
    MAX_ROWS,
    PLANTED_CLUSTERS,
    SCHEMA,
    SECTION_SHARES,
    SIRENE_COLUMNS,
    ClusterSite,
    PlantedCluster,
    naf_shares,
)
from grappe.fabric.synth.rows import generate, luhn_valid
from grappe.fabric.synth.tables import load_tables, plan_planted
from grappe.progress import SILENT, Reporter

__all__ = [
    "CHUNK_ROWS",
    "DEFECTS",
    "FIXED_SHARES",
    "MAX_ROWS",
    "PLANTED_CLUSTERS",
    "SECTION_SHARES",
    "SIRENE_COLUMNS",
    "ClusterSite",
    "PlantedCluster",
    "SynthReport",
    "luhn_valid",
    "naf_shares",
    "write_synthetic",
]


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
