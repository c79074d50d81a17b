"""The normal and Poisson tails detection computes without scipy.stats: scipy's numbers, bit for bit."""

from __future__ import annotations

import numpy as np
from scipy import stats

from grappe.detection.significance.tails import beta_ppf, binom_ppf, normal_sf, poisson_log_sf


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


def test_beta_ppf_is_scipy_beta_ppf_bit_for_bit() -> None:
    rng = np.random.default_rng(11)
    # Clopper-Pearson as refinement asks it: f successes in p draws, f in [0, p]
    p = rng.integers(1, 100_000, 20_000).astype(np.float64)
    f = np.floor(rng.random(20_000) * (p + 1))
    q = rng.choice([0.0005, 0.005, 0.025, 0.975, 0.995, 0.9995], 20_000)
    a = np.concatenate([f + 1.0, [1.0, 0.0, -1.0, 2.0, 2.0, 2.0, np.nan, 3.0]])
    b = np.concatenate([p - f + 1.0, [1.0, 1.0, 1.0, 0.0, 2.0, 2.0, 1.0, np.inf]])
    q = np.concatenate([q, [0.5, 0.5, 0.5, 0.5, 0.0, 1.0, 0.5, 0.5]])
    with np.errstate(invalid="ignore"):
        expected = np.asarray(stats.beta.ppf(q, a, b))
    assert beta_ppf(q, a, b).tobytes() == expected.tobytes()
    assert beta_ppf(q[-3:], a[-3:], b[-3:]).tobytes() == expected[-3:].tobytes()


def test_binom_ppf_is_scipy_binom_ppf_bit_for_bit() -> None:
    rng = np.random.default_rng(13)
    n = rng.integers(0, 100_000, 20_000).astype(np.int64)
    prob = np.concatenate([rng.random(19_990), [0.0, 1.0] * 5])
    q = rng.choice([0.0005, 0.005, 0.025, 0.975, 0.995, 0.9995], 20_000)
    expected = np.asarray(stats.binom.ppf(q, n, prob))
    assert binom_ppf(q, n, prob).tobytes() == expected.tobytes()
    # edges: q at 0 and 1, fractional or negative n, p outside [0, 1], NaN
    q = np.array([0.0, 1.0, 0.5, 0.5, 0.5, 0.5, np.nan, 0.5])
    n = np.array([10.0, 10.0, 2.5, -1.0, 10.0, 10.0, 10.0, np.inf])
    prob = np.array([0.3, 0.3, 0.3, 0.3, -0.1, 1.5, 0.3, 0.3])
    with np.errstate(invalid="ignore"):
        expected = np.asarray(stats.binom.ppf(q, n, prob))
    assert binom_ppf(q, n, prob).tobytes() == expected.tobytes()
