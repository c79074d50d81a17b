"""Benchmark: prospects of one cluster over a synthetic 15 M-establishment fabric (goal <= 2 s).

Generates (once, cached in /tmp) a Parquet file in the fabric store's schema with DuckDB:
real commune codes and NAF sous-classes drawn at random, sorted by commune as a fabric
import would cluster them. Then, in the same run, times
- the baseline: a plain DuckDB ``count(*)`` over the same file, and the same count with the
  prospects' commune + NAF filters;
- ``grappe.registry.prospects.prospects`` for a cluster whose territory is the Rhône
  département and whose scope is NAF divisions 25 and 28;
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

from grappe.refdata import naf, territories
from grappe.registry import LOCAL_ADMIN, migrate, prospects
from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import ClusterCreate, TerritoryRef
from grappe.storage.sql import make_engine, session_scope

CACHE = Path(tempfile.gettempdir()) / "grappe_bench_prospects"


def generate(rows: int) -> Path:
    """Write (or reuse) the synthetic fabric file with ``rows`` establishments."""
    out = CACHE / f"establishments_{rows}.parquet"
    if out.exists():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.register("communes", territories.communes().select(["code", "x", "y"]))
    con.register("nafs", pa.table({"naf": naf.sous_classes().column("code")}))
    con.execute("SET preserve_insertion_order = false")
    tmp = out.with_suffix(".tmp")
    con.execute(f"""
        COPY (
            WITH c AS (SELECT row_number() OVER () - 1 AS i, code, x, y FROM communes),
                 n AS (SELECT row_number() OVER () - 1 AS i, naf FROM nafs),
                 g AS (SELECT range AS k,
                              hash(range) % (SELECT count(*) FROM c) AS ci,
                              hash(range * 7 + 1) % (SELECT count(*) FROM n) AS ni
                       FROM range({rows}))
            SELECT lpad(CAST(100000000 + k AS VARCHAR), 14, '0') AS siret,
                   substr(lpad(CAST(100000000 + k AS VARCHAR), 14, '0'), 1, 9) AS siren,
                   '00010' AS nic, n.naf, c.code AS commune,
                   ['00','01','02','03','11','12','21','22','31','32'][CAST(1 + hash(k * 3) % 10 AS BIGINT)]
                       AS size_band,
                   DATE '1980-01-01' + CAST(hash(k * 5) % 16000 AS INTEGER) AS created,
                   CAST(NULL AS DATE) AS closed, hash(k * 11) % 10 > 0 AS active,
                   CAST(NULL AS DATE) AS valid_from, CAST(NULL AS DATE) AS valid_to,
                   c.x + (hash(k * 13) % 2000) - 1000.0 AS x,
                   c.y + (hash(k * 17) % 2000) - 1000.0 AS y,
                   'Etablissement ' || k AS name, 'bench' AS source
            FROM g JOIN c ON c.i = g.ci JOIN n ON n.i = g.ni
            ORDER BY commune, naf
        ) TO '{tmp}' (FORMAT parquet, ROW_GROUP_SIZE 122880)
    """)
    con.close()
    tmp.rename(out)
    return out


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
    path = generate(args.rows)
    print(f"fabric: {path} ({args.rows:,} rows, ready in {time.perf_counter() - t0:.1f} s)")

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

    from grappe.registry import refs

    communes = refs.communes_of("departement", "69")
    scope = sorted(refs.scope_sous_classes(["25", "28"]))
    quote = ", ".join(f"'{c}'" for c in communes)
    quote_naf = ", ".join(f"'{c}'" for c in scope)
    con = duckdb.connect()
    count = best(lambda: con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone(), args.repeat)
    filtered = best(
        lambda: con.execute(
            f"SELECT count(*) FROM read_parquet('{path}') WHERE commune IN ({quote}) "
            f"AND naf IN ({quote_naf}) AND active"
        ).fetchone(),
        args.repeat,
    )
    result: list[int] = []

    def run() -> None:
        with session_scope(engine, actor=LOCAL_ADMIN) as session:
            table = prospects.prospects(session, LOCAL_ADMIN, cluster.id, files=[path])
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
