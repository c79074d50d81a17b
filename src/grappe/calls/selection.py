"""Selection within the budget: the applications whose total score is greatest, proven optimal.

The rules (CONTRACTS.md, "Batch layouts", selection): an application below the minimum score is
not eligible; the funded amounts fit in the budget; the objective is the total score funded.
Amounts are integer cents, so the budget is met to the cent without rounding.

Options, each documented in the README:

* **Partial funding** (``partial``): at most one application may be funded below its request
  (the last one the budget reaches); its score counts pro rata of the amount funded
  (``score × funded / requested``), so funding half a project earns half its score.
* **Quotas** (``max_share``): when the applications carry a ``territory`` and/or ``theme``
  column, no territory and no theme receives more than this share of the budget.

:func:`optimal_selection` solves the integer programme with HiGHS (branch and bound run to a
relative gap of 0, so the optimum is proven); :func:`greedy_selection` is the committee's usual
baseline: by decreasing score, each application funded when it still fits.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

GROUP_COLUMNS = ("territory", "theme")
"""Columns of the applications file that quotas apply to, when present."""
DEFAULT_TIME_LIMIT = 300.0
"""Seconds HiGHS may search before it returns its best selection with the gap it proved."""


@dataclass(frozen=True)
class Candidate:
    """An application: its identifier, score, requested amount in cents and quota groups."""

    application: str
    score: float
    amount: int
    groups: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SelectionProblem:
    """What to choose from, within which budget (cents), under which options."""

    candidates: tuple[Candidate, ...]
    budget: int
    min_score: float | None = None
    partial: bool = False
    max_share: float | None = None

    def eligible(self) -> list[Candidate]:
        """The candidates at or above the minimum score (all when there is none)."""
        return [c for c in self.candidates if self.min_score is None or c.score >= self.min_score]

    def quota_groups(self) -> dict[tuple[str, str], list[int]]:
        """Eligible candidates' positions by (column, value), when quotas apply."""
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        if self.max_share is not None:
            for i, c in enumerate(self.eligible()):
                for column, value in c.groups.items():
                    if value:
                        groups[(column, value)].append(i)
        return dict(groups)

    @property
    def quota(self) -> int | None:
        """The most cents one territory or theme may receive (None without quotas)."""
        return None if self.max_share is None else math.floor(self.max_share * self.budget)


@dataclass(frozen=True)
class Selection:
    """The funded applications and what is known of the choice.

    Attributes
    ----------
    funded
        ``(application, cents)`` in the applications' order; one amount may be below the
        request when partial funding is on.
    score
        Total score funded (pro rata for a partial amount).
    spent
        Cents spent.
    gap
        Relative gap HiGHS proved (0 up to floating-point noise when ``optimal``); ``None`` for
        greedy, which proves nothing.
    optimal
        HiGHS proved the selection optimal (branch and bound closed to a relative gap of 0).
    seconds
        Wall time spent.
    """

    funded: tuple[tuple[str, int], ...]
    score: float
    spent: int
    gap: float | None
    optimal: bool
    seconds: float


def funded_score(candidates: Sequence[Candidate], funded: Mapping[str, int]) -> float:
    """The total score of ``funded`` amounts, each counted pro rata of its request."""
    return float(
        sum(c.score * funded[c.application] / c.amount for c in candidates if c.application in funded)
    )


def _selection(problem: SelectionProblem, amounts: Mapping[str, int], gap: float | None,
               optimal: bool, started: float) -> Selection:
    funded = tuple((c.application, amounts[c.application]) for c in problem.candidates
                   if amounts.get(c.application, 0) > 0)
    return Selection(
        funded,
        funded_score(problem.candidates, dict(funded)),
        sum(cents for _, cents in funded),
        gap,
        optimal,
        time.perf_counter() - started,
    )


def optimal_selection(problem: SelectionProblem, *, time_limit: float = DEFAULT_TIME_LIMIT) -> Selection:
    """The selection of greatest total score (HiGHS branch and bound to a gap of 0)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_array, hstack, identity, vstack

    started = time.perf_counter()
    items = problem.eligible()
    n = len(items)
    if n == 0:
        return _selection(problem, {}, 0.0, True, started)
    score = np.array([c.score for c in items], dtype=float)
    amount = np.array([c.amount for c in items], dtype=float)
    # Columns: x (full funding, 0/1); with partial funding also y (the partial one, 0/1) and
    # f (its cents, integer), whose score counts score / amount per cent.
    zeros = np.zeros(n)
    if problem.partial:
        cost = -np.concatenate([score, zeros, score / amount])
        upper_bounds = np.concatenate([np.ones(2 * n), amount])
    else:
        cost = -score
        upper_bounds = np.ones(n)

    def spending(mask: np.ndarray) -> csr_array:
        """The cents spent on the masked candidates, as one constraint row."""
        full = mask * amount
        return csr_array((np.concatenate([full, zeros, mask]) if problem.partial else full)[None, :])

    rows = [spending(np.ones(n))]
    upper = [float(problem.budget)]
    for members in problem.quota_groups().values():
        mask = zeros.copy()
        mask[members] = 1.0
        rows.append(spending(mask))
        upper.append(float(problem.quota or 0))
    lower = [-np.inf] * len(rows)
    if problem.partial:
        eye = identity(n, format="csr")
        empty = csr_array((n, n))
        rows.append(csr_array(np.concatenate([zeros, np.ones(n), zeros])[None, :]))  # one partial
        rows.append(hstack([eye, eye, empty], format="csr"))  # x + y <= 1
        rows.append(hstack([empty, -eye.multiply(amount[:, None]), eye], format="csr"))  # f <= a y
        upper += [1.0, *np.ones(n), *zeros]
        lower += [-np.inf] * (2 * n + 1)
    constraints = LinearConstraint(vstack(rows, format="csr"), lower, upper)
    result = milp(
        cost,
        constraints=constraints,
        integrality=np.ones(len(cost)),
        bounds=Bounds(np.zeros(len(cost)), upper_bounds),
        options={"mip_rel_gap": 0.0, "time_limit": time_limit},
    )
    if result.x is None:  # only a time limit too short to find anything gets here
        return _selection(problem, {}, None, False, started)
    values = np.rint(result.x).astype(np.int64)
    amounts = {c.application: c.amount for c, x in zip(items, values[:n].tolist(), strict=True) if x}
    if problem.partial:
        amounts |= {c.application: int(f) for c, f in zip(items, values[2 * n:].tolist(), strict=True) if f}
    return _selection(problem, amounts, float(result.mip_gap), result.status == 0, started)


def greedy_selection(problem: SelectionProblem) -> Selection:
    """The baseline: by decreasing score (smaller request first on ties), funded when it fits.

    With partial funding, the first application that no longer fits gets what is left.
    """
    started = time.perf_counter()
    quota = problem.quota
    left = problem.budget
    given: dict[tuple[str, str], int] = defaultdict(int)
    amounts: dict[str, int] = {}
    partial_used = not problem.partial
    order = sorted(enumerate(problem.eligible()), key=lambda ic: (-ic[1].score, ic[1].amount, ic[0]))
    for _, c in order:
        keys = [(col, v) for col, v in c.groups.items() if v] if quota is not None else []
        room = min([left, *[quota - given[k] for k in keys if quota is not None]])
        cents = c.amount if c.amount <= room else (room if not partial_used else 0)
        if cents <= 0:
            continue
        partial_used = partial_used or cents < c.amount
        amounts[c.application] = cents
        left -= cents
        for k in keys:
            given[k] += cents
    return _selection(problem, amounts, None, False, started)
