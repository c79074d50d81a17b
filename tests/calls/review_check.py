"""An independent check of a reviewer assignment, from plain values and the output rows.

It shares nothing with grappe.calls: it recomputes the total affinity itself.
"""

from __future__ import annotations

from collections import Counter, defaultdict


def check_assignment(
    caps: dict[str, int],
    applications: list[str],
    affinity: dict[tuple[str, str], float],
    conflicts: set[tuple[str, str]],
    k: int,
    rows: list[tuple[str, str, float]],
) -> float:
    """Assert K distinct reviewers each, no conflict, no cap exceeded; return the total affinity."""
    by_application: dict[str, list[str]] = defaultdict(list)
    load: Counter[str] = Counter()
    total = 0.0
    for application, reviewer, value in rows:
        assert reviewer in caps, f"unknown reviewer {reviewer}"
        assert (reviewer, application) not in conflicts, f"{reviewer} in conflict with {application}"
        expected = affinity.get((reviewer, application), 0.0)
        assert abs(value - expected) < 1e-9, f"affinity of {reviewer}/{application}: {value} != {expected}"
        by_application[application].append(reviewer)
        load[reviewer] += 1
        total += expected
    assert set(by_application) == set(applications), "some application has no reviewer"
    for application, reviewers in by_application.items():
        assert len(reviewers) == k, f"{application} has {len(reviewers)} reviewers, not {k}"
        assert len(set(reviewers)) == k, f"{application} has the same reviewer twice"
    for reviewer, n in load.items():
        assert n <= caps[reviewer], f"{reviewer} reviews {n} > cap {caps[reviewer]}"
    return total
