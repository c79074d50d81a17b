"""Sorting values within groups (sectors, families): indicators, rules, Benjamini–Hochberg."""

from __future__ import annotations

import numpy as np


def order_within(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Indices sorting by group, then by value.

    Two passes, a sort of the values then a stable sort of the groups (numpy's radix sort
    when the groups fit 16 bits), about three times as fast as ``np.lexsort((values,
    groups))``. Tied values may come in any order within their group.
    """
    by_value = np.argsort(values)
    keys = groups[by_value]
    if len(keys) and keys.min() >= 0 and keys.max() < 2**16:
        keys = keys.astype(np.uint16)
    return by_value[np.argsort(keys, kind="stable")]
