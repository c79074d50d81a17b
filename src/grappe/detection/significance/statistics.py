"""Getis–Ord Gi* and local Moran's I: the statistics, their analytic moments and the test's driver."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
from numba import njit, prange

from grappe.detection.significance.checks import Transform, _check_transform, _Problem
from grappe.detection.significance.fdr import ALPHA
from grappe.detection.significance.permutation import PERMUTATIONS, _candidates, _Cells, _Draws, _Tested
from grappe.detection.significance.refinement import CONFIDENCE, _Refiner
from grappe.detection.significance.results import GetisOrd, LocalMoran, LocalStatistic
from grappe.detection.weights import SpatialWeights
from grappe.errors import InputError
from grappe.progress import SILENT, Reporter

if TYPE_CHECKING:
    from typing_extensions import Unpack


class Inference(TypedDict, total=False):
    """The inference options :func:`getis_ord` and :func:`local_moran` share, by keyword.

    Each is described in :func:`getis_ord`; :data:`INFERENCE_DEFAULTS` holds the default of
    each one left out.
    """

    permutations: int
    rng: np.random.Generator | None
    fdr: str
    sectors: Sequence[str] | np.ndarray | None
    method: str
    reporter: Reporter
    max_permutations: int | None
    alpha: float
    confidence: float
    refinement: str


#: The default of each inference option.
INFERENCE_DEFAULTS: dict[str, Any] = {
    "permutations": PERMUTATIONS,
    "rng": None,
    "fdr": "territories",
    "sectors": None,
    "method": "shared",
    "reporter": SILENT,
    "max_permutations": None,
    "alpha": ALPHA,
    "confidence": CONFIDENCE,
    "refinement": "sequential",
}


def _problem(
    values: Any, weights: SpatialWeights, verb: str, options: Inference
) -> tuple[_Problem, Reporter]:
    """The checked problem of one statistic's call and its reporter, the defaults filled in."""
    unknown = sorted(set(options) - set(INFERENCE_DEFAULTS))
    if unknown:
        raise TypeError(f"{verb}() got an unexpected keyword argument {unknown[0]!r}")
    chosen = INFERENCE_DEFAULTS | dict(options)
    reporter: Reporter = chosen.pop("reporter")
    return _Problem.build(values, weights, verb=verb, **chosen), reporter


def getis_ord(
    values: Any,
    weights: SpatialWeights,
    *,
    transform: str = "B",
    **options: Unpack[Inference],
) -> GetisOrd:
    """Local Getis–Ord Gi* (self included) of every territory x sector cell, with inference.

    Gi* of territory ``i`` is the weighted sum of the values of ``i`` and its neighbours over
    the sector total; statistic, expectation, variance and z-value are those of esda's
    ``G_Local(y, w, transform, star=True)`` (self weight 1 before the transformation).

    The inference options (``permutations`` to ``refinement``, :class:`Inference`) are
    keywords shared with :func:`local_moran`, each with its default in
    :data:`INFERENCE_DEFAULTS`.

    Parameters
    ----------
    values : array-like or scipy.sparse matrix, shape (territories, sectors) or (territories,)
        Non-negative values (counts, employment), rows aligned with ``weights.ids``.
    weights : SpatialWeights
        Binary neighbours of each territory.
    transform : {"B", "R"}
        Binary weights (default) or row-standardised, as esda applies them.
    permutations : int
        Conditional permutations of round 0, shared by every tested cell (``PERMUTATIONS``, by
        default; 0 for analytic inference only).
    rng : numpy.random.Generator
        Source of the permutations; required when ``permutations > 0``. Same generator state,
        same results bit for bit.
    fdr : {"territories", "all"}
        Benjamini–Hochberg family: each sector across territories, or all tested cells.
    sectors : sequence of str, optional
        Column labels (default ``"0"``, ``"1"``...).
    method : {"shared", "direct"}
        ``"shared"`` (default) counts draws with sorted prefix sums shared across cells;
        ``"direct"`` recomputes every cell's draws one by one (slow; for audits). Both give the
        same counts.
    reporter : Reporter
        Progress of the sector blocks and of the refinement rounds.
    max_permutations : int, optional
        Cap of the sequential refinement (``MAX_PERMUTATIONS`` by default, or
        ``permutations`` if larger): the calls are those of the test drawing this many
        permutations for every cell. Equal to ``permutations``: no refinement.
    alpha : float
        Level at which the refinement settles the calls (``ALPHA`` by default).
    confidence : float
        Two-sided confidence of the bounds deciding that a call is settled (``CONFIDENCE``).
    refinement : {"sequential", "full"}
        ``"sequential"`` (default) draws more only for the undecided cells (package notes);
        ``"full"`` gives ``max_permutations`` draws from the same stream to every tested cell
        (slow; the reference the sequential scheme reproduces).

    Returns
    -------
    GetisOrd

    Examples
    --------
    >>> import numpy as np
    >>> from grappe.detection.weights import grid
    >>> cells = grid(np.repeat(np.arange(6) * 1000.0, 6), np.tile(np.arange(6) * 1000.0, 6), 1000)
    >>> y = np.zeros(36); y[[0, 1, 6, 7]] = 10.0; y[20] = 1.0
    >>> res = getis_ord(y, cells.weights, rng=np.random.default_rng(0))
    >>> np.flatnonzero(res.hot(0.05)[:, 0]).tolist(), round(float(res.z[0, 0]), 3)
    ([0, 1, 6], 5.908)
    >>> int(res.sector_draws[0]) > 999, int(res.unsettled.sum())  # refined, all settled
    (True, 0)
    """
    tr = _check_transform(transform)
    problem, reporter = _problem(values, weights, "getis_ord", options)
    result = _run(problem, _GiFinisher(problem, tr), reporter, "Gi* : permutations")
    assert isinstance(result, GetisOrd)
    return result


def local_moran(
    values: Any,
    weights: SpatialWeights,
    *,
    transform: str = "R",
    **options: Unpack[Inference],
) -> LocalMoran:
    """Local Moran's I of every territory x sector cell, with inference.

    Statistic, quadrants and total-randomisation moments ``EI``, ``VI`` are those of esda's
    ``Moran_Local(y, w, transformation)``; esda gives no analytic z-value, grappe's is
    ``(Is - EI) / sqrt(VI)``.

    Parameters
    ----------
    values, weights, permutations, rng, fdr, sectors, method, reporter
        As for :func:`getis_ord`.
    max_permutations, alpha, confidence, refinement
        As for :func:`getis_ord`.
    transform : {"R", "B"}
        Row-standardised weights (default, as esda) or binary.

    Returns
    -------
    LocalMoran
    """
    tr = _check_transform(transform)
    problem, reporter = _problem(values, weights, "local_moran", options)
    if problem.n < 3:
        raise InputError(f"local_moran: needs at least 3 territories (got {problem.n})")
    result = _run(problem, _MoranFinisher(problem, tr), reporter, "Moran local : permutations")
    assert isinstance(result, LocalMoran)
    return result


@dataclass
class _Finished:
    """The statistic of candidate cells, which of them are tested, and their round-0 outcome."""

    statistic: np.ndarray
    z: np.ndarray
    tested: np.ndarray
    up: np.ndarray  # the statistic increases with the neighbour sum
    larger: np.ndarray | None = None  # draws at least as extreme as observed
    z_sim: np.ndarray | None = None


class _GiFinisher:
    """Gi* statistic, moments and permutation outcome, as esda computes them.

    The statistic and z-value of a cell depend only on its value, its neighbour sum and
    constants of its territory and its sector: one elementwise formula gives the candidate
    cells and, on demand, every cell.
    """

    lower = False  # Gi* only counts the draws at least as large as observed

    def __init__(self, problem: _Problem, transform: Transform) -> None:
        self.problem = problem
        self.transform = transform
        w = problem.weights
        n = w.n
        card = w.cardinalities.astype(np.float64)
        if transform == "B":
            self.self_weight = np.ones(n)
            self.other_weight = np.ones(n)
            row_sum = card + 1.0
        else:
            self.self_weight = 1.0 / (card + 1.0)
            self.other_weight = self.self_weight
            row_sum = np.ones(n)
        # esda: E[G*] = W_i / N and Var = W_i (N - W_i) / (N - 1) / N^2 * s^2 / ybar^2.
        self.expected = row_sum / n
        self.var_factor = row_sum * (n - row_sum) / (n - 1) * (1.0 / n**2)
        values = problem.values
        self.total = np.asarray(values.sum(axis=0), dtype=np.float64).ravel()
        self.mean = self.total / n
        squares = np.asarray(values.multiply(values).sum(axis=0), dtype=np.float64).ravel()
        self.variance = squares / n - self.mean**2
        self.valid = (self.total > 0) & (self.variance > 0)

    def _values(
        self, y: np.ndarray, lag: np.ndarray, i: np.ndarray, j: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gi* and z of the cells (territory ``i``, sector ``j``), one compiled pass."""
        return gi_values(
            y, lag, i, j, self.self_weight, self.other_weight, self.expected, self.var_factor,
            self.total, self.mean, self.variance,
        )

    def finish(self, cells: _Cells) -> _Finished:
        statistic, z = self._values(cells.y, cells.lag, cells.rows, cells.cols)
        tested = np.ones(len(cells.rows), dtype=bool)  # every candidate
        out = _Finished(statistic, z, tested, tested)
        if cells.ge is not None:
            # Gi* increases with the neighbour sum (positive weight): z_sim is z_lag.
            out.z_sim = cells.z_lag
            out.larger = cells.ge
        return out

    def dense(self) -> dict[str, np.ndarray]:
        y = self.problem.values.toarray()
        lag = np.asarray(self.problem.weights.adjacency @ y)
        n, s = y.shape
        i = np.repeat(np.arange(n), s)
        j = np.tile(np.arange(s), n)
        statistic, z = self._values(y.ravel(), lag.ravel(), i, j)
        z = z.reshape(n, s)
        z[:, ~self.valid] = np.nan
        return {"statistic": statistic.reshape(n, s), "z": z}

    def result(self, common: dict[str, Any]) -> GetisOrd:
        return GetisOrd(**common, dense=self.dense, expected=self.expected)


class _MoranFinisher:
    """Local Moran's I, moments and permutation outcome, as esda computes them.

    The statistic needs the standardised values of the neighbours (esda's spatial lag of
    ``z``): it is computed on dense blocks of sectors, then taken at the candidate cells.
    """

    lower = True  # below-mean cells count the draws at most as large as observed

    def __init__(self, problem: _Problem, transform: Transform) -> None:
        self.problem = problem
        self.transform = transform
        w = problem.weights
        self.matrix = w.row_standardised if transform == "R" else w.adjacency
        self.wi = np.asarray(self.matrix.sum(axis=1)).ravel()
        self.wi2 = np.asarray(self.matrix.multiply(self.matrix).sum(axis=1)).ravel()
        self.expected = -self.wi / (w.n - 1)
        self.valid = np.zeros(problem.n_sectors, dtype=bool)
        for j0, j1 in problem.blocks():
            self.valid[j0:j1] = problem.block(j0, j1).std(axis=0) > 0

    def _block(self, y: np.ndarray) -> dict[str, np.ndarray]:
        n = self.problem.n
        mean = y.mean(axis=0)
        sd = y.std(axis=0)
        valid = sd > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (y - mean) / sd
            zl = np.asarray(self.matrix @ z)
            den = (z * z).sum(axis=0)
            statistic = (n - 1) * z * zl / den
            m2 = den / n
            m4 = (z**4).sum(axis=0) / n
            b2 = m4 / m2**2
            wi, wi2 = self.wi[:, None], self.wi2[:, None]
            n1 = n - 1
            vi = wi2 * (n - b2) / n1
            vi = vi + (wi**2 - wi2) * (2 * b2 - n) / (n1 * (n - 2))
            vi = vi - (-wi / n1) ** 2
            zvalue = (statistic - self.expected[:, None]) / np.sqrt(vi)
        statistic[:, ~valid] = np.nan
        zvalue[:, ~valid] = np.nan
        zp, lp = z > 0, zl > 0
        quadrant = np.where(zp & lp, 1, np.where(~zp & lp, 2, np.where(~zp & ~lp, 3, 4)))
        quadrant = np.where(valid[None, :], quadrant, 0).astype(np.int8)
        return {"statistic": statistic, "z": zvalue, "quadrant": quadrant, "zs": z}

    def finish(self, cells: _Cells) -> _Finished:
        m = len(cells.rows)
        taken = {name: np.empty(m) for name in ("statistic", "z", "zs")}
        starts = np.searchsorted(cells.cols, np.arange(self.problem.n_sectors + 1))
        for j0, j1 in self.problem.blocks():
            at = slice(starts[j0], starts[j1])
            block = self._block(self.problem.block(j0, j1))
            for name, array in taken.items():
                array[at] = block[name][cells.rows[at], cells.cols[at] - j0]
        z = taken["zs"]
        tested = z != 0
        out = _Finished(taken["statistic"], taken["z"], tested, z > 0)
        if cells.ge is not None:
            assert cells.le is not None
            assert cells.z_lag is not None
            # I_i is increasing in the neighbour sum when z_i > 0, decreasing when z_i < 0.
            out.larger = np.where(z > 0, cells.ge, cells.le)
            out.z_sim = np.where(z > 0, cells.z_lag, -cells.z_lag)
        return out

    def dense(self) -> dict[str, np.ndarray]:
        block = self._block(self.problem.values.toarray())
        return {name: block[name] for name in ("statistic", "z", "quadrant")}

    def result(self, common: dict[str, Any]) -> LocalMoran:
        return LocalMoran(**common, dense=self.dense, expected=self.expected)


def _run(
    problem: _Problem, finisher: _GiFinisher | _MoranFinisher, reporter: Reporter, label: str
) -> LocalStatistic:
    p = problem.permutations
    valid = finisher.valid
    draws = None
    if p:
        assert problem.rng is not None
        draws = _Draws.make(problem.weights.cardinalities, p, problem.rng)
    with reporter.step(label, total=problem.n_sectors) as advance:
        cells = _candidates(problem, valid, draws, finisher.lower)
        out = finisher.finish(cells)
        # Gi* tests every candidate; local Moran not those exactly at the sector mean.
        keep = slice(None) if out.tested.all() else np.flatnonzero(out.tested)
        count_type = np.uint16 if problem.schedule[-1] < 2**16 else np.uint32
        if out.larger is not None:
            larger = out.larger[keep]
            lower = (p - larger) < larger  # esda's fold: fewer draws below than above
            folded = np.where(lower, p - larger, larger).astype(count_type)
            tail = np.where(lower, -1, 1).astype(np.int8)
            del larger, lower
            assert out.z_sim is not None
            z_sim = out.z_sim[keep]
        else:
            tail = np.sign(out.z[keep]).astype(np.int8)
            folded = np.zeros(len(tail), dtype=count_type)
            z_sim = np.full(len(tail), np.nan, dtype=np.float32)
        tested = _Tested(
            rows=cells.rows[keep],
            cols=cells.cols[keep],
            lag=cells.lag[keep],
            statistic=out.statistic[keep],
            z=out.z[keep],
            folded=folded,
            tail=tail,
            z_sim=z_sim,
            draw_round=np.zeros(len(folded), dtype=np.int8),
            up=out.up[keep],
        )
        del cells, out
        advance(problem.n_sectors)
    at_cap = np.zeros(0, dtype=np.int64)
    if len(problem.schedule) > 1:
        refiner = _Refiner(problem, tested, valid)
        at_cap = refiner.run(reporter, label.replace("permutations", "affinage"))
    common = {
        "territories": problem.weights.ids,
        "sectors": problem.sectors,
        "permutations": p,
        "valid_sector": valid,
        "cell_rows": tested.rows,
        "cell_cols": tested.cols,
        "cell_statistic": tested.statistic,
        "cell_z": tested.z,
        "cell_folded": tested.folded,
        "cell_tail": tested.tail,
        "cell_z_sim": tested.z_sim,
        "cell_round": tested.draw_round,
        "cell_at_cap": at_cap,
        "schedule": problem.schedule,
        "alpha": problem.alpha,
        "confidence": problem.confidence,
        "fdr": problem.fdr,
        "transform": finisher.transform,
        "weights_kind": problem.weights.kind,
    }
    return finisher.result(common)


@njit(cache=True, parallel=True, error_model="numpy")
def gi_values(
    y: np.ndarray,
    lag: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    self_weight: np.ndarray,
    other_weight: np.ndarray,
    expected: np.ndarray,
    var_factor: np.ndarray,
    total: np.ndarray,
    mean: np.ndarray,
    variance: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Gi* and its analytic z-value of cells (territory ``i``, sector ``j``, value ``y``,
    neighbour sum ``lag``), as esda computes them: ``(w_ii y + w lag) / total`` and
    ``(G - E[G]) / sqrt(var_factor * variance / mean^2)``; NaN where a sector has none."""
    m = len(y)
    statistic = np.empty(m)
    z = np.empty(m)
    for q in prange(m):
        a, b = i[q], j[q]
        g = (self_weight[a] * y[q] + other_weight[a] * lag[q]) / total[b]
        statistic[q] = g
        z[q] = (g - expected[a]) / np.sqrt(var_factor[a] * (variance[b] / (mean[b] * mean[b])))
    return statistic, z

