"""Reviewer assignment: the independent check, brute force on tiny calls, infeasibility named."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from review_check import check_assignment

from grappe.calls.assignment import (
    Assignment,
    InfeasibleAssignmentError,
    ReviewProblem,
    greedy_assignment,
    optimal_assignment,
)

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(problem: ReviewProblem, assignment: Assignment) -> float:
    total = check_assignment(
        dict(problem.caps), list(problem.applications), dict(problem.affinity), set(problem.conflicts),
        problem.per_application, list(assignment.rows),
    )
    assert total == pytest.approx(assignment.total)
    return total


def _brute_force(problem: ReviewProblem) -> float | None:
    """The best total over every choice of K reviewers per application (None: infeasible)."""
    choices = [
        [c for c in itertools.combinations(problem.reviewers, problem.per_application)
         if not any((r, a) in problem.conflicts for r in c)]
        for a in problem.applications
    ]
    best = None
    for combo in itertools.product(*choices):
        load = dict.fromkeys(problem.reviewers, 0)
        for chosen in combo:
            for r in chosen:
                load[r] += 1
        if any(load[r] > problem.caps[r] for r in problem.reviewers):
            continue
        total = sum(problem.affinity.get((r, a), 0.0)
                    for a, chosen in zip(problem.applications, combo, strict=True) for r in chosen)
        best = total if best is None else max(best, total)
    return best


@st.composite
def tiny_calls(draw: st.DrawFn) -> ReviewProblem:
    reviewers = tuple(f"r{i}" for i in range(draw(st.integers(1, 4))))
    apps = tuple(f"a{i}" for i in range(draw(st.integers(1, 3))))
    pairs = [(r, a) for r in reviewers for a in apps]
    affinity = {p: draw(st.integers(0, 20)) / 4 for p in draw(st.lists(st.sampled_from(pairs), unique=True))}
    conflicts = frozenset(draw(st.lists(st.sampled_from(pairs), unique=True, max_size=3)))
    caps = {r: draw(st.integers(0, 3)) for r in reviewers}
    return ReviewProblem(reviewers, caps, apps, affinity, conflicts, draw(st.integers(1, 2)))


@given(tiny_calls())
@SETTINGS
def test_the_flow_finds_the_brute_force_optimum_or_says_why_not(problem: ReviewProblem) -> None:
    best = _brute_force(problem)
    if best is None:
        with pytest.raises(InfeasibleAssignmentError):
            optimal_assignment(problem)
        return
    exact = optimal_assignment(problem)
    assert _check(problem, exact) == pytest.approx(best)
    greedy = greedy_assignment(problem)
    if greedy.missing == 0:
        assert _check(problem, greedy) <= best + 1e-9


def test_a_mid_sized_call_is_assigned_within_the_rules_and_beats_greedy() -> None:
    rng = random.Random(7)
    reviewers = tuple(f"R{i:02d}" for i in range(40))
    apps = tuple(f"A{i:03d}" for i in range(120))
    affinity = {(r, a): round(rng.random(), 3) for r in reviewers for a in apps if rng.random() < 0.2}
    conflicts = frozenset((r, a) for r in reviewers for a in apps if rng.random() < 0.05)
    problem = ReviewProblem(reviewers, dict.fromkeys(reviewers, 10), apps, affinity, conflicts, 3)
    exact, greedy = optimal_assignment(problem), greedy_assignment(problem)
    assert exact.missing == 0
    assert _check(problem, exact) >= greedy.total - 1e-9


def _problem(caps: dict[str, int], apps: tuple[str, ...], conflicts: set[tuple[str, str]],
             k: int) -> ReviewProblem:
    return ReviewProblem(tuple(caps), caps, apps, {}, frozenset(conflicts), k)


def test_an_application_with_too_few_free_reviewers_is_named() -> None:
    problem = _problem({"r1": 5, "r2": 5, "r3": 5}, ("A", "B"), {("r1", "B"), ("r2", "B")}, 2)
    with pytest.raises(InfeasibleAssignmentError, match=r"moins de 2 évaluateurs.*B \(1\)"):
        optimal_assignment(problem)


def test_a_total_capacity_below_the_demand_is_named() -> None:
    problem = _problem({"r1": 1, "r2": 1, "r3": 1}, ("A", "B"), set(), 2)
    with pytest.raises(InfeasibleAssignmentError, match=r"capacité totale des évaluateurs 3 < 2 × 2"):
        optimal_assignment(problem)


def test_a_group_whose_reviewers_cannot_take_it_is_named_by_the_minimum_cut() -> None:
    # Every application has a free reviewer and the capacity (3) meets the demand (3), but A
    # and B may only have r1, who has one place: Hall's condition fails on {A, B}.
    caps = {"r1": 1, "r2": 1, "r3": 1}
    conflicts = {("r2", "A"), ("r3", "A"), ("r2", "B"), ("r3", "B"), ("r1", "C")}
    assert optimal_assignment(_problem(caps, ("A", "C"), conflicts, 1)).missing == 0
    with pytest.raises(InfeasibleAssignmentError) as caught:
        optimal_assignment(_problem(caps, ("A", "B", "C"), conflicts, 1))
    assert "les candidatures A, B (2) demandent 2 évaluations" in str(caught.value)
    assert "n'en offrent que 1" in str(caught.value)
