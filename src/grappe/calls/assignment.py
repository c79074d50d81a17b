"""Reviewer assignment: exactly K distinct reviewers per application, no conflict, no cap exceeded.

The rules (CONTRACTS.md, "Batch layouts", assignment): each application gets exactly
``per_application`` distinct reviewers, none of them in conflict with it, and no reviewer gets
more applications than their load cap; the objective is the total affinity of the chosen
(reviewer, application) pairs, an absent pair counting 0.

:func:`optimal_assignment` solves it exactly as a min-cost flow (OR-Tools): each application
sends K units, one per arc to a reviewer it is not in conflict with (capacity 1, cost minus
the affinity), each reviewer passes at most their cap to the sink. Flow problems have integral
optimal solutions, so the flow is the best assignment. Costs are integers: affinities are
scaled by :data:`AFFINITY_SCALE`, so the optimum is exact for affinities given with at most six
decimals. When no assignment exists, :func:`check_feasible` says which constraint fails: an
application with too few reviewers free of conflict, a total capacity below K × applications,
or a group of applications whose reviewers cannot take them all (the minimum cut of a max
flow names the group). :func:`greedy_assignment` is the baseline: pairs by decreasing affinity.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from grappe.errors import InputError

AFFINITY_SCALE = 1_000_000
"""Affinities become integer costs at this scale (six decimals kept exactly)."""
MAX_AFFINITY = 1_000_000
"""The largest affinity (in absolute value) the integer costs hold with room for the totals."""
_LISTED = 5  # applications named in a message before "…"


class InfeasibleAssignmentError(InputError):
    """No assignment satisfies the constraints; the message names the one that fails."""


@dataclass(frozen=True)
class ReviewProblem:
    """Who may review what, how much, and how well.

    Attributes
    ----------
    reviewers
        Names, in file order.
    caps
        The most applications each reviewer may take.
    applications
        Identifiers, in file order.
    affinity
        Affinity by ``(reviewer, application)``; an absent pair counts 0.
    conflicts
        ``(reviewer, application)`` pairs that may not be assigned.
    per_application
        Reviewers each application needs (K).
    """

    reviewers: tuple[str, ...]
    caps: Mapping[str, int]
    applications: tuple[str, ...]
    affinity: Mapping[tuple[str, str], float]
    conflicts: frozenset[tuple[str, str]]
    per_application: int

    def allowed(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (application index, reviewer index) pair without conflict, reviewer cap > 0."""
        rev = np.array([self.caps[r] > 0 for r in self.reviewers])
        grid_apps, grid_revs = np.meshgrid(
            np.arange(len(self.applications)), np.flatnonzero(rev), indexing="ij"
        )
        apps, revs = grid_apps.ravel(), grid_revs.ravel()
        if self.conflicts:
            app_index = {a: i for i, a in enumerate(self.applications)}
            rev_index = {r: j for j, r in enumerate(self.reviewers)}
            banned = {
                app_index[a] * len(self.reviewers) + rev_index[r]
                for r, a in self.conflicts
                if a in app_index and r in rev_index  # a conflict outside the call binds nothing
            }
            keep = ~np.isin(apps * len(self.reviewers) + revs, np.fromiter(banned, np.int64))
            apps, revs = apps[keep], revs[keep]
        return apps, revs


@dataclass(frozen=True)
class Assignment:
    """An assignment and its objective.

    Attributes
    ----------
    rows
        ``(application, reviewer, affinity)``, by application in file order, best affinity first.
    total
        The total affinity of the rows.
    missing
        Reviews the assignment lacks (0 for the solver; greedy may strand some applications).
    seconds
        Wall time spent.
    """

    rows: tuple[tuple[str, str, float], ...]
    total: float
    missing: int
    seconds: float


def _assignment(problem: ReviewProblem, apps: np.ndarray, revs: np.ndarray, started: float) -> Assignment:
    affinity = _affinities(problem, apps, revs)
    order = np.lexsort((revs, -affinity, apps))  # by application in file order, best first
    rows = [
        (problem.applications[apps[i]], problem.reviewers[revs[i]], float(affinity[i]))
        for i in order.tolist()
    ]
    return Assignment(
        tuple(rows),
        float(sum(row[2] for row in rows)),
        problem.per_application * len(problem.applications) - len(rows),
        time.perf_counter() - started,
    )


def _affinities(problem: ReviewProblem, apps: np.ndarray, revs: np.ndarray) -> np.ndarray:
    return np.array(
        [
            problem.affinity.get((problem.reviewers[r], problem.applications[a]), 0.0)
            for a, r in zip(apps.tolist(), revs.tolist(), strict=True)
        ],
        dtype=float,
    )


def check_feasible(problem: ReviewProblem) -> None:
    """Raise :class:`InfeasibleAssignmentError` naming the constraint no assignment can meet."""
    from ortools.graph.python import max_flow

    k = problem.per_application
    n_apps, n_revs = len(problem.applications), len(problem.reviewers)
    apps, revs = problem.allowed()
    free = np.bincount(apps, minlength=n_apps)
    short = np.flatnonzero(free < k)
    if len(short):
        named = ", ".join(f"{problem.applications[i]} ({free[i]})" for i in short[:_LISTED])
        raise InfeasibleAssignmentError(
            f"{len(short)} candidature(s) ont moins de {k} évaluateurs sans conflit ni plafond nul : "
            f"{named}{' …' if len(short) > _LISTED else ''}"
        )
    load = np.bincount(revs, minlength=n_revs)
    capacity = int(sum(min(problem.caps[r], int(load[j])) for j, r in enumerate(problem.reviewers)))
    if capacity < k * n_apps:
        raise InfeasibleAssignmentError(
            f"capacité totale des évaluateurs {capacity} < {k} × {n_apps} candidatures = {k * n_apps} "
            "évaluations demandées ; relevez les plafonds (load_cap, --load-cap) ou ajoutez des évaluateurs"
        )
    source, sink = n_apps + n_revs, n_apps + n_revs + 1
    flow = max_flow.SimpleMaxFlow()
    flow.add_arcs_with_capacity(np.full(n_apps, source), np.arange(n_apps), np.full(n_apps, k))
    flow.add_arcs_with_capacity(apps, n_apps + revs, np.ones(len(apps), dtype=np.int64))
    flow.add_arcs_with_capacity(
        n_apps + np.arange(n_revs), np.full(n_revs, sink),
        np.array([problem.caps[r] for r in problem.reviewers], dtype=np.int64),
    )
    flow.solve(source, sink)
    if flow.optimal_flow() == k * n_apps:
        return
    # Hall's condition fails: the applications left on the source side of a minimum cut ask for
    # more reviews than the reviewers they may have can give.
    group = sorted(int(v) for v in flow.get_source_side_min_cut() if v < n_apps)
    offered = flow.optimal_flow() - k * (n_apps - len(group))
    named = ", ".join(problem.applications[i] for i in group[:_LISTED])
    raise InfeasibleAssignmentError(
        f"les candidatures {named}{' …' if len(group) > _LISTED else ''} ({len(group)}) demandent "
        f"{k * len(group)} évaluations, mais les évaluateurs sans conflit qui peuvent les prendre "
        f"n'en offrent que {offered} dans leurs plafonds"
    )


def optimal_assignment(problem: ReviewProblem) -> Assignment:
    """The assignment of greatest total affinity (min-cost flow, exact).

    Raises
    ------
    InfeasibleAssignmentError
        No assignment exists; the message says which constraint fails.
    """
    from ortools.graph.python import min_cost_flow

    started = time.perf_counter()
    if any(abs(v) > MAX_AFFINITY for v in problem.affinity.values()):
        raise InputError(f"affinité hors de ±{MAX_AFFINITY} : le calcul exact ne la représente pas")
    check_feasible(problem)
    k = problem.per_application
    n_apps, n_revs = len(problem.applications), len(problem.reviewers)
    apps, revs = problem.allowed()
    sink = n_apps + n_revs
    costs = -np.rint(_affinities(problem, apps, revs) * AFFINITY_SCALE).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    pair_arcs = flow.add_arcs_with_capacity_and_unit_cost(
        apps, n_apps + revs, np.ones(len(apps), dtype=np.int64), costs
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        n_apps + np.arange(n_revs), np.full(n_revs, sink),
        np.array([problem.caps[r] for r in problem.reviewers], dtype=np.int64),
        np.zeros(n_revs, dtype=np.int64),
    )
    flow.set_nodes_supplies(
        np.arange(n_apps + 1 + n_revs),
        np.concatenate([np.full(n_apps, k), np.zeros(n_revs, np.int64), [-k * n_apps]]).astype(np.int64),
    )
    status = flow.solve()
    if status != flow.OPTIMAL:  # check_feasible passed: any other status is a solver failure
        raise RuntimeError(f"min-cost flow status {status}")
    used = flow.flows(pair_arcs) > 0
    return _assignment(problem, apps[used], revs[used], started)


def greedy_assignment(problem: ReviewProblem) -> Assignment:
    """The baseline: pairs by decreasing affinity, kept while the application and the reviewer have room.

    It never breaks a constraint but may leave applications short of reviewers (``missing``).
    """
    started = time.perf_counter()
    apps, revs = problem.allowed()
    affinity = _affinities(problem, apps, revs)
    need = np.full(len(problem.applications), problem.per_application)
    room = np.array([problem.caps[r] for r in problem.reviewers])
    kept: list[int] = []
    for i in np.lexsort((revs, apps, -affinity)).tolist():
        a, r = apps[i], revs[i]
        if need[a] and room[r]:
            need[a] -= 1
            room[r] -= 1
            kept.append(i)
    chosen = np.array(kept, dtype=np.int64)
    return _assignment(problem, apps[chosen], revs[chosen], started)
