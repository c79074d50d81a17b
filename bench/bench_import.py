"""Benchmark: import a SIRENE CSV into the fabric store against DuckDB's plain CSV-to-Parquet copy.

Run: ``.venv/bin/python bench/bench_import.py [--rows 5000000] [--csv FILE] [--dir DIR]``.
Without ``--csv`` it generates (once, then reuses) a synthetic StockEtablissement CSV with
``grappe.fabric.synth.write_synthetic`` (1 % of invalid rows, to exercise the quarantine).
Then, in the same run and each in a child process of its own, it times:

- the baseline: DuckDB alone, ``COPY (SELECT * FROM read_csv(FILE)) TO 'x.parquet'``;
- the import: ``FabricStore.open(fresh dir).import_files([FILE])`` (hash, one scan,
  validation, Parquet, quarantine, catalogue);

alternating them ``--repeat`` times (the machine is shared: the best of each is kept),
and prints both times, their ratio and the peak resident memory of each child (from
``wait4``). Figures go to ``bench/results/import.json``. Goals: ratio <= 1.5, import
peak memory < 3 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

BASELINE = """
import sys, time, duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
start = time.perf_counter()
con.execute(f"COPY (SELECT * FROM read_csv('{sys.argv[1]}')) TO '{sys.argv[2]}' (FORMAT parquet)")
print(time.perf_counter() - start)
"""

IMPORT = """
import sys, time
from pathlib import Path
from grappe.fabric import FabricStore
store = FabricStore.open(Path(sys.argv[2]))
start = time.perf_counter()
(report,) = store.import_files([Path(sys.argv[1])])
seconds = time.perf_counter() - start
assert report.rows_read == report.rows_stored + report.rows_quarantined
print(seconds, report.rows_read, report.rows_stored, report.rows_quarantined)
"""


def _child(code: str, *args: str) -> tuple[list[str], float, float]:
    """Run Python code in a child process; its stdout words, wall time and peak RSS (MB)."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                             text=True)
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"child failed with status {status}")
    return out.split(), wall, usage.ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    """Parse the arguments, prepare the CSV, run the timings and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--csv", type=Path, default=None)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/grappe-bench"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    csv = args.csv
    if csv is None:
        csv = args.dir / f"sirene_{args.rows}_{args.seed}.csv"
        if not csv.exists():
            from grappe.fabric.synth import write_synthetic

            print(f"generating {csv} ...", flush=True)
            write_synthetic(csv, args.rows, args.seed, invalid_rate=0.01)
    size_mb = csv.stat().st_size / 1e6
    baseline: list[tuple[float, float]] = []
    imports: list[tuple[float, float]] = []
    counts: list[str] = []
    for _ in range(args.repeat):
        out, _, rss = _child(BASELINE, str(csv), str(args.dir / "baseline.parquet"))
        baseline.append((float(out[0]), rss))
        store = args.dir / "store"
        shutil.rmtree(store, ignore_errors=True)
        out, _, rss = _child(IMPORT, str(csv), str(store))
        imports.append((float(out[0]), rss))
        counts = out[1:]
        print(f"baseline {baseline[-1][0]:.2f} s, import {imports[-1][0]:.2f} s", flush=True)
    best_base = min(t for t, _ in baseline)
    best_import = min(t for t, _ in imports)
    figures: dict[str, Any] = {
        "csv": str(csv),
        "csv_mb": round(size_mb, 1),
        "rows_read": int(counts[0]),
        "rows_stored": int(counts[1]),
        "rows_quarantined": int(counts[2]),
        "baseline_seconds": [round(t, 2) for t, _ in baseline],
        "import_seconds": [round(t, 2) for t, _ in imports],
        "ratio_best": round(best_import / best_base, 3),
        "baseline_peak_rss_mb": round(max(r for _, r in baseline)),
        "import_peak_rss_mb": round(max(r for _, r in imports)),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU, {platform.system()}",
        "python": platform.python_version(),
    }
    print(json.dumps(figures, indent=2))
    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "import.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(args.dir / "store", ignore_errors=True)


if __name__ == "__main__":
    main()
