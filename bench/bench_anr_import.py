"""Benchmark: import the real ANR project files against reading them with pandas.

Run: ``python bench/bench_anr_import.py [--repeat 2] [--data DIR]`` (``DIR`` defaults to
``$GRAPPE_SHARED_DATA/real/anr``). In the same run, alternating ``--repeat`` times (the
machine is shared: the best of each is kept), it times:

- the baselines: ``pandas.read_excel`` of the projects and the partners workbooks with
  openpyxl (pandas' default XLSX engine today) and with calamine (its announced default,
  the reader the import uses too);
- the import: ``grappe.cooperation.projects_io.import_projects`` of the same two files into a
  fresh, migrated SQLite registry (reading, checking every row, de-duplicating organisations,
  bulk inserts, commit), its reconciliation asserted (rows read = inserted + reported).

It prints both times and their ratio; figures go to ``bench/results/anr_import.json``.
Goal (issue 17): import < 3 × the pandas read.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = 3.0
PROJECTS = "anr-dgpie-projets-finances-2006-2018-projets.xlsx"
PARTNERS = "anr-dgpie-projets-finances-2006-2018-partenaires.xlsx"


ENGINES = ("openpyxl", "calamine")


def read_with_pandas(folder: Path, engine: str) -> float:
    import pandas as pd

    start = time.perf_counter()
    pd.read_excel(folder / PROJECTS, engine=engine)
    pd.read_excel(folder / PARTNERS, engine=engine)
    return time.perf_counter() - start


def import_once(folder: Path) -> tuple[float, int, int]:
    from grappe.cooperation.projects_io import ImportFormat, import_projects
    from grappe.registry import LOCAL_ADMIN, migrate
    from grappe.storage.sql import make_engine, session_scope

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/registry.db", pool=False)
        migrate.upgrade(engine)
        start = time.perf_counter()
        with session_scope(engine) as session:
            report = import_projects(
                session, LOCAL_ADMIN, folder / PROJECTS, folder / PARTNERS, fmt=ImportFormat.ANR
            )
        seconds = time.perf_counter() - start
        engine.dispose()
    for counts in (report.projects, report.partners):
        assert counts.read == counts.inserted + counts.unchanged + counts.reported
    return seconds, report.projects.inserted, report.partners.inserted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("GRAPPE_SHARED_DATA", REPO.parent / "shared" / "data")) / "real" / "anr",
    )
    args = parser.parse_args()
    baseline: dict[str, list[float]] = {engine: [] for engine in ENGINES}
    imported = []
    projects = partners = 0
    for _ in range(args.repeat):
        for engine in ENGINES:
            baseline[engine].append(read_with_pandas(args.data, engine))
        seconds, projects, partners = import_once(args.data)
        imported.append(seconds)
    best_import = min(imported)
    print(f"grappe import ({projects} projects, {partners} partners): {best_import:.2f} s")
    ratios = {}
    for engine, times in baseline.items():
        ratios[engine] = best_import / min(times)
        verdict = "OK" if ratios[engine] < TARGET else "MISSED"
        print(
            f"pandas.read_excel ({engine}), both files: {min(times):.2f} s; "
            f"ratio {ratios[engine]:.2f}x (target < {TARGET:.0f}x) {verdict}"
        )
    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    record = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "load_average": os.getloadavg()[0],
        "pandas_read_s": {engine: min(times) for engine, times in baseline.items()},
        "import_s": best_import,
        "ratio": ratios,
        "projects": projects,
        "partners": partners,
        "target": TARGET,
    }
    (results / "anr_import.json").write_text(json.dumps(record, indent=2))

if __name__ == "__main__":
    main()
