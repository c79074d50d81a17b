"""Benchmark: directory and member-list endpoints at a constant 200 requests/s (goal p99 <= 50 ms).

Setup: a registry with 1,000 cluster organisations and 100,000 members (100 per cluster),
seeded with bulk inserts, on SQLite (a temporary file) and on PostgreSQL (a database
``grappe_bench_api`` created next to the one of ``GRAPPE_TEST_POSTGRES_URL``, dropped at
the end). The API runs as ``grappe serve`` would: uvicorn, ``--workers 2`` by default,
uvloop and httptools when installed (the ``server`` extra), no access log.

Load: ``bench/loadgen.py`` in its own process — open loop, request ``i`` due at
``start + i / rate``, latency measured from that due time (no coordinated omission: see its
docstring), keep-alive connections, a few microseconds of client CPU per request. Each
scenario runs in turn for ``--duration`` seconds at ``--rate``:

* ``health``: ``GET /health`` on the same server, the baseline of the stack (HTTP parsing,
  routing, the event loop) without the database;
* ``directory``: public ``GET /directory`` pages cycling over 100 distinct filter sets
  (18 régions x 3 pages, 4 labels x 2 pages, 8 sectors, 3 sizes, région x label); each
  distinct page is a cache miss once per worker process, misses included in the figures;
* ``members``: ``GET /clusters/{id}/members`` with an administrator's token, 200 random
  clusters (no page cache: every request reads the database);
* ``directory (no cache)`` with ``--no-cache-run``: the directory again on a server started
  with ``GRAPPE_API_CACHE=0``, every request computed from the database.

Before measuring, a short warm-up at a quarter of the rate on *other* pages and clusters
loads each worker's lazy state (statement compilation, pool connections) without filling
the page cache for the measured pages.

Prints p50/p90/p99/p99.9/max (ms), achieved rate and errors per scenario with the ratio of
p99 to the baseline's, the server's CPU time per request, and writes everything (machine,
load average, command) to ``bench/results/api.json``.

Usage: ``python bench/bench_api.py [--backend sqlite|postgres|both] [--rate 200]
[--duration 60] [--workers 2] [--no-cache-run] [--out bench/results/api.json]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CLUSTERS = 1_000
MEMBERS_PER_CLUSTER = 100
GOAL_P99_MS = 50.0
HERE = Path(__file__).resolve().parent
BENCH_DB = "grappe_bench_api"


def seed(url: str) -> str:
    """Fill an empty registry; return an admin API token."""
    from sqlalchemy import insert, text

    from grappe.refdata import territories
    from grappe.registry import LOCAL_ADMIN, migrate
    from grappe.registry.accounts import service as accounts
    from grappe.registry.accounts.schemas import UserCreate
    from grappe.registry.models import (
        Cluster,
        ClusterLabel,
        ClusterSector,
        ClusterTerritory,
        Membership,
        Organisation,
        Role,
    )
    from grappe.storage.sql import make_engine, session_scope

    engine = make_engine(url)
    migrate.downgrade(engine)
    migrate.upgrade(engine)
    rng = random.Random(7)
    deps = territories.departements().to_pylist()
    now = dt.datetime.now(dt.UTC)
    sectors = ["25", "28", "10", "20", "62", "71", "C", "J"]
    with engine.begin() as conn:
        conn.execute(
            insert(Cluster),
            [
                {
                    "id": i + 1,
                    "name": f"Cluster {i + 1:04d}",
                    "acronym": f"C{i + 1}",
                    "public": True,
                    "member_count": MEMBERS_PER_CLUSTER,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for i in range(CLUSTERS)
            ],
        )
        conn.execute(
            insert(ClusterTerritory),
            [
                {"cluster_id": i + 1, "level": "departement", "code": d["code"], "region": d["region"]}
                for i in range(CLUSTERS)
                for d in [deps[i % len(deps)]]
            ],
        )
        conn.execute(
            insert(ClusterSector),
            [
                {"cluster_id": i + 1, "naf": s, "section": s if s.isalpha() else "C"}
                for i in range(CLUSTERS)
                for s in [sectors[i % len(sectors)]]
            ],
        )
        conn.execute(
            insert(ClusterLabel),
            [
                {
                    "cluster_id": i + 1,
                    "kind": ["pole", "grappe", "regional", "none"][i % 4],
                    "name": None,
                    "start": dt.date(2015, 1, 1),
                }
                for i in range(CLUSTERS)
            ],
        )
        n = CLUSTERS * MEMBERS_PER_CLUSTER
        conn.execute(
            insert(Organisation),
            [
                {
                    "id": k + 1,
                    "siren": None,
                    "name": f"Entreprise {k + 1:06d}",
                    "kind": "firm",
                    "size_category": rng.choice(["TPE", "PME", "ETI"]),
                    "in_fabric": False,
                    "created_at": now,
                    "version": 1,
                }
                for k in range(n)
            ],
        )
        conn.execute(
            insert(Membership),
            [
                {
                    "cluster_id": k // MEMBERS_PER_CLUSTER + 1,
                    "organisation_id": k + 1,
                    "membership_type": "adherent",
                    "joined": dt.date(2010, 1, 1) + dt.timedelta(days=rng.randrange(5000)),
                    "version": 1,
                }
                for k in range(n)
            ],
        )
        if engine.dialect.name == "postgresql":
            for table in ("clusters", "organisations"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    with session_scope(engine, actor=LOCAL_ADMIN) as session:
        user = accounts.create_user(
            session, LOCAL_ADMIN, UserCreate(email="bench@grappe.fr", role=Role.ADMIN)
        )
        token = accounts.issue_token(session, LOCAL_ADMIN, user.id).token
    engine.dispose()
    return token


def scenarios(rng: random.Random) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Measured paths per scenario, and warm-up paths that share none of their pages."""
    regions = ["11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94"]
    regions += ["01", "02", "03", "04", "06"]
    labels = ["pole", "grappe", "regional", "none"]
    sectors = ["25.62A", "25", "28", "C", "10.71C", "62.01Z", "J", "20"]
    directory = [f"/directory?region={r}&limit=50&offset={o}" for r in regions for o in (0, 50, 100)]
    directory += [f"/directory?label={lb}&limit=50&offset={o}" for lb in labels for o in (0, 50)]
    directory += [f"/directory?sector={s}&limit=50" for s in sectors]
    directory += [f"/directory?size={s}&limit=50" for s in ("petit", "moyen", "grand")]
    directory += [f"/directory?region={r}&label=pole&limit=50" for r in regions[:13]]
    directory += ["/directory?limit=50", "/directory?limit=50&offset=500"]
    directory += [f"/directory?label=grappe&region={r}&limit=50" for r in regions[13:]]
    directory += [f"/directory?sector=25&region={r}&limit=50" for r in regions[:7]]
    assert len(set(directory)) == len(directory) == 100
    rng.shuffle(directory)
    clusters = rng.sample(range(1, CLUSTERS + 1), 200 + 20)
    members = [f"/clusters/{c}/members?limit=50" for c in clusters[:200]]
    warm_members = [f"/clusters/{c}/members?limit=50" for c in clusters[200:]]
    # the same statements with other bound values: compiled and pooled, but other pages
    warm_directory = [p.replace("limit=50", "limit=49") for p in directory[:20]]
    measured = {"health": ["/health"], "directory": directory, "members": members}
    warm = {"health": ["/health"], "directory": warm_directory, "members": warm_members}
    return measured, warm


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:  # loopback only
        return json.loads(response.read())


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (the uvicorn workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


@contextmanager
def server(
    url: str, workers: int, *, cache: bool = True, cli: bool = False
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The API on a free loopback port: under uvicorn as ``grappe serve`` runs it, or ``grappe serve``
    itself (``cli``)."""
    port = _free_port()
    env = {**os.environ, "GRAPPE_DATABASE_URL": url}
    if not cache:
        env["GRAPPE_API_CACHE"] = "0"
    if cli:
        command = [sys.executable, "-m", "grappe", "serve", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--workers", str(workers)]
    else:
        command = [sys.executable, "-m", "uvicorn", "grappe.api:create_app", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        command += ["--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("the API server did not start")
        time.sleep(1.0)  # every worker up, not only the first that answered
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(20)


def load(base: str, paths: list[str], token: str, rate: float, duration: float, connections: int) -> Any:
    """Run the load generator in its own process; its JSON summary."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(paths))
        paths_file = handle.name
    try:
        command = [sys.executable, str(HERE / "loadgen.py"), "--url", base, "--paths-file", paths_file]
        command += ["--rate", str(rate), "--duration", str(duration), "--connections", str(connections)]
        command += ["--header", f"Authorization: Bearer {token}"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(command, check=True, capture_output=True, text=True, timeout=duration + 120)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = json.loads(out.stdout)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        result["client_cpu_ms_per_request"] = round(1000 * cpu / max(result["completed"], 1), 3)
        return result
    finally:
        os.unlink(paths_file)


def check_answers(base: str, token: str) -> None:
    """The pages measured are the real ones: sizes and totals of the seeded registry."""
    page = _get(base + "/directory?limit=50", token)
    region = _get(base + "/directory?region=84&limit=50", token)
    members = _get(base + "/clusters/17/members?limit=50", token)
    checks = {
        "directory total": page["total"] == CLUSTERS and len(page["items"]) == 50,
        "directory région 84": 0 < region["total"] < CLUSTERS
        and all("84" in e["regions"] for e in region["items"]),
        "member list": members["total"] == MEMBERS_PER_CLUSTER and len(members["items"]) == 50,
    }
    failed = [name for name, ok in checks.items() if not ok]
    if failed:
        raise RuntimeError(f"wrong answers from the server: {failed}")


def run_backend(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Seed, serve and measure every scenario on one database; the results."""
    print(f"== {name}: seeding {CLUSTERS:,} clusters and {CLUSTERS * MEMBERS_PER_CLUSTER:,} members")
    token = seed(url)
    measured, warm = scenarios(random.Random(1))
    runs: list[tuple[str, list[str], list[str], bool]] = [
        (label, measured[label], warm[label], True) for label in ("health", "directory", "members")
    ]
    if args.no_cache_run:
        runs.append(("directory (no cache)", measured["directory"], warm["directory"], False))
    results: dict[str, Any] = {}
    for cache in (True, False):
        todo = [r for r in runs if r[3] is cache]
        if not todo:
            continue
        with server(url, args.workers, cache=cache) as (base, proc):
            check_answers(base, token)
            for label, paths, warm_paths, _ in todo:
                load(base, warm_paths, token, args.rate / 4, args.warmup, args.connections)
                load_before, cpu_before = os.getloadavg()[0], _cpu_seconds(proc.pid)
                result = load(base, paths, token, args.rate, args.duration, args.connections)
                cpu = _cpu_seconds(proc.pid) - cpu_before
                result["server_cpu_ms_per_request"] = round(1000 * cpu / max(result["completed"], 1), 3)
                result["loadavg_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
                result["distinct_paths"] = len(set(paths))
                results[label] = result
                report(label, result, results.get("health"))
    return results


def report(label: str, result: dict[str, Any], baseline: dict[str, Any] | None) -> None:
    """One line per scenario: percentiles, rate, errors, verdict."""
    lat = result["latency_ms"]
    errors = result["non_200"] + result["transport_errors"] + result["timeouts"]
    ratio = lat["p99"] / baseline["latency_ms"]["p99"] if baseline else 1.0
    if label == "health":
        verdict = "baseline"
    elif lat["p99"] <= GOAL_P99_MS and errors == 0:
        verdict = "OK"
    else:
        verdict = f"MISSED (goal p99 <= {GOAL_P99_MS:.0f} ms, no error)"
    result["p99_over_baseline"] = round(ratio, 2)
    result["verdict"] = verdict
    print(
        f"  {label:21s} p50 {lat['p50']:6.2f}  p90 {lat['p90']:6.2f}  p99 {lat['p99']:7.2f}  "
        f"p99.9 {lat['p99.9']:7.2f}  max {lat['max']:7.2f} ms | {result['achieved_rate']:6.1f} req/s "
        f"| errors {errors} | >{result['slow_ms']:.0f} ms: {result['slower_than_slow_ms']} in "
        f"{result['seconds_with_slow_answers']} s | cpu {result['server_cpu_ms_per_request']:.2f} ms/req "
        f"| load {result['loadavg_1min'][0]:.1f}->{result['loadavg_1min'][1]:.1f} "
        f"| p99 x{ratio:4.1f} baseline  {verdict}",
        flush=True,
    )


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A scratch database next to the test one (the test database's schemas stay untouched)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from grappe.storage.sql import make_engine

    admin = make_engine(admin_url, pool=False).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DB}"))
        conn.execute(text(f"CREATE DATABASE {BENCH_DB}"))
    try:
        yield make_url(admin_url).set(database=BENCH_DB).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"))
        admin.dispose()


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "uvloop": importlib.util.find_spec("uvloop") is not None,
        "httptools": importlib.util.find_spec("httptools") is not None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=4.0, help="seconds at rate/4 before each run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--no-cache-run", action="store_true", help="also measure without page cache")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "api.json")
    args = parser.parse_args()
    info = machine()
    print(
        f"rate {args.rate:.0f} req/s for {args.duration:.0f} s per scenario, {args.workers} uvicorn "
        f"worker(s), uvloop {info['uvloop']}, httptools {info['httptools']}, {info['cpus']} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    started = time.time()
    backends: dict[str, Any] = {}
    if args.backend in {"sqlite", "both"}:
        folder = Path(tempfile.mkdtemp(prefix="grappe_bench_api_"))
        try:
            backends["sqlite"] = run_backend("SQLite", f"sqlite:///{folder / 'registry.sqlite3'}", args)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    if args.backend in {"postgres", "both"}:
        admin_url = os.environ.get("GRAPPE_TEST_POSTGRES_URL")
        if not admin_url:
            print("GRAPPE_TEST_POSTGRES_URL not set: PostgreSQL skipped")
        else:
            with postgres_database(admin_url) as url:
                backends["postgres"] = run_backend("PostgreSQL", url, args)
    document = {
        "benchmark": "registry API, open-loop constant rate (bench/bench_api.py, bench/loadgen.py)",
        "goal": f"directory and members p99 <= {GOAL_P99_MS:.0f} ms at {args.rate:.0f} req/s",
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "date": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds"),
        "machine": info,
        "setup": {
            "clusters": CLUSTERS,
            "members": CLUSTERS * MEMBERS_PER_CLUSTER,
            "rate": args.rate,
            "duration_s": args.duration,
            "workers": args.workers,
            "connections": args.connections,
        },
        "backends": backends,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
