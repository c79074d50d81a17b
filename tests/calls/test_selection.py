"""Selection: the independent check, brute force on tiny calls, partial funding and quotas."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selection_check import check_selection

from grappe.calls.selection import Candidate, Selection, SelectionProblem, greedy_selection, optimal_selection

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(problem: SelectionProblem, selection: Selection) -> float:
    score = check_selection(
        {c.application: (c.score, c.amount, dict(c.groups)) for c in problem.candidates},
        problem.budget, list(selection.funded), min_score=problem.min_score,
        partial=problem.partial, max_share=problem.max_share,
    )
    assert score == pytest.approx(selection.score)
    return score


def _brute_force(problem: SelectionProblem) -> float:
    """The best score over every subset funded in full, plus the best partial amount if allowed."""
    items = [c for c in problem.candidates if problem.min_score is None or c.score >= problem.min_score]
    quota = None if problem.max_share is None else problem.max_share * problem.budget

    def room(given: Counter[tuple[str, str]], c: Candidate) -> float:
        if quota is None:
            return float("inf")
        return min([quota - given[(k, v)] for k, v in c.groups.items() if v], default=float("inf"))

    best = 0.0
    for size in range(len(items) + 1):
        for subset in itertools.combinations(items, size):
            spent = sum(c.amount for c in subset)
            given: Counter[tuple[str, str]] = Counter()
            for c in subset:
                for k, v in c.groups.items():
                    if v:
                        given[(k, v)] += c.amount
            if spent > problem.budget or (quota is not None and any(g > quota for g in given.values())):
                continue
            value = sum(c.score for c in subset)
            extra = 0.0
            if problem.partial:
                for c in items:
                    if c not in subset:
                        cents = int(min(c.amount, problem.budget - spent, room(given, c)))
                        extra = max(extra, c.score * max(cents, 0) / c.amount)
            best = max(best, value + extra)
    return best


@st.composite
def tiny_calls(draw: st.DrawFn) -> SelectionProblem:
    n = draw(st.integers(0, 6))
    candidates = tuple(
        Candidate(f"a{i}", draw(st.integers(0, 40)) / 2, draw(st.integers(1, 30)),
                  {"territory": draw(st.sampled_from(["84", "13", ""]))})
        for i in range(n)
    )
    return SelectionProblem(
        candidates,
        draw(st.integers(0, 80)),
        min_score=draw(st.none() | st.sampled_from([5.0, 10.0])),
        partial=draw(st.booleans()),
        max_share=draw(st.none() | st.sampled_from([0.3, 0.5, 1.0])),
    )


@given(tiny_calls())
@SETTINGS
def test_the_solver_finds_the_brute_force_optimum(problem: SelectionProblem) -> None:
    exact, greedy = optimal_selection(problem), greedy_selection(problem)
    best = _brute_force(problem)
    assert exact.optimal
    assert _check(problem, exact) == pytest.approx(best, abs=1e-6)
    assert _check(problem, greedy) <= best + 1e-6


def test_a_thousand_applications_are_selected_to_a_proven_optimum() -> None:
    rng = random.Random(3)
    candidates = tuple(
        Candidate(f"A{i:04d}", rng.randint(20, 200) / 10, rng.randint(20_000, 400_000) * 100,
                  {"territory": rng.choice(["84", "13", "75", "69"]), "theme": rng.choice("abc")})
        for i in range(1000)
    )
    problem = SelectionProblem(candidates, 40_000_000_00, min_score=8.0, max_share=0.4)
    exact, greedy = optimal_selection(problem), greedy_selection(problem)
    assert exact.optimal
    assert _check(problem, exact) >= _check(problem, greedy)


def test_partial_funding_gives_the_rest_of_the_budget_pro_rata() -> None:
    problem = SelectionProblem(
        (Candidate("big", 10.0, 100), Candidate("small", 4.0, 50)), budget=120, partial=True
    )
    exact = optimal_selection(problem)
    assert dict(exact.funded) == {"big": 100, "small": 20}
    assert exact.score == pytest.approx(10 + 4 * 20 / 50)
    assert dict(optimal_selection(SelectionProblem(problem.candidates, 120)).funded) == {"big": 100}
