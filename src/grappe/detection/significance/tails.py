"""Tail probabilities of the normal and Poisson laws, from ``scipy.special`` alone.

``scipy.stats`` computes the same numbers through the same ``scipy.special`` functions, but
importing it costs over a second, most of a ``grappe detect`` run's start: these helpers
reproduce its arithmetic (same functions, same order) for the arguments detection passes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, pdtrc


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
