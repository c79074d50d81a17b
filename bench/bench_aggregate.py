"""Benchmark: aggregate a 15 M-row fabric to zone d'emploi x sous-classe on DuckDB.

Run: ``.venv/bin/python bench/bench_aggregate.py [--rows 15000000] [--dir /tmp/grappe-bench]``.
It generates (once, then reuses) a Parquet file of the fabric store schema with DuckDB,
imports the zones d'emploi if needed (``--ze FILE.xlsx``, default the real INSEE table
beside the checkout), then times, in the same run:

- the baseline: DuckDB alone counting establishments by (commune, naf) on the file;
- ``grappe.detection.aggregate.aggregate(..., "ze", "sous-classe")``, dynamics included;

and prints both times, their ratio and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ZE = REPO.parent / "shared" / "data" / "real" / "insee_communes_ze2020_geo2022.xlsx"


def generate(path: Path, rows: int, seed: int = 1) -> None:
    """Write a fabric of ``rows`` stock rows: real communes and sous-classes, skewed sizes."""
    from grappe.refdata import naf, territories

    con = duckdb.connect()
    con.execute(f"SELECT setseed({1 / (seed + 1)})").fetchall()
    communes = territories.communes().select(["code", "population"])
    codes = pa.table({"naf": naf.sous_classes()["code"]})
    con.register("communes_in", communes)
    con.register("codes_in", codes)
    # Communes drawn by population (cumulative weights), sectors with a Zipf-like skew.
    con.execute(
        """
        CREATE TABLE communes AS
        SELECT code, sum(population) OVER (ORDER BY code) / sum(population) OVER () AS cum
        FROM communes_in WHERE population > 0;
        CREATE TABLE codes AS
        SELECT naf, sum(1.0 / i) OVER (ORDER BY i) / sum(1.0 / i) OVER () AS cum
        FROM (SELECT naf, row_number() OVER (ORDER BY hash(naf)) AS i FROM codes_in);
        CREATE TABLE bands(code VARCHAR, cum DOUBLE);
        INSERT INTO bands VALUES ('NN', .55), ('00', .62), ('01', .75), ('02', .84), ('03', .90),
          ('11', .94), ('12', .97), ('21', .985), ('22', .993), ('31', .995), ('32', .998),
          ('41', .999), ('42', .9996), ('51', .9999), ('52', .99998), ('53', 1.0);
        """
    )
    con.execute(
        f"""
        COPY (
          WITH draws AS (
            SELECT i, random() AS uc, random() AS un, random() AS ub, random() AS ud,
                   random() AS uz, random() AS ul FROM range({rows}) t(i)
          )
          SELECT lpad(CAST(i AS VARCHAR), 14, '0') AS siret,
                 lpad(CAST(i AS VARCHAR), 14, '0')[1:9] AS siren,
                 lpad(CAST(i AS VARCHAR), 14, '0')[10:14] AS nic,
                 n.naf, c.code AS commune,
                 CASE WHEN b.code = 'NN' THEN NULL ELSE b.code END AS size_band,
                 DATE '1970-01-01' + CAST(floor(p.ud * 19900) AS INTEGER) AS created,
                 CASE WHEN p.uz < 0.3 THEN DATE '1970-01-01' + CAST(floor(p.ud * 19900) AS INTEGER)
                        + CAST(floor(p.ul * (19905 - floor(p.ud * 19900))) AS INTEGER) END AS closed,
                 p.uz >= 0.3 AS active,
                 NULL::DATE AS valid_from, NULL::DATE AS valid_to,
                 NULL::DOUBLE AS x, NULL::DOUBLE AS y, NULL::VARCHAR AS name, 'bench' AS source
          FROM draws p
          ASOF JOIN communes c ON p.uc <= c.cum
          ASOF JOIN codes n ON p.un <= n.cum
          ASOF JOIN bands b ON p.ub <= b.cum
        ) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
        """
    )
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=15_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/grappe-bench"))
    parser.add_argument("--ze", type=Path, default=DEFAULT_ZE)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--level", default="ze", help="territory level (default ze)")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    args.dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GRAPPE_HOME", str(args.dir / "home"))
    from grappe.config import get_settings
    from grappe.detection.aggregate import aggregate
    from grappe.refdata import territories

    path = args.dir / f"fabric_{args.rows}.parquet"
    if args.generate_only:
        started = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {path} in {time.perf_counter() - started:.1f} s")
        return
    if not path.exists():
        # In a child process, so that the peak memory printed below is the aggregation's.
        subprocess.run(
            [sys.executable, __file__, "--generate-only", "--rows", str(args.rows), "--dir", str(args.dir)],
            check=True,
        )
    if not territories.ze_imported():
        territories.import_ze(args.ze)
    settings = get_settings()

    def baseline() -> None:
        config = {"memory_limit": settings.memory_limit}
        if settings.threads:
            config["threads"] = str(settings.threads)
        con = duckdb.connect(config=config)
        con.execute(
            f"SELECT commune, naf, count(*) FROM read_parquet('{path}') WHERE closed IS NULL GROUP BY ALL"
        ).fetchall()
        con.close()

    def ours() -> None:
        counts = aggregate([path], args.level, "sous-classe", engine="duckdb")
        assert counts.establishments.sum() > 0

    figures: dict[str, float | str] = {}
    for name, run in (("duckdb_groupby_baseline", baseline), ("grappe_aggregate", ours)):
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        figures[name] = min(times)
    figures["ratio"] = float(figures["grappe_aggregate"]) / float(figures["duckdb_groupby_baseline"])
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["rows"] = args.rows
    figures["level"] = args.level
    figures["cpus"] = os.cpu_count() or 0
    figures["load_average_1min"] = os.getloadavg()[0]
    print(json.dumps(figures, indent=2))
    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"aggregate_{args.level}.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
