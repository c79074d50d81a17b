"""Benchmark: Gi* and local Moran with sequential permutation inference on commune x sous-classe.

A synthetic matrix of 35,000 territories x 732 sectors (about 2 % non-zero cells, sector
densities from 0.1 % to 15 %, 10 planted hot spots of 15 territories) on random Lambert-93
centroids with k-nearest-neighbour weights (k = 8). grappe tests every cell of every sector:
999 shared draws, then the sequential refinement of the undecided cells up to
``--max-permutations`` (the default cap), with Benjamini–Hochberg over the 35,000 territories
of each sector. The same run measures, as baselines, Gi* with the 999 draws alone (the floor
p = 1/1000 makes any call impossible at this scale) and esda's ``G_Local(star=True)`` on a
sample of sectors, its time extrapolated linearly to all sectors (esda handles one sector per
call; without numba its conditional randomisation is pure Python). Times are wall clock and
CPU (the machine is shared: CPU time is the steadier figure). Peak RSS is read after grappe's
runs, before esda's.

Run: ``.venv/bin/python bench/bench_significance.py`` (figures go to bench/results/).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from grappe.detection.significance import MAX_PERMUTATIONS, getis_ord, local_moran
from grappe.detection.weights import knn

RESULTS = Path(__file__).resolve().parent / "results"


def synthetic(
    n: int, s: int, density: float, seed: int
) -> tuple[dict[str, np.ndarray], sp.csr_array, list[tuple[int, np.ndarray]]]:
    """Random centroids, a sparse count matrix and the planted (sector, territories) spots."""
    rng = np.random.default_rng(seed)
    coords = {
        "code": np.char.add("c", np.char.zfill(np.arange(n).astype(str), 5)),
        "x": rng.uniform(100_000, 1_200_000, n),
        "y": rng.uniform(6_100_000, 7_100_000, n),
    }
    # Sector densities spread log-uniformly, scaled to the requested mean density.
    dens = np.exp(rng.uniform(np.log(0.001), np.log(0.15), s))
    dens *= density / dens.mean()
    nnz_per = np.maximum(1, (np.minimum(dens, 0.9) * n).astype(np.int64))
    cols = np.repeat(np.arange(s), nnz_per)
    rows = np.concatenate([rng.choice(n, size=k, replace=False) for k in nnz_per])
    vals = rng.geometric(0.5, size=len(rows)).astype(np.float64)
    planted: list[tuple[int, np.ndarray]] = []
    xy = np.column_stack([coords["x"], coords["y"]])
    for j in rng.choice(s, size=10, replace=False).tolist():
        centre = int(rng.integers(n))
        near = np.argsort(((xy - xy[centre]) ** 2).sum(axis=1))[:15]
        planted.append((j, near))
        rows = np.concatenate([rows, near])
        cols = np.concatenate([cols, np.full(len(near), j)])
        vals = np.concatenate([vals, rng.poisson(12, len(near)) + 5.0])
    matrix = sp.coo_array((vals, (rows, cols)), shape=(n, s)).tocsr()
    matrix.sum_duplicates()
    return coords, matrix, planted


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Run the benchmark and write bench/results/significance.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--territories", type=int, default=35_000)
    parser.add_argument("--sectors", type=int, default=732)
    parser.add_argument("--density", type=float, default=0.02)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--max-permutations", type=int, default=MAX_PERMUTATIONS)
    parser.add_argument("--esda-sectors", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()

    coords, matrix, planted = synthetic(args.territories, args.sectors, args.density, args.seed)
    print(
        f"input: {args.territories} x {args.sectors}, {matrix.nnz} non-zero cells "
        f"({matrix.nnz / (args.territories * args.sectors):.2%}), knn k={args.k}, "
        f"{args.permutations} shared permutations, cap {args.max_permutations}"
    )
    t0 = time.perf_counter()
    weights = knn(coords, args.k)
    t_weights = time.perf_counter() - t0

    def recall(hot: np.ndarray) -> float:
        return float(np.mean([hot[rows, j].mean() for j, rows in planted]))

    # Baseline: the shared draws alone.
    t0, c0 = time.perf_counter(), time.process_time()
    fixed = getis_ord(
        matrix,
        weights,
        permutations=args.permutations,
        max_permutations=args.permutations,
        rng=np.random.default_rng(1),
    )
    t_fixed, c_fixed = time.perf_counter() - t0, time.process_time() - c0
    recall_fixed = recall(fixed.hot(0.05))
    recall_raw = recall(fixed.significant(0.05, adjusted=False) & (fixed.tail > 0))
    n_fixed = int(fixed.hot(0.05).sum())
    del fixed

    t0, c0 = time.perf_counter(), time.process_time()
    gi = getis_ord(
        matrix,
        weights,
        permutations=args.permutations,
        max_permutations=args.max_permutations,
        rng=np.random.default_rng(1),
    )
    t_gi, c_gi = time.perf_counter() - t0, time.process_time() - c0
    rss_gi = peak_rss_mb()
    hot = gi.hot(0.05)
    recall_bh = recall(hot)
    tested = int(gi.tested.sum())
    n_hot, n_calls = int(hot.sum()), int(gi.significant(0.05).sum())
    report = gi.refinement_by_sector()
    refined_sectors = int((report.refined > 0).sum())
    refined_cells = int(report.refined.sum())
    unsettled = int(report.unsettled.sum())
    unsettled_called = int((gi.unsettled & gi.significant(0.05)).sum())
    at_cap = int((report.draws == args.max_permutations).sum())
    draws_total = int(gi.draws.sum(dtype=np.int64))
    sector_draws = {int(k): int(v) for k, v in report.draws.value_counts().sort_index().items()}
    del gi, hot, report  # one result at a time, as the pipeline holds them

    t0, c0 = time.perf_counter(), time.process_time()
    moran = local_moran(
        matrix,
        weights,
        permutations=args.permutations,
        max_permutations=args.max_permutations,
        rng=np.random.default_rng(2),
    )
    t_moran, c_moran = time.perf_counter() - t0, time.process_time() - c0
    n_hh = int(moran.hot(0.05).sum())
    recall_moran = recall(moran.hot(0.05))
    moran_unsettled = int(moran.unsettled.sum())
    del moran
    rss_grappe = peak_rss_mb()

    print(f"weights (knn)                    {t_weights:8.2f} s")
    print(
        f"Gi*, {args.permutations} draws only (baseline)   {t_fixed:8.2f} s wall {c_fixed:7.2f} s CPU"
        f"  recall after BH 5 %: {recall_fixed:.1%} ({n_fixed} hot cells; "
        f"{recall_raw:.1%} on raw p_sim <= 0.05)"
    )
    print(
        f"Gi*, sequential up to {args.max_permutations}  {t_gi:8.2f} s wall {c_gi:7.2f} s CPU"
        f"  ({tested} tested cells)"
    )
    print(
        f"  planted cells called hot after BH 5 %: {recall_bh:.1%} ({n_hot} hot, {n_calls} calls)"
    )
    print(
        f"  refined: {refined_sectors} sectors, {refined_cells} cells; {at_cap} sectors reached "
        f"the cap; unsettled at the cap: {unsettled} cells ({unsettled_called} of them called)"
    )
    print(f"  draws: {draws_total / tested:,.0f} per tested cell on average; sectors by most draws:")
    print(f"    {sector_draws}")
    print(f"  refinement overhead: {c_gi / c_fixed:.2f}x the CPU of the 999 draws alone")
    print(f"peak RSS after Gi*               {rss_gi:8.0f} MB")
    print(
        f"local Moran, sequential          {t_moran:8.2f} s wall {c_moran:7.2f} s CPU  "
        f"({n_hh} HH cells, recall {recall_moran:.1%}, {moran_unsettled} unsettled)"
    )
    print(f"peak RSS after Moran             {rss_grappe:8.0f} MB")

    # esda on a sample of sectors, extrapolated.
    from esda.getisord import G_Local

    t0 = time.perf_counter()
    lw = weights.to_libpysal()
    t_convert = time.perf_counter() - t0
    sample = np.random.default_rng(3).choice(args.sectors, size=args.esda_sectors, replace=False)
    dense_cols = matrix[:, sample].toarray()
    t0 = time.perf_counter()
    for j in range(len(sample)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # esda's DeprecationWarning about `alternative`
            G_Local(
                dense_cols[:, j],
                lw,
                transform="B",
                star=True,
                permutations=args.permutations,
                keep_simulations=False,
                n_jobs=1,
                seed=12345,
            )
    t_esda_sample = time.perf_counter() - t0
    t_esda = t_esda_sample / len(sample) * args.sectors
    ratio = t_esda / t_fixed
    print(
        f"esda G_Local, {len(sample)} sectors  {t_esda_sample:7.2f} s -> extrapolated to "
        f"{args.sectors} sectors: {t_esda:9.0f} s (libpysal W built in {t_convert:.1f} s, "
        "not counted)"
    )
    print(f"ratio esda / grappe (Gi*, same {args.permutations} draws): {ratio:,.0f}x")

    RESULTS.mkdir(exist_ok=True)
    figures = {
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "args": vars(args),
        "nonzero_cells": int(matrix.nnz),
        "tested_cells": tested,
        "seconds": {
            "weights_knn": t_weights,
            "grappe_gi_star_fixed_draws": t_fixed,
            "grappe_gi_star_sequential": t_gi,
            "grappe_local_moran_sequential": t_moran,
            "esda_g_local_sample": t_esda_sample,
            "esda_g_local_extrapolated": t_esda,
        },
        "cpu_seconds": {
            "grappe_gi_star_fixed_draws": c_fixed,
            "grappe_gi_star_sequential": c_gi,
            "grappe_local_moran_sequential": c_moran,
        },
        "esda_sample_sectors": sample.tolist(),
        "ratio_esda_over_grappe_gi_fixed_draws": ratio,
        "peak_rss_mb_after_gi": rss_gi,
        "peak_rss_mb_after_moran": rss_grappe,
        "planted_recall_bh_fixed_draws": recall_fixed,
        "planted_recall_raw_fixed_draws": recall_raw,
        "planted_recall_bh_sequential": recall_bh,
        "planted_recall_bh_moran_sequential": recall_moran,
        "hot_cells_bh_sequential": n_hot,
        "calls_bh_sequential": n_calls,
        "refined_sectors": refined_sectors,
        "refined_cells": refined_cells,
        "sectors_at_cap": at_cap,
        "unsettled_cells": unsettled,
        "unsettled_called_cells": unsettled_called,
        "moran_unsettled_cells": moran_unsettled,
        "mean_draws_per_tested_cell": draws_total / tested,
        "sectors_by_most_draws": sector_draws,
    }
    out = RESULTS / "significance.json"
    out.write_text(json.dumps(figures, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
