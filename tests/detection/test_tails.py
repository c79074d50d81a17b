"""The normal and Poisson tails detection computes without scipy.stats: scipy's numbers, bit for bit."""

from __future__ import annotations

import numpy as np
from scipy import stats

from grappe.detection.significance.tails import normal_sf, poisson_log_sf


def test_normal_sf_is_scipy_norm_sf_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    z = np.concatenate([rng.normal(0.0, 4.0, 20_000),
                        [0.0, -0.0, 38.5, -38.5, np.inf, -np.inf, np.nan, 1e-300]])
    assert normal_sf(z).tobytes() == np.asarray(stats.norm.sf(z)).tobytes()


def test_poisson_log_sf_is_scipy_poisson_logsf_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    # observed - 1 as detection passes it: -1 for an empty cell, then counts; means from 0 up
    k = np.concatenate([rng.integers(0, 400, 20_000) - 1.0, [-1.0, 0.0, 3.0, 1e6, 2.5]])
    mu = np.concatenate([rng.exponential(30.0, 20_000), [0.0, 0.0, 1e-12, 2.0, -1.0]])
    assert poisson_log_sf(k, mu).tobytes() == np.asarray(stats.poisson.logsf(k, mu)).tobytes()
