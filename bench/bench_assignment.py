"""Benchmark: reviewer assignment, min-cost flow against the greedy assignment in the same run.

A seeded call of 300 reviewers and 1,000 applications, 3 reviewers each, a load cap of 12: each
reviewer and application has a few of 40 themes; the affinity of a pair is the share of the
application's themes the reviewer knows plus a little noise, given for the pairs that share a
theme (about one pair in ten) and 0 elsewhere; 2 % of the pairs are conflicts of interest. The
run prints the total affinity of both assignments, their ratio, the reviews greedy leaves
missing, and the times.

Run: ``python3 bench/bench_assignment.py`` (``--reviewers 60 --applications 200`` for a quick look).
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import numpy as np

from grappe.calls.assignment import ReviewProblem, greedy_assignment, optimal_assignment

THEMES = 40
RESULTS = Path(__file__).resolve().parent / "results"


def synthetic_problem(
    reviewers: int, applications: int, per_application: int, cap: int, seed: int
) -> ReviewProblem:
    """A reproducible call: themed affinities, random conflicts."""
    rng = np.random.default_rng(seed)
    names = tuple(f"R{i:03d}" for i in range(reviewers))
    apps = tuple(f"A{i:04d}" for i in range(applications))
    knows = rng.random((reviewers, THEMES)) < 0.1
    needs = rng.random((applications, THEMES)) < 0.06
    needs[np.arange(applications), rng.integers(THEMES, size=applications)] = True
    shared = knows.astype(float) @ needs.T.astype(float)  # reviewers x applications
    share = shared / needs.sum(axis=1)
    noise = rng.random(share.shape) * 0.1
    affinity = {
        (names[r], apps[a]): round(float(share[r, a] + noise[r, a]), 3)
        for r, a in zip(*np.nonzero(shared), strict=True)
    }
    conflicted = rng.random((reviewers, applications)) < 0.02
    conflicts = frozenset((names[r], apps[a]) for r, a in zip(*np.nonzero(conflicted), strict=True))
    return ReviewProblem(names, dict.fromkeys(names, cap), apps, affinity, conflicts, per_application)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviewers", type=int, default=300)
    parser.add_argument("--applications", type=int, default=1000)
    parser.add_argument("--per-application", type=int, default=3)
    parser.add_argument("--load-cap", type=int, default=12)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    problem = synthetic_problem(
        args.reviewers, args.applications, args.per_application, args.load_cap, args.seed
    )
    print(f"machine: {platform.processor() or platform.machine()}")
    print(f"call: {args.reviewers} reviewers, {args.applications} applications, "
          f"{args.per_application} each, cap {args.load_cap}, {len(problem.affinity)} affinities, "
          f"{len(problem.conflicts)} conflicts")
    greedy = greedy_assignment(problem)
    exact = optimal_assignment(problem)
    print(f"greedy   : total affinity {greedy.total:.3f}, {greedy.missing} reviews missing, "
          f"{greedy.seconds:.2f} s")
    print(f"min-cost flow: total affinity {exact.total:.3f}, {exact.missing} reviews missing, "
          f"{exact.seconds:.2f} s")
    print(f"ratio exact / greedy: {exact.total / greedy.total:.4f}")
    figures = {
        "arguments": vars(args),
        "greedy": {"total": greedy.total, "missing": greedy.missing, "seconds": greedy.seconds},
        "exact": {"total": exact.total, "seconds": exact.seconds},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "assignment.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
