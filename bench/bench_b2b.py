"""Benchmark: B2B meetings, CP-SAT against the greedy scheduler and the LP relaxation's bound.

A seeded event of 500 participants, 20 slots, 60 tables, a cap of 8 meetings each and 3,000
wishes (priorities 1 to 5; a few popular participants draw many wishes, as buyers do at real
events; one participant in five is away for one to four slots). The same run schedules it with
the greedy scheduler, bounds it with the LP relaxation (HiGHS) and solves it with CP-SAT (two
workers, the machine's cores); it prints the satisfied priorities of both schedules, their
ratio, the gap to the LP bound CP-SAT's schedule proves, and the times.

Run: ``python3 bench/bench_b2b.py`` (``--participants 100 --wishes 600`` for a quick look).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from grappe.partners.schedule import (
    DEFAULT_TIME_LIMIT,
    DEFAULT_WORKERS,
    Event,
    gap,
    greedy_schedule,
    lp_bound,
    optimal_schedule,
)


def synthetic_event(
    participants: int, wishes: int, slots: int, tables: int, max_meetings: int, seed: int
) -> Event:
    """A reproducible event: skewed popularity, priorities 1-5, some unavailabilities."""
    rng = np.random.default_rng(seed)
    names = tuple(f"P{i:04d}" for i in range(participants))
    popularity = 1.0 / np.arange(1, participants + 1) ** 0.6
    popularity /= popularity.sum()
    chosen: dict[tuple[str, str], int] = {}
    while len(chosen) < wishes:
        a = int(rng.integers(participants))
        b = int(rng.choice(participants, p=popularity))
        if a != b:
            chosen.setdefault((names[a], names[b]), int(rng.integers(1, 6)))
    unavailable = {}
    for name in names:
        if rng.random() < 0.2:
            away = rng.choice(slots, size=int(rng.integers(1, 5)), replace=False) + 1
            unavailable[name] = frozenset(int(s) for s in away)
    return Event(names, unavailable, chosen, slots, tables, max_meetings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=500)
    parser.add_argument("--wishes", type=int, default=3000)
    parser.add_argument("--slots", type=int, default=20)
    parser.add_argument("--tables", type=int, default=60)
    parser.add_argument("--max-meetings", type=int, default=8)
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    event = synthetic_event(
        args.participants, args.wishes, args.slots, args.tables, args.max_meetings, args.seed
    )
    print(f"machine: {platform.processor() or platform.machine()}, {DEFAULT_WORKERS} workers")
    print(
        f"event: {args.participants} participants, {args.wishes} wishes, {args.slots} slots, "
        f"{args.tables} tables, max {args.max_meetings} meetings"
    )
    greedy = greedy_schedule(event)
    started = time.perf_counter()
    bound = lp_bound(event)
    lp_seconds = time.perf_counter() - started
    solved = optimal_schedule(event, time_limit=args.time_limit)
    print(f"greedy : {greedy.satisfied} satisfied priority, {len(greedy.meetings)} meetings, "
          f"{greedy.seconds:.2f} s")
    print(f"CP-SAT : {solved.satisfied} satisfied priority, {len(solved.meetings)} meetings, "
          f"{solved.seconds:.2f} s, optimal={solved.optimal}")
    print(f"LP bound: {bound:.1f} ({lp_seconds:.2f} s); CP-SAT bound: {solved.bound:.1f}")
    proven = min(bound, solved.bound)
    print(f"ratio CP-SAT / greedy: {solved.satisfied / max(greedy.satisfied, 1):.4f}")
    print(f"gap to the LP bound: {100 * gap(solved.satisfied, bound):.3f} %; "
          f"proven gap: {100 * gap(solved.satisfied, proven):.3f} %; "
          f"greedy's gap to the LP bound: {100 * gap(greedy.satisfied, bound):.3f} %")


if __name__ == "__main__":
    main()
