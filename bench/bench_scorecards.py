"""Benchmark: scorecards and benchmarks of 500 clusters against plain SQL for the same indicators.

Setup: a registry of ``--clusters`` cluster organisations (default 500) with ``--members``
members each (default 40; some joined or left during the year), fee calls and payments,
funding lines, projects in each cluster's books with their dated steps, business deals,
confirmed links with orientations, and attended events — seeded with bulk inserts on SQLite
(a temporary file) or PostgreSQL (``--backend postgres``: a schema next to the database of
``GRAPPE_TEST_POSTGRES_URL``, dropped at the end).

Measured in the same run, best of ``--repeat``:

* **grappe**: ``evaluation.service.scorecards`` (every indicator of every cluster, the 12
  marks read red/amber/green and ranked among peers) plus ``evaluation.service.benchmarks``
  for one indicator (percentile ranks and distributions for all 500 clusters);
* **plain SQL**: the same year's SQL-computable indicators (members, entries, exits,
  retention, seniority, SME share, fee income, payment rate, services revenue,
  self-financing, projects submitted and funded, business, links, orientations, attendance)
  written as hand-made ``GROUP BY`` queries in raw SQL text, fetched into Python — the floor
  of any implementation that reads the same rows.

The two agree on every value they share (checked before timing). Prints both times and their
ratio, with the machine.

Usage: ``python bench/bench_scorecards.py [--clusters 500] [--members 40] [--repeat 3]
[--backend sqlite|postgres]``
"""

# ruff: noqa: E501, PERF401  (SQL text and seed rows read best on one line each)
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

YEAR = 2024


def seed(engine: Any, clusters: int, members: int) -> None:
    """Fill an empty, migrated registry with ``clusters`` clusters of ``members`` members."""
    from sqlalchemy import insert, text

    from grappe.cooperation.actions.models import Event, EventRegistration
    from grappe.cooperation.models import (
        BusinessDeal,
        CooperationLink,
        LinkOrientation,
        Project,
        ProjectTransition,
    )
    from grappe.registry.models import (
        Cluster,
        ClusterFunding,
        ClusterLabel,
        ClusterSector,
        ClusterTerritory,
        FeeCall,
        Funder,
        Membership,
        Organisation,
        Payment,
    )

    rng = random.Random(19)
    now = dt.datetime.now(dt.UTC)
    communes = ["69123", "33063", "35238", "13055", "67482", "31555", "59350", "44109"]
    sectors = ["25.62A", "28", "10.71C", "20", "62.01Z", "C"]
    n = clusters * members
    with engine.begin() as conn:
        conn.execute(insert(Funder), [{"id": 1, "name": "Région", "kind": "region", "created_at": now}])
        conn.execute(
            insert(Cluster),
            [
                {
                    "id": c,
                    "name": f"Cluster {c:04d}",
                    "public": True,
                    "member_count": members,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for c in range(1, clusters + 1)
            ],
        )
        conn.execute(
            insert(ClusterTerritory),
            [
                {"cluster_id": c, "level": "commune", "code": communes[c % len(communes)]}
                for c in range(1, clusters + 1)
            ],
        )
        conn.execute(
            insert(ClusterSector),
            [
                {"cluster_id": c, "naf": sectors[c % len(sectors)], "section": "C"}
                for c in range(1, clusters + 1)
            ],
        )
        conn.execute(
            insert(ClusterLabel),
            [
                {
                    "cluster_id": c,
                    "kind": ["pole", "grappe", "regional"][c % 3],
                    "funder_id": 1,
                    "start": dt.date(2015, 1, 1),
                }
                for c in range(1, clusters + 1)
            ],
        )
        conn.execute(
            insert(Organisation),
            [
                {
                    "id": k,
                    "name": f"Entreprise {k:06d}",
                    "kind": "firm",
                    "size_category": rng.choice(["TPE", "PME", "PME", "ETI", None]),
                    "declared_headcount": rng.choice([None, 8, 40, 300]),
                    "naf": rng.choice(["25.62A", "28.11Z", "46.90Z", "62.01Z"]),
                    "commune": rng.choice(communes),
                    "in_fabric": False,
                    "created_at": now,
                    "version": 1,
                }
                for k in range(1, n + 1)
            ],
        )
        periods = []
        for k in range(1, n + 1):
            joined = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3600))
            left = None
            if rng.random() < 0.15:
                left = joined + dt.timedelta(days=rng.randrange(30, 1500))
            periods.append(
                {
                    "id": k,
                    "cluster_id": (k - 1) // members + 1,
                    "organisation_id": k,
                    "membership_type": "adherent",
                    "joined": joined,
                    "left_on": left,
                    "version": 1,
                }
            )
        conn.execute(insert(Membership), periods)
        calls = [
            {
                "id": p["id"],
                "cluster_id": p["cluster_id"],
                "membership_id": p["id"],
                "organisation_id": p["organisation_id"],
                "year": YEAR,
                "amount_eur": 100,
                "issued_on": dt.date(YEAR, 1, 10),
                "due_on": dt.date(YEAR, 2, 10),
                "status": rng.choice(["due", "paid", "paid", "waived"]),
                "version": 1,
            }
            for p in periods
            if p["joined"] <= dt.date(YEAR, 12, 31)
            and (p["left_on"] is None or p["left_on"] > dt.date(YEAR, 1, 1))
        ]
        conn.execute(insert(FeeCall), calls)
        conn.execute(
            insert(Payment),
            [
                {
                    "fee_call_id": c["id"],
                    "cluster_id": c["cluster_id"],
                    "paid_on": dt.date(YEAR, 3, 1),
                    "amount_eur": 100,
                }
                for c in calls
                if c["status"] == "paid"
            ],
        )
        conn.execute(
            insert(ClusterFunding),
            [
                {
                    "cluster_id": c,
                    "year": YEAR,
                    "source": source,
                    "funder_id": 1 if source == "public" else None,
                    "amount_eur": rng.randrange(5_000, 100_000),
                }
                for c in range(1, clusters + 1)
                for source in ("membership_fees", "services", "public")
            ],
        )
        projects, steps, deals, links, orientations, events, registrations = [], [], [], [], [], [], []
        for c in range(1, clusters + 1):
            first = (c - 1) * members + 1
            for _ in range(3):
                pid = len(projects) + 1
                status = rng.choice(["submitted", "funded", "rejected", "idea"])
                projects.append(
                    {
                        "id": pid,
                        "cluster_id": c,
                        "title": f"Projet {pid}",
                        "kind": "market",
                        "status": status,
                        "confidential": False,
                        "created_at": now,
                        "version": 1,
                    }
                )
                if status != "idea":
                    steps.append(
                        {
                            "project_id": pid,
                            "status": "submitted",
                            "on": dt.date(YEAR, 3, 1),
                            "recorded_at": now,
                        }
                    )
                if status == "funded":
                    steps.append(
                        {"project_id": pid, "status": "funded", "on": dt.date(YEAR, 6, 1), "recorded_at": now}
                    )
            for _ in range(members // 2):
                a, b = rng.sample(range(first, first + members), 2)
                deals.append(
                    {
                        "cluster_id": c,
                        "buyer_id": a,
                        "seller_id": b,
                        "year": YEAR,
                        "amount_eur": rng.randrange(1_000, 50_000),
                        "kind": "goods",
                        "brokered": False,
                        "created_at": now,
                        "version": 1,
                    }
                )
                lid = len(links) + 1
                links.append(
                    {
                        "id": lid,
                        "cluster_id": c,
                        "organisation_a_id": a,
                        "organisation_b_id": b,
                        "kind": "co_development",
                        "source": "manager",
                        "state": "confirmed",
                        "created_at": now,
                        "version": 1,
                    }
                )
                orientations.append(
                    {"link_id": lid, "orientation": rng.choice(["means", "products_markets", "working_club"])}
                )
            eid = len(events) + 1
            start = dt.datetime(YEAR, 4, 1, 8, tzinfo=dt.UTC)
            events.append(
                {
                    "id": eid,
                    "cluster_id": c,
                    "kind": "breakfast",
                    "title": "Petit-déjeuner",
                    "starts_at": start,
                    "ends_at": start + dt.timedelta(hours=2),
                    "price_eur": 0,
                    "shared_stand": False,
                    "public": True,
                    "created_at": now,
                    "version": 1,
                }
            )
            for k in rng.sample(range(first, first + members), members // 3):
                registrations.append(
                    {
                        "event_id": eid,
                        "organisation_id": k,
                        "seats": 1,
                        "attended": rng.random() < 0.7,
                        "registered_at": now,
                    }
                )
        conn.execute(insert(Project), projects)
        conn.execute(insert(ProjectTransition), steps)
        conn.execute(insert(BusinessDeal), deals)
        conn.execute(insert(CooperationLink), links)
        conn.execute(insert(LinkOrientation), orientations)
        conn.execute(insert(Event), events)
        conn.execute(insert(EventRegistration), registrations)
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))


PLAIN_SQL = {
    "members": """
        SELECT cluster_id, count(DISTINCT organisation_id) FROM memberships
        WHERE joined <= :last AND (left_on IS NULL OR left_on > :last) GROUP BY cluster_id""",
    "entries": """
        SELECT cluster_id, count(*) FROM memberships WHERE joined BETWEEN :first AND :last GROUP BY cluster_id""",
    "exits": """
        SELECT cluster_id, count(*) FROM memberships WHERE left_on > :first AND left_on <= :last
        GROUP BY cluster_id""",
    "retention": """
        SELECT s.cluster_id, CAST(sum(CASE WHEN s.left_on IS NULL OR s.left_on > :last THEN 1 ELSE 0 END) AS FLOAT)
               / count(*)
        FROM memberships s WHERE s.joined <= :first AND (s.left_on IS NULL OR s.left_on > :first)
        GROUP BY s.cluster_id""",
    "sme_share": """
        SELECT m.cluster_id,
               CAST(sum(CASE WHEN o.size_category IN ('TPE', 'PME')
                             OR (o.size_category IS NULL AND o.declared_headcount < 250) THEN 1 ELSE 0 END) AS FLOAT)
               / nullif(sum(CASE WHEN o.size_category IS NOT NULL OR o.declared_headcount IS NOT NULL
                                 THEN 1 ELSE 0 END), 0)
        FROM memberships m JOIN organisations o ON o.id = m.organisation_id
        WHERE m.joined <= :last AND (m.left_on IS NULL OR m.left_on > :last) GROUP BY m.cluster_id""",
    "fee_income": """
        SELECT cluster_id, sum(amount_eur) FROM payments WHERE paid_on BETWEEN :first AND :last GROUP BY cluster_id""",
    "fee_payment_rate": """
        SELECT cluster_id, CAST(sum(CASE WHEN status = 'paid' THEN 1 ELSE 0 END) AS FLOAT) / count(*)
        FROM fee_calls WHERE year = :year AND status <> 'waived' GROUP BY cluster_id""",
    "services_revenue": """
        SELECT cluster_id, sum(amount_eur) FROM cluster_fundings WHERE year = :year AND source = 'services'
        GROUP BY cluster_id""",
    "self_financing": """
        SELECT cluster_id, CAST(sum(CASE WHEN source IN ('membership_fees', 'services') THEN amount_eur ELSE 0 END) AS FLOAT)
               / sum(amount_eur)
        FROM cluster_fundings WHERE year = :year GROUP BY cluster_id""",
    "projects_submitted": """
        SELECT p.cluster_id, count(DISTINCT p.id) FROM projects p JOIN project_transitions t ON t.project_id = p.id
        WHERE t.status = 'submitted' AND t."on" BETWEEN :first AND :last GROUP BY p.cluster_id""",
    "projects_funded": """
        SELECT p.cluster_id, count(DISTINCT p.id) FROM projects p JOIN project_transitions t ON t.project_id = p.id
        WHERE t.status = 'funded' AND t."on" BETWEEN :first AND :last GROUP BY p.cluster_id""",
    "business_between_members": """
        SELECT cluster_id, sum(amount_eur) FROM business_deals WHERE year = :year GROUP BY cluster_id""",
    "orientations": """
        SELECT l.cluster_id, count(DISTINCT o.orientation) FROM cooperation_links l
        JOIN cooperation_link_orientations o ON o.link_id = l.id WHERE l.state = 'confirmed' GROUP BY l.cluster_id""",
    "attendance": """
        SELECT e.cluster_id, count(*) FROM events e JOIN event_registrations r ON r.event_id = e.id
        WHERE r.attended AND e.starts_at >= :start AND e.starts_at < :end GROUP BY e.cluster_id""",
}


def plain_sql(engine: Any) -> dict[str, dict[int, float]]:
    """The indicators above by hand-written SQL text, one grouped query each."""
    from sqlalchemy import text

    params = {
        "first": dt.date(YEAR, 1, 1),
        "last": dt.date(YEAR, 12, 31),
        "year": YEAR,
        "start": dt.datetime(YEAR, 1, 1, tzinfo=dt.UTC),
        "end": dt.datetime(YEAR + 1, 1, 1, tzinfo=dt.UTC),
    }
    out: dict[str, dict[int, float]] = {}
    with engine.connect() as conn:
        for name, sql in PLAIN_SQL.items():
            out[name] = {cid: float(v) for cid, v in conn.execute(text(sql), params) if v is not None}
    return out


def best(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=500)
    parser.add_argument("--members", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()

    from sqlalchemy import create_engine, text

    from grappe.evaluation import service
    from grappe.evaluation.compute import evaluate
    from grappe.registry import LOCAL_ADMIN, migrate
    from grappe.storage.sql import make_engine, session_scope

    folder = tempfile.TemporaryDirectory()
    schema = None
    url = os.environ.get("GRAPPE_TEST_POSTGRES_URL")
    if args.backend == "postgres":
        if not url:
            raise SystemExit("GRAPPE_TEST_POSTGRES_URL non défini")
        schema = f"grappe_bench_eval_{secrets.token_hex(4)}"
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public"))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = create_engine(url, connect_args={"options": f"-csearch_path={schema},public"})
    else:
        engine = make_engine(f"sqlite:///{Path(folder.name) / 'bench.sqlite3'}")
    try:
        migrate.upgrade(engine)
        started = time.perf_counter()
        seed(engine, args.clusters, args.members)
        print(
            f"seed: {args.clusters} clusters x {args.members} members in {time.perf_counter() - started:.1f} s "
            f"({args.backend})"
        )

        # the two agree before anything is timed
        baseline = plain_sql(engine)
        with session_scope(engine, actor=LOCAL_ADMIN) as session:
            ev = evaluate(session, YEAR)
        checked = 0
        for name, values in baseline.items():
            ours_name = "event_attendance" if name == "attendance" else name
            for cid, raw in values.items():
                mine = ev.values[cid][ours_name]
                value = raw / (ev.values[cid]["members"] or 1) if ours_name == "event_attendance" else raw
                assert mine is not None, (name, cid)
                assert abs(mine - value) <= 1e-6 * max(1.0, abs(value)), (
                    name,
                    cid,
                    mine,
                    value,
                )
                checked += 1
        print(f"agreement: {checked} values of {len(baseline)} indicators equal")

        cards: list[Any] = []

        def grappe() -> None:
            with session_scope(engine, actor=LOCAL_ADMIN) as session:
                cards[:] = service.scorecards(session, LOCAL_ADMIN, YEAR)
                service.benchmarks(session, LOCAL_ADMIN, "members", YEAR)

        def indicators_only() -> None:
            with session_scope(engine, actor=LOCAL_ADMIN) as session:
                evaluate(session, YEAR)

        ours = best(grappe, args.repeat)
        computed = best(indicators_only, args.repeat)
        plain = best(lambda: plain_sql(engine), args.repeat)
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}, {args.backend}"
        )
        print(f"plain SQL, {len(PLAIN_SQL)} grouped queries      : {plain * 1000:8.1f} ms")
        print(f"grappe scorecards + benchmarks ({len(cards)}) : {ours * 1000:8.1f} ms")
        print(f"grappe indicators only (evaluate)         : {computed * 1000:8.1f} ms")
        print(f"ratio grappe / plain SQL                  : {ours / plain:8.2f}")
        print(f"ratio indicators only / plain SQL         : {computed / plain:8.2f}")
    finally:
        engine.dispose()
        if schema and url:
            admin = create_engine(url)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
        folder.cleanup()


if __name__ == "__main__":
    main()
