"""Load test: reads and writes mixed at concurrency 8 on SQLite under ``grappe serve`` (2 workers).

Setup: the registry of ``bench/bench_api.py`` (1,000 cluster organisations, 100,000
members, seeded in bulk) in a temporary SQLite file, served by ``grappe serve --workers 2``
on a loopback port: what a fresh install runs.

Load: ``--concurrency`` client threads (8), each with its own keep-alive connection,
send requests back to back (closed loop) for ``--duration`` seconds (30), then stop. Each
request is drawn (seeded) from this mix:

* 50 % reads: ``GET /clusters/{id}/members`` (a random cluster) and ``GET /directory``;
* 25 % creations: ``POST /organisations`` with a unique name;
* 25 % edits: ``PATCH /organisations/{id}`` with version 1 on one of 200 organisations,
  under a unique name: the first edit of an organisation wins, every later one holds a
  stale version and must be answered 409 (a real conflict, nothing stored).

Checks, after the run, in the database itself: every write answered 201/200 is stored
(its unique name is there) and every write answered 409 is not; no answer is a 5xx, no
connection is dropped, no request is left without an answer. Prints counts by kind and
status and the latency percentiles (p50, p99, max) of reads and writes, writes
``bench/results/writes.json``; exits 1 when a check fails.

Usage: ``python bench/bench_writes.py [--duration 30] [--concurrency 8] [--workers 2]``
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import random
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_api  # noqa: E402  (the seeded registry, the server, the machine)
from loadgen import percentile  # noqa: E402

EDITED = 200  # organisations the edits aim at: most edits after the first are stale


@dataclass
class Outcome:
    """What one client thread sent and got back."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    statuses: collections.Counter[tuple[str, int]] = field(default_factory=collections.Counter)
    written: dict[str, list[str]] = field(default_factory=lambda: collections.defaultdict(list))
    refused: list[str] = field(default_factory=list)  # names of writes answered 409
    transport_errors: int = 0


def client(base: str, token: str, stop_at: float, rng: random.Random, tag: str, out: Outcome) -> None:
    """Send requests back to back until ``stop_at``; record every answer."""
    headers = {"Authorization": f"Bearer {token}"}
    count = 0
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        while time.monotonic() < stop_at:
            count += 1
            draw = rng.random()
            name = f"bench {tag}-{count}"
            if draw < 0.25:
                cluster = rng.randint(1, bench_api.CLUSTERS)
                kind, request = "read", ("GET", f"/clusters/{cluster}/members?limit=50", None)
            elif draw < 0.5:
                offset = rng.randrange(0, 1000, 50)
                kind, request = "read", ("GET", f"/directory?limit=50&offset={offset}", None)
            elif draw < 0.75:
                kind, request = "create", ("POST", "/organisations", {"name": name})
            else:
                target = rng.randint(1, EDITED)
                kind, request = "edit", ("PATCH", f"/organisations/{target}", {"version": 1, "name": name})
            method, path, body = request
            started = time.perf_counter()
            try:
                response = http.request(method, path, json=body)
            except httpx.TransportError:
                out.transport_errors += 1
                continue
            out.latencies["read" if kind == "read" else "write"].append(time.perf_counter() - started)
            out.statuses[(kind, response.status_code)] += 1
            if kind != "read" and response.status_code in {200, 201}:
                out.written[kind].append(name)
            elif kind != "read" and response.status_code == 409:
                out.refused.append(name)


def stored_names(url: str) -> set[str]:
    """Names of the organisations the benchmark wrote, read from the database afterwards."""
    from sqlalchemy import select

    from grappe.registry.models import Organisation
    from grappe.storage.sql import make_engine, session_scope

    engine = make_engine(url, pool=False)
    try:
        with session_scope(engine, write=False) as session:
            return set(session.scalars(select(Organisation.name).where(Organisation.name.like("bench %"))))
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="grappe serve --workers")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "writes.json")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="grappe_bench_writes_"))
    url = f"sqlite:///{folder / 'registry.sqlite3'}"
    started_at = time.time()
    try:
        members = bench_api.CLUSTERS * bench_api.MEMBERS_PER_CLUSTER
        print(f"seeding {bench_api.CLUSTERS:,} clusters, {members:,} members")
        token = bench_api.seed(url)
        outcomes = [Outcome() for _ in range(args.concurrency)]
        with bench_api.server(url, args.workers, cli=True) as (base, _proc):
            stop_at = time.monotonic() + args.duration
            threads = [
                threading.Thread(
                    target=client,
                    args=(base, token, stop_at, random.Random(args.seed * 1000 + i), f"t{i}", outcomes[i]),
                )
                for i in range(args.concurrency)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(args.duration + 120)
            hung = sum(thread.is_alive() for thread in threads)
        stored = stored_names(url)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    statuses: collections.Counter[tuple[str, int]] = collections.Counter()
    for outcome in outcomes:
        statuses.update(outcome.statuses)
    latencies = {k: [v * 1000 for o in outcomes for v in o.latencies[k]] for k in ("read", "write")}
    written = [n for o in outcomes for names in o.written.values() for n in names]
    refused = [n for o in outcomes for n in o.refused]
    dropped = sum(o.transport_errors for o in outcomes)
    total = sum(statuses.values())
    server_errors = sum(n for (_, code), n in statuses.items() if code >= 500)
    checks = {
        "no 5xx": server_errors == 0,
        "no connection dropped": dropped == 0 and hung == 0,
        "every 200/201 write stored": all(n in stored for n in written),
        "every 409 write not stored": not any(n in stored for n in refused),
        "only 200/201/409 answers": all(code in {200, 201, 409} for _, code in statuses),
    }
    summary = {
        "requests": total,
        "rate": round(total / args.duration, 1),
        "statuses": {f"{kind} {code}": n for (kind, code), n in sorted(statuses.items())},
        "latency_ms": {
            kind: {q: round(percentile(values, p), 1) for q, p in (("p50", 50), ("p99", 99), ("max", 100))}
            for kind, values in latencies.items()
        },
        "writes_stored": len(written),
        "writes_409": len(refused),
        "transport_errors": dropped,
        "checks": checks,
    }
    print(
        f"{total:,} requests in {args.duration:.0f} s ({summary['rate']} req/s) at concurrency "
        f"{args.concurrency}, {args.workers} workers"
    )
    print("  " + ", ".join(f"{k}: {v:,}" for k, v in summary["statuses"].items()))
    for kind, lat in summary["latency_ms"].items():
        print(f"  {kind:5s} p50 {lat['p50']:7.1f} ms  p99 {lat['p99']:7.1f} ms  max {lat['max']:7.1f} ms")
    print(f"  writes stored {len(written):,} (all found in the database), 409 {len(refused):,} (none stored)")
    for name, ok in checks.items():
        print(f"  {'OK  ' if ok else 'FAIL'} {name}")
    document: dict[str, Any] = {
        "benchmark": "mixed reads and writes on SQLite, closed loop (bench/bench_writes.py)",
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "date": dt.datetime.fromtimestamp(started_at, dt.UTC).isoformat(timespec="seconds"),
        "machine": bench_api.machine(),
        "setup": {"duration_s": args.duration, "concurrency": args.concurrency, "workers": args.workers},
        **summary,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {args.out}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
