"""Benchmark: selection within the budget, the proven optimum against the greedy order in the same run.

A seeded call of 1,000 applications: scores 2.0 to 20.0 (one decimal), requests 20,000 to
400,000 euros (to the cent), four territories and three themes; the budget funds about a fifth
of the requests. The run selects with HiGHS (proven optimal) and with the committee's greedy
order (by decreasing score, each funded when it fits), plain, with ``--partial`` and with a 40 %
quota per territory and theme, and prints the total scores, their ratio and the times.

Run: ``python3 bench/bench_selection.py``.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import numpy as np

from grappe.calls.selection import Candidate, SelectionProblem, greedy_selection, optimal_selection

RESULTS = Path(__file__).resolve().parent / "results"


def synthetic_candidates(n: int, seed: int) -> tuple[Candidate, ...]:
    """A reproducible call: scores, requests in cents, territory and theme."""
    rng = np.random.default_rng(seed)
    scores = rng.integers(20, 201, n) / 10
    cents = rng.integers(2_000_000, 40_000_001, n)
    territories = rng.choice(["84", "13", "75", "69"], n, p=[0.4, 0.3, 0.2, 0.1])
    themes = rng.choice(["industrie", "numérique", "santé"], n)
    return tuple(
        Candidate(f"A{i:04d}", float(scores[i]), int(cents[i]),
                  {"territory": str(territories[i]), "theme": str(themes[i])})
        for i in range(n)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    candidates = synthetic_candidates(args.applications, args.seed)
    budget = sum(c.amount for c in candidates) // 5
    print(f"machine: {platform.processor() or platform.machine()}")
    print(f"call: {len(candidates)} applications, budget {budget / 100:.2f} euros")
    figures: dict[str, object] = {"arguments": vars(args), "budget_cents": budget}
    for label, problem in (
        ("plain", SelectionProblem(candidates, budget)),
        ("partial", SelectionProblem(candidates, budget, partial=True)),
        ("quota 40 %", SelectionProblem(candidates, budget, max_share=0.4)),
    ):
        exact, greedy = optimal_selection(problem), greedy_selection(problem)
        print(f"{label:>10}: exact {exact.score:.2f} ({len(exact.funded)} funded, optimal={exact.optimal}, "
              f"{exact.seconds:.2f} s); greedy {greedy.score:.2f} ({len(greedy.funded)} funded, "
              f"{greedy.seconds:.3f} s); ratio {exact.score / greedy.score:.4f}")
        figures[label] = {
            "exact": {"score": exact.score, "optimal": exact.optimal, "seconds": exact.seconds},
            "greedy": {"score": greedy.score, "seconds": greedy.seconds},
        }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "selection.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
