"""Benchmark: a stored B2B event scheduled through the service, against the bare solver.

The event of ``bench_b2b.py`` (500 participants, 20 slots, 60 tables, 8 meetings each, 3,000
wishes, seeded) is stored in a fresh SQLite registry: its organisations, participants with
their unavailabilities and the organiser's wishes (accepted on entry). The same run then
schedules it with ``grappe.partners.meetings.service.schedule`` (read the event, solve, compare
with greedy, replace the stored meetings) and with the bare solver on the same event, and prints
the times, the satisfied priorities of both and greedy's, and the gap to the proven bound.

Run: ``python3 bench/bench_b2b_stored.py`` (``--participants 100 --wishes 600`` for a quick look).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_b2b import synthetic_event
from grappe.partners.meetings import service
from grappe.partners.meetings.schemas import B2BEventIn, ParticipantIn, ScheduleIn, WishIn
from grappe.partners.schedule import gap, optimal_schedule
from grappe.registry import LOCAL_ADMIN, migrate
from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import ClusterCreate
from grappe.registry.organisations import service as organisations
from grappe.registry.organisations.schemas import OrganisationCreate
from grappe.storage.sql import make_engine, session_scope


def _percent(share: float | None) -> str:
    return "unknown (no bound proven)" if share is None else f"{100 * share:.3f} %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--participants", type=int, default=500)
    parser.add_argument("--wishes", type=int, default=3000)
    parser.add_argument("--slots", type=int, default=20)
    parser.add_argument("--tables", type=int, default=60)
    parser.add_argument("--max-meetings", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    event = synthetic_event(
        args.participants, args.wishes, args.slots, args.tables, args.max_meetings, args.seed
    )
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'registry.db'}")
        migrate.upgrade(engine)
        started = time.perf_counter()
        with session_scope(engine, actor=LOCAL_ADMIN) as session:
            cluster = clusters.create_cluster(session, LOCAL_ADMIN, ClusterCreate(name="Banc B2B")).id
            data = B2BEventIn(
                title="Banc",
                starts_at=dt.datetime(2026, 6, 11, 7, tzinfo=dt.UTC),
                slots=args.slots,
                tables=args.tables,
                max_meetings=args.max_meetings,
            )
            stored = service.create_event(session, LOCAL_ADMIN, cluster, data).id
            ids: dict[str, int] = {}
            for name in event.participants:
                ids[name] = organisations.create_organisation(
                    session, LOCAL_ADMIN, OrganisationCreate(name=f"Organisation {name}")
                ).id
                away = sorted(event.unavailable.get(name, frozenset()))
                service.register(
                    session,
                    LOCAL_ADMIN,
                    stored,
                    ParticipantIn(organisation_id=ids[name], unavailable_slots=away),
                )
            for (a, b), priority in event.wishes.items():
                service.add_wish(
                    session,
                    LOCAL_ADMIN,
                    stored,
                    WishIn(from_organisation_id=ids[a], to_organisation_id=ids[b], priority=priority),
                )
        filled = time.perf_counter() - started
        # the bare solver first: it imports SciPy, which the service's run then finds loaded
        bare = optimal_schedule(event, time_limit=args.time_limit)
        started = time.perf_counter()
        with session_scope(engine, actor=LOCAL_ADMIN) as session:
            result = service.schedule(session, LOCAL_ADMIN, stored, ScheduleIn(time_limit=args.time_limit))
        through_service = time.perf_counter() - started
        engine.dispose()
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(
        f"event: {args.participants} participants, {args.slots} slots, {args.tables} tables, "
        f"{len(event.wishes)} wishes"
    )
    print(f"storing participants and wishes through the service: {filled:.1f} s")
    print(
        f"schedule through the service: {through_service:.1f} s, {result.meetings} meetings, "
        f"satisfied {result.satisfied} (greedy {result.greedy_satisfied}, "
        f"+{100 * (result.satisfied / result.greedy_satisfied - 1):.1f} %), "
        f"stored: {result.method}, gap {_percent(result.gap)}, optimal proven: {result.optimal}"
    )
    bare_gap = None if bare.bound is None else gap(bare.satisfied, bare.bound)
    print(
        f"bare solver on the same event: {bare.seconds:.1f} s, satisfied {bare.satisfied}, "
        f"gap {_percent(bare_gap)}"
    )
    print(f"service / bare solver time: {through_service / bare.seconds:.2f}x")


if __name__ == "__main__":
    main()
