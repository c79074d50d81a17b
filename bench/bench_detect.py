"""Benchmark: `grappe detect` on a 15 M-establishment synthetic fabric, against a plain pipeline.

Run: ``.venv/bin/python bench/bench_detect.py [--quick] [--rows N] [--cache DIR] [--ze FILE]``.

Set-up, not timed: the synthetic SIRENE file (``grappe.fabric.synth.write_synthetic``, with its
planted clusters) is generated once into the cache folder, imported into a fabric store there,
and the zones d'emploi are imported from INSEE's table (default: the real file beside the
checkout); the numba kernels of the permutation test are compiled (once per install, cached).
Each timed run is a child process (``--child TASK``), so that its peak resident memory is its
own (``ru_maxrss`` of the child; the parent also reports ``RUSAGE_CHILDREN``):

- ``detect_ze``: ``detect(store, "ze", "sous-classe")`` end to end from the store (aggregation
  on DuckDB, indicators, rules, Gi* with 999 permutations on communes, score, rank);
- ``indicators_ze``: the indicators alone, once the ZE x sous-classe counts are aggregated;
- ``detect_commune``: ``detect(store, "commune", "sous-classe")`` end to end;
- ``detect_ze_level``: the same as ``detect_ze`` with the Gi* on the zones d'emploi
  themselves (``support="level"``), for reference;
- ``detect_ze_spark`` (``--spark``): ``detect_ze`` on Spark, the session started before the
  clock;
- ``baseline``: the same pipeline written the plain way: pandas reads the store and groups by
  (commune, naf) and (ze, naf), py-ecomplexity computes RCA (LQ), Mcp, ECI, PCI, density at
  ZE x sous-classe, and esda's ``G_Local(star=True, permutations=999)`` runs per sector on
  the communes with the same weights (its numba kernels compiled before the clock). esda takes
  one sector per call (about 10 s at 35,000 communes): it runs on ``--baseline-sectors``
  sectors drawn at random among those present and its time is extrapolated linearly to all
  sectors (stated in the output).

Prints a table of figures and ratios and writes ``bench/results/detect.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Literal

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
DEFAULT_ZE = REPO.parent / "shared" / "data" / "real" / "insee_communes_ze2020_geo2022.xlsx"
TARGETS = {
    "detect_ze": 5.0,
    "indicators_ze": 1.0,
    "detect_commune": 30.0,
}
PEAK_TARGET_MB = 2048.0


def prepare(cache: Path, rows: int, seed: int, ze: Path) -> Path:
    """Generate, import and set up ZE once (not timed); return the store directory."""
    from grappe.fabric.store import FabricStore
    from grappe.fabric.synth import write_synthetic
    from grappe.refdata import territories

    cache.mkdir(parents=True, exist_ok=True)
    source = cache / f"sirene_{rows}_{seed}.parquet"
    store_dir = cache / f"store_{rows}_{seed}"
    done = store_dir / "IMPORTED"
    if not done.is_file():
        if not source.is_file():
            started = time.perf_counter()
            write_synthetic(source, rows, seed)
            print(f"generated {rows:,} rows in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        FabricStore.open(store_dir).import_files([source], format="sirene")
        done.write_text("ok\n")
        print(f"imported in {time.perf_counter() - started:.0f} s", flush=True)
    if not territories.ze_imported():
        territories.import_ze(ze)
    _compile_kernels()
    return store_dir


def _compile_kernels() -> None:
    """Compile the numba kernels once (cached on disk), as any run after the first finds them.

    A small Gi* test with refinement goes through every kernel with the argument types of
    ``detect``; the compilation (seconds, once per install) is not part of a detection run.
    """
    import numpy as np

    from grappe.detection.significance import getis_ord
    from grappe.detection.weights import grid

    started = time.perf_counter()
    cells = grid(np.repeat(np.arange(6) * 1000.0, 6), np.tile(np.arange(6) * 1000.0, 6), 1000)
    y = np.zeros(36)
    y[[0, 1, 6, 7]] = 10.0
    getis_ord(y, cells.weights, rng=np.random.default_rng(0), max_permutations=9_999)
    print(f"kernels ready in {time.perf_counter() - started:.1f} s", flush=True)


# ---------------------------------------------------------------------------------- child runs


def child(task: str, store: Path, permutations: int, baseline_sectors: int, seed: int) -> dict[str, Any]:
    """Run one task in this (child) process and return its figures."""
    from grappe.detection.candidates import detect

    figures: dict[str, Any] = {"task": task}
    if task == "indicators_ze":
        from grappe.detection.aggregate import aggregate
        from grappe.detection.indicators import indicators

        counts = aggregate(store, "ze", "sous-classe")
        started = time.perf_counter()
        ind = indicators(counts)
        figures["seconds"] = time.perf_counter() - started
        figures["cells"] = int(ind.cells.nnz)
    elif task in ("detect_ze", "detect_commune", "detect_ze_level", "detect_ze_spark"):
        level = "commune" if task == "detect_commune" else "ze"
        support: Literal["commune", "level"] = (
            "level" if task == "detect_ze_level" else "commune"
        )
        engine = "spark" if task == "detect_ze_spark" else "duckdb"
        if engine == "spark":
            from grappe.storage.analytics import spark_session

            spark_session()  # Spark start excluded from the clock
        started = time.perf_counter()
        # Every sous-classe, local ones included: the baseline pipeline tests all 732.
        found = detect(store, level=level, sectors="sous-classe", engine=engine,
                       permutations=permutations, seed=seed, support=support,
                       include_local=True)
        figures["seconds"] = time.perf_counter() - started
        figures["candidates"] = len(found)
        figures["significant"] = int(found.frame["significant"].sum())
        figures["top20"] = found.top(20)[
            ["territory_code", "territory_name", "sector", "establishments", "significant"]
        ].to_dict(orient="records")
        figures["planted_in_top20"] = _planted_in_top(found.frame, level, 20)
    elif task == "baseline":
        figures.update(_baseline(store, permutations, baseline_sectors, seed))
    else:
        raise SystemExit(f"unknown task {task!r}")
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def _planted_in_top(frame: Any, level: str, k: int) -> dict[str, int | None]:
    """Best rank of each planted cluster among significant candidates (None beyond k)."""
    from grappe.fabric.synth import PLANTED_CLUSTERS
    from grappe.refdata import territories

    levels = territories.commune_levels()
    parent = dict(zip(levels["commune"].to_pylist(), levels[level].to_pylist(), strict=True))
    out: dict[str, int | None] = {}
    for site in PLANTED_CLUSTERS:
        places = {parent.get(c) for c in site.communes}
        hits = frame[(frame["sector"] == site.naf) & frame["territory_code"].isin(places)
                     & frame["significant"]]
        best = int(hits["rank"].min()) if len(hits) else None
        out[site.naf] = best if best is not None and best <= k else None
    return out


def _baseline(store: Path, permutations: int, n_sectors: int, seed: int) -> dict[str, Any]:
    """pandas groupby + py-ecomplexity + esda G_Local per sector (sampled, extrapolated)."""
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq
    from ecomplexity import ecomplexity
    from esda.getisord import G_Local

    from grappe.detection.aggregate import aggregate
    from grappe.detection.hotspots import _weights
    from grappe.fabric.store import FabricStore
    from grappe.refdata import sizes, territories

    # The snapshot date the grappe run uses (not timed): the latest date of the fabric.
    counts = aggregate(store, "ze", "division")
    assert counts.dynamics is not None
    at = pd.Timestamp(counts.dynamics.end)
    files = FabricStore.open(store).establishment_files()
    bands = sizes.size_bands().to_pandas().set_index("code")["central"]
    levels = territories.commune_levels().to_pandas()[["commune", "ze"]]
    figures: dict[str, Any] = {}

    started = time.perf_counter()
    # Strings as categories and dates as datetime64: the lean way to hold 15 M rows in pandas.
    columns = ["naf", "commune", "size_band", "created", "closed", "active", "valid_from",
               "valid_to"]
    frame = pd.concat(
        [pq.read_table(f, columns=columns).to_pandas(strings_to_categorical=True,
                                                     date_as_object=False) for f in files],
        ignore_index=True,
    )
    created = frame["created"]
    closed = frame["closed"]
    valid_from = frame["valid_from"]
    valid_to = frame["valid_to"]
    stock = frame["valid_from"].isna()
    alive = (created.isna() | (created <= at)) & (closed.isna() | (closed > at))
    period = (valid_from <= at) & (valid_to.isna() | (valid_to > at)) & frame["active"].fillna(False)
    stock_ok = closed.notna() | frame["active"].fillna(True)
    frame = frame[alive & np.where(stock, stock_ok, period)]
    band = frame["size_band"].astype(str).where(frame["size_band"].notna(), "NN")
    frame = frame.assign(employment=band.map(bands).astype(float).fillna(0.0))
    by_commune = frame.groupby(["commune", "naf"], observed=True).agg(
        establishments=("naf", "size"), employment=("employment", "sum")
    ).reset_index()
    by_ze = by_commune.merge(levels, on="commune").groupby(["ze", "naf"], observed=True).agg(
        establishments=("establishments", "sum"), employment=("employment", "sum")
    ).reset_index()
    figures["pandas_groupby"] = time.perf_counter() - started

    started = time.perf_counter()
    data = by_ze.assign(year=at.year)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        complexity = ecomplexity(
            data[["year", "ze", "naf", "employment"]],
            {"time": "year", "loc": "ze", "prod": "naf", "val": "employment"},
            verbose=False,
        )
    figures["ecomplexity"] = time.perf_counter() - started
    figures["ecomplexity_rows"] = len(complexity)

    weights = _weights("commune")
    w = weights.to_libpysal()
    w.transform = "B"
    sectors = np.sort(by_commune["naf"].unique())
    rng = np.random.default_rng(seed)
    sample = rng.choice(sectors, size=min(n_sectors, len(sectors)), replace=False)
    index = pd.Index(weights.ids)
    # esda compiles its numba kernels on first use: once, outside the clock, as for grappe.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        G_Local(np.arange(weights.n, dtype=float), w, star=True, permutations=9, seed=seed,
                keep_simulations=False)
    started = time.perf_counter()
    for sector in sample:
        part = by_commune[by_commune["naf"] == sector]
        y = np.zeros(weights.n)
        position = index.get_indexer(part["commune"])
        y[position[position >= 0]] = part["establishments"].to_numpy()[position >= 0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            G_Local(y, w, star=True, permutations=permutations, seed=seed, keep_simulations=False)
    sampled = time.perf_counter() - started
    figures["esda_sample_sectors"] = sample.tolist()
    figures["esda_sample_seconds"] = sampled
    figures["esda_extrapolated"] = sampled / len(sample) * len(sectors)
    figures["sectors"] = len(sectors)
    figures["seconds"] = (
        figures["pandas_groupby"] + figures["ecomplexity"] + figures["esda_extrapolated"]
    )
    return figures


# ---------------------------------------------------------------------------------- parent


def run_child(task: str, args: argparse.Namespace, store: Path, env: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", task, "--store", str(store),
               "--permutations", str(args.permutations), "--seed", str(args.seed),
               "--baseline-sectors", str(args.baseline_sectors)]
    wall = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{task} failed:\n{done.stderr[-4000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["wall_seconds_with_startup"] = time.perf_counter() - wall
    return figures


def main() -> None:
    """Prepare the fabric, run each task in a child process, print and save the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=15_000_000)
    parser.add_argument("--quick", action="store_true", help="200,000 rows (a smoke run)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/grappe-bench-detect"))
    parser.add_argument("--ze", type=Path, default=DEFAULT_ZE)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--baseline-sectors", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--spark", action="store_true", help="also time detect_ze on Spark")
    parser.add_argument("--prepare-only", action="store_true",
                        help="generate and import the fabric, time nothing")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        figures = child(args.child, args.store, args.permutations, args.baseline_sectors,
                        args.seed)
        print(json.dumps(figures, default=str))
        return

    rows = 200_000 if args.quick else args.rows
    home = args.cache / "home"
    env = {**os.environ, "GRAPPE_HOME": str(home)}
    os.environ["GRAPPE_HOME"] = str(home)
    store = prepare(args.cache, rows, args.seed, args.ze)
    if args.prepare_only:
        return

    tasks = ["indicators_ze", "detect_ze", "detect_ze_level", "detect_commune"]
    if args.spark:
        tasks.append("detect_ze_spark")
    tasks.append("baseline")
    results: dict[str, dict[str, Any]] = {}
    for task in tasks:
        print(f"running {task} ...", flush=True)
        results[task] = run_child(task, args, store, env)

    ours = results["detect_ze"]["seconds"]
    base = results["baseline"]["seconds"]
    summary = {
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count()},
        "rows": rows,
        "permutations": args.permutations,
        "results": results,
        "ratio_baseline_over_detect_ze": base / ours,
        "peak_rss_mb_children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }
    print()
    print(f"{'run':<18}{'seconds':>10}{'target':>10}{'peak MB':>10}")
    for task in tasks:
        figures = results[task]
        target = TARGETS.get(task)
        print(f"{task:<18}{figures['seconds']:>10.2f}{(f'{target:.0f}' if target else '-'):>10}"
              f"{figures['peak_rss_mb']:>10.0f}")
    b = results["baseline"]
    print(f"\nbaseline: pandas groupby {b['pandas_groupby']:.1f} s + ecomplexity "
          f"{b['ecomplexity']:.1f} s + esda G_Local {b['esda_sample_seconds']:.1f} s on "
          f"{len(b['esda_sample_sectors'])} sectors, extrapolated to {b['sectors']} sectors: "
          f"{b['esda_extrapolated']:.0f} s")
    ratio = summary["ratio_baseline_over_detect_ze"]
    print(f"ratio baseline / grappe detect (ZE x sous-classe): {ratio:.0f}x")
    print(f"planted clusters in the top 20 (ZE): {results['detect_ze']['planted_in_top20']}")
    print(f"peak RSS over the children: {summary['peak_rss_mb_children']:.0f} MB "
          f"(target {PEAK_TARGET_MB:.0f})")
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "detect_quick.json" if args.quick else "detect.json"
    (RESULTS / name).write_text(json.dumps(summary, indent=2, default=str) + "\n")
    print(f"written: {RESULTS / name}")


if __name__ == "__main__":
    main()
