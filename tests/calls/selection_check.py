"""An independent check of a selection, from plain values and the output rows (cents).

It shares nothing with grappe.calls: it recomputes the funded score itself.
"""

from __future__ import annotations

from collections import Counter


def check_selection(
    applications: dict[str, tuple[float, int, dict[str, str]]],
    budget: int,
    rows: list[tuple[str, int]],
    *,
    min_score: float | None = None,
    partial: bool = False,
    max_share: float | None = None,
) -> float:
    """Assert budget, eligibility, full amounts (one partial at most), quotas; return the score.

    ``applications`` maps an identifier to (score, requested cents, {column: group}).
    """
    spent = 0
    partials = 0
    score = 0.0
    given: Counter[tuple[str, str]] = Counter()
    names = [name for name, _ in rows]
    assert len(names) == len(set(names)), "an application funded twice"
    for name, cents in rows:
        value, requested, groups = applications[name]
        assert min_score is None or value >= min_score, f"{name} below the minimum score"
        assert 0 < cents <= requested, f"{name}: {cents} outside 1..{requested}"
        if cents < requested:
            partials += 1
        spent += cents
        score += value * cents / requested
        for column, group in groups.items():
            if group:
                given[(column, group)] += cents
    assert spent <= budget, f"spent {spent} > budget {budget}"
    assert partials <= (1 if partial else 0), f"{partials} partial amounts"
    if max_share is not None:
        for key, cents in given.items():
            assert cents <= max_share * budget + 1e-9, f"{key} receives {cents} > its quota"
    return score
