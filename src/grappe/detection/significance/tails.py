"""Tails and quantiles of the normal, Poisson, beta and binomial laws, from ``scipy.special``.

``scipy.stats`` computes the same numbers through the same ``scipy.special`` functions, but
importing it costs over half a second, a large part of a ``grappe detect`` run: these helpers
reproduce its arithmetic (same functions, same order, same edge cases) for the arguments
detection passes. The beta and binomial quantiles use the Boost ufuncs scipy.stats itself
calls (``scipy.special._ufuncs``, scipy >= 1.13); an older scipy falls back on scipy.stats.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, pdtrc

try:  # the ufuncs behind scipy.stats.beta.ppf and binom.ppf (scipy >= 1.13)
    from scipy.special._ufuncs import _beta_ppf, _binom_ppf
except ImportError:  # pragma: no cover - older scipy: the same numbers through scipy.stats
    _beta_ppf = _binom_ppf = None


def normal_sf(z: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``P(Z > z)`` for a standard normal ``Z``: ``scipy.stats.norm.sf(z)``, bit for bit."""
    return np.asarray(ndtr(-np.asarray(z, dtype=np.float64)))


def poisson_log_sf(k: npt.ArrayLike, mu: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``log P(X > k)`` for ``X ~ Poisson(mu)``: ``scipy.stats.poisson.logsf(k, mu)``.

    As scipy: 0 below the support (``k < 0``), NaN for a negative mean.
    """
    k = np.asarray(k, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        tail = np.log(pdtrc(np.floor(k), mu))
    out = np.where(k < 0, 0.0, tail)
    return np.asarray(np.where(mu >= 0, out, np.nan))


def beta_ppf(q: npt.ArrayLike, a: npt.ArrayLike, b: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Quantile ``q`` of the beta law ``B(a, b)``: ``scipy.stats.beta.ppf(q, a, b)``, bit for bit.

    As scipy: 0 at ``q == 0``, 1 at ``q == 1``, NaN outside ``[0, 1]`` or for ``a, b <= 0``.
    """
    if _beta_ppf is None:  # pragma: no cover - older scipy
        from scipy import stats

        return np.asarray(stats.beta.ppf(q, a, b), dtype=np.float64)
    q, a, b = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in (q, a, b)))
    valid = (a > 0) & (b > 0)
    out = np.full(q.shape, np.nan)
    out[valid & (q == 0)] = 0.0
    out[valid & (q == 1)] = 1.0
    inside = valid & (q > 0) & (q < 1)
    if inside.any():
        out[inside] = _beta_ppf(q[inside], a[inside], b[inside])
    return out


def binom_ppf(q: npt.ArrayLike, n: npt.ArrayLike, p: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Quantile ``q`` of the binomial law ``B(n, p)``: ``scipy.stats.binom.ppf(q, n, p)``, bit
    for bit.

    As scipy: -1 at ``q == 0``, ``n`` at ``q == 1``, NaN outside ``[0, 1]``, for a negative or
    fractional ``n`` or for ``p`` outside ``[0, 1]``.
    """
    if _binom_ppf is None:  # pragma: no cover - older scipy
        from scipy import stats

        return np.asarray(stats.binom.ppf(q, n, p), dtype=np.float64)
    q, n, p = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in (q, n, p)))
    with np.errstate(invalid="ignore"):
        valid = (n >= 0) & (np.mod(n, 1) == 0) & (p >= 0) & (p <= 1)
    out = np.full(q.shape, np.nan)
    out[valid & (q == 0)] = -1.0
    at_one = valid & (q == 1)
    out[at_one] = n[at_one]
    inside = valid & (q > 0) & (q < 1)
    if inside.any():
        out[inside] = _binom_ppf(q[inside], n[inside], p[inside])
    return out
