"""Benchmark: directory and member-list endpoints at a constant 200 requests/s (goal p99 <= 50 ms).

Setup: a registry with 1,000 cluster organisations and 100,000 members (100 per cluster),
seeded with bulk inserts; the API runs in its own process (uvicorn, 1 worker by default).

Load: an *open-loop* generator in a separate process (asyncio + httpx): request i is due at
``start + i / rate`` whatever the previous answers, and its latency is measured from that
due time, so a slow server cannot slow the load down and hide its queueing (no coordinated
omission, the flaw of closed-loop tools such as ``wrk``; ``wrk2`` is not packaged in Debian).
Each endpoint is measured in turn at the same rate: ``/health`` (the baseline, same server,
same stack), ``/directory`` (public, rotating filters) and ``/clusters/{id}/members`` (admin
token, random cluster). Prints p50/p99 in ms and the ratios to the baseline.

Usage: ``python bench/bench_api.py [--backend sqlite|postgres|both] [--rate 200]
[--duration 60] [--workers 1]`` (PostgreSQL URL from GRAPPE_TEST_POSTGRES_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CLUSTERS = 1_000
MEMBERS_PER_CLUSTER = 100


def seed(url: str) -> str:
    """Fill an empty registry; return an admin API token."""
    import datetime as dt

    from sqlalchemy import insert, text

    from grappe.refdata import territories
    from grappe.registry import LOCAL_ADMIN, accounts, migrate
    from grappe.registry.models import (
        Cluster,
        ClusterLabel,
        ClusterSector,
        ClusterTerritory,
        Membership,
        Organisation,
        Role,
    )
    from grappe.registry.schemas import UserCreate
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
            conn.execute(text("ANALYZE"))
    with session_scope(engine, actor=LOCAL_ADMIN) as session:
        user = accounts.create_user(
            session, LOCAL_ADMIN, UserCreate(email="bench@grappe.fr", role=Role.ADMIN)
        )
        token = accounts.issue_token(session, LOCAL_ADMIN, user.id).token
    engine.dispose()
    return token


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _load(base: str, paths: list[str], rate: float, duration: float, token: str) -> list[float]:
    import httpx

    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=30, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        for _ in range(20):  # warm-up
            await client.get(paths[0])
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.1
        total = int(rate * duration)

        async def one(i: int) -> None:
            nonlocal errors
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - loop.time()))
            response = await client.get(paths[i % len(paths)])
            if response.status_code != 200:
                errors += 1
            latencies.append(loop.time() - due)

        await asyncio.gather(*(one(i) for i in range(total)))
    if errors:
        print(f"  !! {errors} non-200 answers", file=sys.stderr)
    return latencies


def _load_process(
    base: str, paths: list[str], rate: float, duration: float, token: str, queue: mp.Queue
) -> None:  # type: ignore[type-arg]
    queue.put(asyncio.run(_load(base, paths, rate, duration, token)))


def measure(base: str, paths: list[str], rate: float, duration: float, token: str) -> tuple[float, float]:
    """p50 and p99 latency (ms) of an open-loop run from a separate process."""
    queue: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    proc = mp.Process(target=_load_process, args=(base, paths, rate, duration, token, queue))
    proc.start()
    try:
        latencies = np.array(queue.get(timeout=duration + 120)) * 1000
    finally:
        proc.join(5)
        if proc.is_alive():
            proc.terminate()
    return float(np.percentile(latencies, 50)), float(np.percentile(latencies, 99))


def run_backend(name: str, url: str, args: argparse.Namespace) -> None:
    print(f"== {name}: seeding {CLUSTERS:,} clusters and {CLUSTERS * MEMBERS_PER_CLUSTER:,} members")
    token = seed(url)
    port = _free_port()
    env = {**os.environ, "GRAPPE_DATABASE_URL": url}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "grappe.api:create_app",
            "--factory",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(100):
            try:
                if httpx.get(base + "/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        rng = random.Random(1)
        regions = ["84", "11", "53", "75", "76", "44", "93", "32"]
        directory = [
            f"/directory?region={rng.choice(regions)}&limit=50&offset={rng.randrange(3) * 50}"
            for _ in range(50)
        ] + [
            "/directory?label=pole&limit=50",
            "/directory?sector=25.62A&limit=50",
            "/directory?size=moyen&limit=50",
        ]
        members = [f"/clusters/{rng.randrange(1, CLUSTERS + 1)}/members?limit=50" for _ in range(200)]
        results = {}
        for label, paths in (
            ("health (baseline)", ["/health"]),
            ("directory", directory),
            ("members", members),
        ):
            results[label] = measure(base, paths, args.rate, args.duration, token)
        _, p99b = results["health (baseline)"]
        for label, (p50, p99) in results.items():
            verdict = (
                ""
                if label.startswith("health")
                else ("  OK" if p99 <= 50 else "  MISSED (goal p99 <= 50 ms)")
            )
            print(
                f"  {label:18s} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  "
                f"ratio p99/baseline {p99 / p99b:5.2f}{verdict}"
            )
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    print(
        f"rate {args.rate:.0f} req/s for {args.duration:.0f} s per endpoint, "
        f"{args.workers} uvicorn worker(s), {os.cpu_count()} CPUs"
    )
    if args.backend in {"sqlite", "both"}:
        folder = Path(tempfile.mkdtemp(prefix="grappe_bench_api_"))
        run_backend("SQLite", f"sqlite:///{folder / 'registry.sqlite3'}", args)
    if args.backend in {"postgres", "both"}:
        url = os.environ.get("GRAPPE_TEST_POSTGRES_URL")
        if not url:
            print("GRAPPE_TEST_POSTGRES_URL not set: PostgreSQL skipped")
        else:
            run_backend("PostgreSQL", url, args)


if __name__ == "__main__":
    main()
