"""Benchmark: prospects of one cluster over a synthetic 15 M-establishment fabric (goal <= 2 s).

Set-up, cached in /tmp and not timed: a synthetic SIRENE file (``grappe fabric synth``, seed 0)
imported into a fabric store, as a user would build one. Then, in the same run, times
- the baselines: a plain DuckDB ``count(*)`` over the synthetic file, and the same count with a
  Rhône + NAF divisions 25 and 28 + active filter;
- ``grappe.registry.prospects.prospects`` for a cluster whose territory is the Rhône
  département and whose scope is NAF divisions 25 and 28, reading the store through the
  fabric's public look-up;
and prints absolute times and ratios (best of N runs).

Usage: ``python bench/bench_prospects.py [--rows 15000000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from grappe.fabric import FabricStore, holds_establishments
from grappe.fabric.synth import write_synthetic
from grappe.refdata import naf
from grappe.registry import LOCAL_ADMIN, migrate, prospects
from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import ClusterCreate, TerritoryRef
from grappe.storage.sql import make_engine, session_scope

CACHE = Path(tempfile.gettempdir()) / "grappe_bench_prospects"


def prepare(rows: int) -> tuple[Path, Path]:
    """The synthetic SIRENE file with ``rows`` establishments and the store it was imported into
    (made once, then reused)."""
    source = CACHE / f"sirene_{rows}.parquet"
    store = CACHE / f"store_{rows}"
    if not source.exists():
        write_synthetic(source, rows, seed=0)
    if not holds_establishments(store):
        FabricStore.open(store).import_files([source])
    return source, store


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=15_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    source, store = prepare(args.rows)
    print(f"fabric: {store} ({args.rows:,} rows, ready in {time.perf_counter() - t0:.1f} s)")

    engine = make_engine(f"sqlite:///{CACHE / 'registry.sqlite3'}")
    migrate.upgrade(engine)
    with session_scope(engine, actor=LOCAL_ADMIN) as session:
        cluster = clusters.create_cluster(
            session,
            LOCAL_ADMIN,
            ClusterCreate(
                name=f"Bench {time.time_ns()}",
                territories=[TerritoryRef(level="departement", code="69")],
                sectors=["25", "28"],
            ),
        )

    divisions = naf.sous_classes().filter(
        pc.is_in(naf.sous_classes()["division"], value_set=pa.array(["25", "28"]))
    )["code"].to_pylist()
    con = duckdb.connect()
    count = best(
        lambda: con.execute("SELECT count(*) FROM read_parquet($f)", {"f": str(source)}).fetchone(),
        args.repeat,
    )
    filtered = best(
        lambda: con.execute(
            "SELECT count(*) FROM read_parquet($f) WHERE codeCommuneEtablissement LIKE '69%' "
            "AND list_contains($naf, activitePrincipaleEtablissement) "
            "AND etatAdministratifEtablissement = 'A'",
            {"f": str(source), "naf": divisions},
        ).fetchone(),
        args.repeat,
    )
    result: list[int] = []

    def run() -> None:
        with session_scope(engine, actor=LOCAL_ADMIN) as session:
            table = prospects.prospects(session, LOCAL_ADMIN, cluster.id, store=store)
            result.append(table.num_rows)

    ours = best(run, args.repeat)
    print(f"baseline count(*)           : {count * 1000:8.1f} ms")
    print(f"baseline filtered count     : {filtered * 1000:8.1f} ms")
    print(f"prospects (Rhône, div 25+28): {ours * 1000:8.1f} ms  -> {result[-1]:,} prospects")
    print(f"ratio prospects / count(*)  : {ours / count:6.2f}")
    print(f"ratio prospects / filtered  : {ours / filtered:6.2f}")
    print(f"goal <= 2 s                 : {'OK' if ours <= 2.0 else 'MISSED'}")


if __name__ == "__main__":
    main()
