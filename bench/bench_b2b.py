"""Benchmark: B2B meetings, the solver against the greedy scheduler and the LP relaxation's bound.

A seeded event of 500 participants, 20 slots, 60 tables, a cap of 8 meetings each and 3,000
wishes (priorities 1 to 5; a few popular participants draw many wishes, as buyers do at real
events; one participant in five is away for one to four slots). The same run schedules it with
the greedy scheduler, bounds it with the LP relaxation (HiGHS), solves it with grappe's solver
(HiGHS branch and bound) and, with ``--cp-sat``, with OR-Tools CP-SAT on the same programme
(two workers, the machine's cores), the alternative grappe measured and left behind. It prints
the satisfied priorities, the ratio to greedy, the gap to the LP bound, and the times.

Run: ``python3 bench/bench_b2b.py`` (``--participants 100 --wishes 600`` for a quick look).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from grappe.partners.schedule import (
    DEFAULT_TIME_LIMIT,
    Event,
    constraints_of,
    gap,
    greedy_schedule,
    lp_bound,
    optimal_schedule,
    programme_of,
)

RESULTS = Path(__file__).resolve().parent / "results"


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


def cp_sat(event: Event, time_limit: float) -> tuple[int, float, float]:
    """CP-SAT (two workers) on grappe's programme: objective, proven bound, seconds."""
    from ortools.sat.python import cp_model

    started = time.perf_counter()
    programme = programme_of(event)
    matrix, upper = constraints_of(programme)
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{c}") for c in range(matrix.shape[1])]
    for r in range(matrix.shape[0]):
        row = matrix.indices[matrix.indptr[r]:matrix.indptr[r + 1]].tolist()
        model.add(sum(x[c] for c in row) <= int(upper[r]))
    model.maximize(sum(int(w) * v for w, v in zip(programme.weights.tolist(), x, strict=True)))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 2
    solver.solve(model)
    return int(solver.objective_value), solver.best_objective_bound, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=500)
    parser.add_argument("--wishes", type=int, default=3000)
    parser.add_argument("--slots", type=int, default=20)
    parser.add_argument("--tables", type=int, default=60)
    parser.add_argument("--max-meetings", type=int, default=8)
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--cp-sat", action="store_true", help="also run CP-SAT on the same programme")
    args = parser.parse_args()
    event = synthetic_event(
        args.participants, args.wishes, args.slots, args.tables, args.max_meetings, args.seed
    )
    print(f"machine: {platform.processor() or platform.machine()}")
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
    print(f"solver : {solved.satisfied} satisfied priority, {len(solved.meetings)} meetings, "
          f"{solved.seconds:.2f} s, proven optimal: {solved.optimal}, bound {solved.bound}")
    print(f"LP bound: {bound:.1f} ({lp_seconds:.2f} s)")
    print(f"ratio solver / greedy: {solved.satisfied / max(greedy.satisfied, 1):.4f}")
    print(f"gap to the LP bound: solver {100 * gap(solved.satisfied, bound):.3f} %, "
          f"greedy {100 * gap(greedy.satisfied, bound):.3f} %; "
          f"gap the solver proves: {100 * gap(solved.satisfied, min(bound, solved.bound or bound)):.3f} %")
    figures: dict[str, object] = {
        "arguments": vars(args),
        "greedy": {"satisfied": greedy.satisfied, "seconds": greedy.seconds},
        "solver": {"satisfied": solved.satisfied, "optimal": solved.optimal, "bound": solved.bound,
                   "seconds": solved.seconds},
        "lp_bound": {"value": bound, "seconds": lp_seconds},
    }
    if args.cp_sat:
        value, cp_bound, seconds = cp_sat(event, args.time_limit)
        print(f"CP-SAT : {value} satisfied priority, bound {cp_bound:.1f}, {seconds:.2f} s; "
              f"gap to the LP bound {100 * gap(value, bound):.3f} %")
        figures["cp_sat"] = {"satisfied": value, "bound": cp_bound, "seconds": seconds}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "b2b.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
