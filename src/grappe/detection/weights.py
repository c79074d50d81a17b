"""Spatial weights between territories or grid cells: contiguity, k nearest, distance band, grid."""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from grappe.errors import InputError, UnknownCodeError

__all__ = [
    "CONTIGUITY_LEVELS",
    "GridCells",
    "SpatialWeights",
    "cell_id_sql",
    "contiguity",
    "distance_band",
    "grid",
    "grid_cells",
    "knn",
]

CONTIGUITY_LEVELS = ("commune", "epci", "ze", "departement", "region")

#: Cell ids of the Lambert-93 grid: ``L93_{size}m_N{y0}_E{x0}``, (x0, y0) the lower-left corner
#: in metres. INSEE's own grids use ETRS89-LAEA (``CRS3035RES1000mN...E...``); ours keeps the
#: French official projection of SIRENE coordinates, and the same "size, north, east" order.
_CELL_ID = re.compile(r"^L93_(\d+)m_N(-?\d+)_E(-?\d+)$")

# A key packs the (column, row) integer cell coordinates of one grid into an int64.
_KEY_SHIFT = np.int64(1 << 31)
# Keeps |cell row| < 2**30 so that a key decodes back to its (column, row).
_MAX_COORD = 1e9


@dataclass(frozen=True, eq=False)
class SpatialWeights:
    """Binary spatial weights between territories (or grid cells), with their row-standardised view.

    Attributes
    ----------
    ids : numpy.ndarray of str
        Territory codes or grid cell ids, sorted and unique; row ``i`` of every matrix is
        ``ids[i]``.
    adjacency : scipy.sparse.csr_array
        Binary float64 matrix, ``adjacency[i, j] == 1`` when ``ids[j]`` is a neighbour of
        ``ids[i]``; zero diagonal. Symmetric for contiguity, distance band and grid; k nearest
        neighbours are not (``j`` among the k nearest of ``i`` does not imply the converse).
    kind : str
        How the weights were built, e.g. ``"knn(k=8)"``; shown in reports.

    Examples
    --------
    >>> w = knn({"code": ["a", "b", "c"], "x": [0.0, 1.0, 5.0], "y": [0.0, 0.0, 0.0]}, k=1)
    >>> w.cardinalities.tolist()
    [1, 1, 1]
    >>> w.neighbours("c").tolist()
    ['b']
    """

    ids: np.ndarray
    adjacency: sp.csr_array
    kind: str = "custom"

    def __post_init__(self) -> None:
        n = len(self.ids)
        if self.adjacency.shape != (n, n):
            raise InputError(
                f"weights: adjacency has shape {self.adjacency.shape}, expected ({n}, {n}) "
                "for the given ids"
            )
        if n > 1 and not bool(np.all(self.ids[1:] > self.ids[:-1])):
            raise InputError("weights: ids must be sorted and unique")
        if self.adjacency.diagonal().any():
            raise InputError("weights: a territory cannot be its own neighbour (non-zero diagonal)")
        if self.adjacency.nnz and not bool(np.all(self.adjacency.data == 1.0)):
            raise InputError("weights: adjacency must be binary (every stored value equal to 1)")

    @classmethod
    def from_pairs(
        cls, ids: Sequence[str] | np.ndarray, rows: np.ndarray, cols: np.ndarray, kind: str
    ) -> SpatialWeights:
        """Build weights from integer neighbour pairs (``rows[k]`` has neighbour ``cols[k]``).

        ``ids`` need not be sorted: they are, and the pairs renumbered. Duplicate pairs and
        self pairs are dropped.
        """
        ids_arr = np.asarray(ids).astype(str)
        order = np.argsort(ids_arr, kind="stable")
        sorted_ids = ids_arr[order]
        if len(sorted_ids) > 1 and not bool(np.all(sorted_ids[1:] > sorted_ids[:-1])):
            dup = sorted_ids[1:][sorted_ids[1:] == sorted_ids[:-1]][0]
            raise InputError(f"weights: the code {str(dup)!r} appears more than once")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        r = rank[np.asarray(rows, dtype=np.int64)]
        c = rank[np.asarray(cols, dtype=np.int64)]
        keep = r != c
        n = len(ids_arr)
        adjacency = sp.csr_array(
            (np.ones(int(keep.sum())), (r[keep], c[keep])), shape=(n, n), dtype=np.float64
        )
        adjacency.sum_duplicates()
        adjacency.data[:] = 1.0
        adjacency.sort_indices()
        return cls(sorted_ids, adjacency, kind)

    @property
    def n(self) -> int:
        """Number of territories (or cells)."""
        return len(self.ids)

    @cached_property
    def cardinalities(self) -> np.ndarray:
        """Number of neighbours of each territory (int64, aligned with ``ids``)."""
        return np.diff(self.adjacency.indptr).astype(np.int64)

    @cached_property
    def islands(self) -> np.ndarray:
        """Codes of the territories without any neighbour."""
        return self.ids[self.cardinalities == 0]

    @cached_property
    def row_standardised(self) -> sp.csr_array:
        """Row-standardised view: each neighbour of ``i`` weighs ``1 / cardinality[i]``.

        Rows of islands stay empty (all zero), as in libpysal.
        """
        card = self.cardinalities
        scale = np.divide(1.0, card, out=np.zeros(len(card)), where=card > 0)
        out = self.adjacency.copy()
        out.data = np.repeat(scale, card)
        return out

    def neighbours(self, code: str) -> np.ndarray:
        """Codes of the neighbours of one territory."""
        i = self.index(code)
        start, stop = self.adjacency.indptr[i], self.adjacency.indptr[i + 1]
        return self.ids[self.adjacency.indices[start:stop]]

    def index(self, code: str) -> int:
        """Row of a code; ``UnknownCodeError`` when the weights do not hold it."""
        i = int(np.searchsorted(self.ids, code))
        if i >= self.n or self.ids[i] != code:
            raise UnknownCodeError(f"weights: unknown territory code {code!r} ({self.kind})")
        return i

    def reindex(self, codes: Sequence[str] | np.ndarray) -> SpatialWeights:
        """The weights restricted to ``codes`` (neighbours outside them are dropped).

        Raises
        ------
        UnknownCodeError
            When a code is not among ``ids``.
        """
        wanted = np.unique(np.asarray(codes).astype(str))
        pos = np.searchsorted(self.ids, wanted)
        pos_clipped = np.minimum(pos, max(self.n - 1, 0))
        missing = (pos >= self.n) | (self.ids[pos_clipped] != wanted)
        if missing.any():
            bad = wanted[missing]
            raise UnknownCodeError(
                f"weights ({self.kind}): {len(bad)} unknown code(s), first {str(bad[0])!r}"
            )
        sub = self.adjacency[pos][:, pos].tocsr()
        sub.sort_indices()
        return SpatialWeights(wanted, sp.csr_array(sub), self.kind)

    def fill_islands(self, coords: Any, k: int = 1) -> SpatialWeights:
        """Give every island its ``k`` nearest territories (by centroid) as neighbours.

        libpysal leaves islands without neighbours, which makes their local statistics
        undefined; here an island borrows its nearest territories instead. The added links go
        both ways, so symmetric weights stay symmetric.

        Parameters
        ----------
        coords : pyarrow.Table, pandas.DataFrame or mapping
            Columns ``code``, ``x``, ``y`` (Lambert-93 metres) covering at least ``ids``.
        k : int
            Number of neighbours given to each island.
        """
        if len(self.islands) == 0:
            return self
        codes, x, y = _read_coords(coords)
        pos = np.searchsorted(codes, self.ids)
        pos_clipped = np.minimum(pos, len(codes) - 1)
        missing = (pos >= len(codes)) | (codes[pos_clipped] != self.ids)
        if missing.any():
            raise UnknownCodeError(
                f"fill_islands: no coordinates for code {str(self.ids[missing][0])!r}"
            )
        xy = np.column_stack([x[pos], y[pos]])
        rows, cols = _nearest_pairs(xy, np.flatnonzero(self.cardinalities == 0), k)
        coo = self.adjacency.tocoo()
        all_rows = np.concatenate([coo.row, rows, cols])
        all_cols = np.concatenate([coo.col, cols, rows])
        return SpatialWeights.from_pairs(
            self.ids, all_rows, all_cols, f"{self.kind}+islands(k={k})"
        )

    def to_libpysal(self) -> Any:
        """The same weights as a ``libpysal.weights.W`` (binary; ids in the same order).

        libpysal is a development extra; this raises ``ImportError`` without it.
        """
        from libpysal.weights import W

        adj = self.adjacency
        neighbors: dict[str, list[str]] = {}
        ids_list = self.ids.tolist()
        for i, code in enumerate(ids_list):
            neighbors[code] = [ids_list[j] for j in adj.indices[adj.indptr[i] : adj.indptr[i + 1]]]
        return W(neighbors, id_order=ids_list, silence_warnings=True)

    @classmethod
    def from_libpysal(cls, w: Any) -> SpatialWeights:
        """Binary weights from a ``libpysal.weights.W`` (its weight values are ignored)."""
        ids = [str(i) for i in w.id_order]
        index = {code: k for k, code in enumerate(w.id_order)}
        rows: list[int] = []
        cols: list[int] = []
        for code, nbrs in w.neighbors.items():
            rows.extend([index[code]] * len(nbrs))
            cols.extend(index[j] for j in nbrs)
        return cls.from_pairs(
            ids, np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64), "libpysal"
        )


# --------------------------------------------------------------------------- contiguity


def contiguity(
    codes: Sequence[str] | np.ndarray,
    level: str = "commune",
    *,
    pairs: pa.Table | None = None,
    commune_levels: pa.Table | None = None,
) -> SpatialWeights:
    """Contiguity weights: two territories are neighbours when they share a border.

    Commune borders come from the packaged commune contiguity pairs; for an upper level
    (EPCI, zone d'emploi, département, région) two territories touch when any of their
    communes touch. Territories without any neighbour (islands such as Île-de-Sein) are
    listed in ``.islands``; :meth:`SpatialWeights.fill_islands` attaches them to their
    nearest territories.

    Parameters
    ----------
    codes : sequence of str
        Territory codes of ``level`` to keep (rows of the weights); pairs leading outside
        them are dropped, so a regional subset gets the regional contiguity.
    level : {"commune", "epci", "ze", "departement", "region"}
        Territory level of ``codes``.
    pairs : pyarrow.Table, optional
        Commune contiguity pairs, columns ``a`` and ``b`` (commune codes). Defaults to
        ``grappe.refdata.territories.neighbours()``.
    commune_levels : pyarrow.Table, optional
        Column ``commune`` and one column per upper level. Defaults to
        ``grappe.refdata.territories.commune_levels()``; used to validate codes and to
        aggregate pairs to upper levels.

    Raises
    ------
    InputError
        For an unknown level or duplicate codes.
    UnknownCodeError
        For a code that the territory reference does not know.
    """
    if level not in CONTIGUITY_LEVELS:
        raise InputError(
            f"contiguity: level {level!r} is not one of {', '.join(CONTIGUITY_LEVELS)}"
        )
    codes_arr = np.asarray(codes).astype(str)
    if pairs is None or commune_levels is None:
        territories = importlib.import_module("grappe.refdata.territories")
        if pairs is None:
            pairs = territories.neighbours()
        if commune_levels is None:
            commune_levels = territories.commune_levels()
    for name, table, columns in (
        ("pairs", pairs, ("a", "b")),
        ("commune_levels", commune_levels, ("commune", level)),
    ):
        absent = [c for c in columns if c not in table.column_names]
        if absent:
            raise InputError(f"contiguity: {name} lacks column(s) {', '.join(absent)}")
    communes = _column(commune_levels, "commune")
    targets = _column(commune_levels, level)
    known = np.unique(targets[targets != ""])
    pos = np.searchsorted(known, codes_arr)
    bad = (pos >= len(known)) | (known[np.minimum(pos, max(len(known) - 1, 0))] != codes_arr)
    if bad.any():
        raise UnknownCodeError(
            f"contiguity: unknown {level} code {str(codes_arr[bad][0])!r} "
            f"({int(bad.sum())} unknown code(s) in all)"
        )
    # Map each commune of a pair to its territory at `level`, then to its row.
    order = np.argsort(communes, kind="stable")
    communes_sorted, targets_sorted = communes[order], targets[order]
    ids_sorted = np.unique(codes_arr)
    if len(ids_sorted) != len(codes_arr):
        values, counts = np.unique(codes_arr, return_counts=True)
        raise InputError(
            f"contiguity: the code {str(values[counts > 1][0])!r} appears more than once"
        )

    def rows_of(commune_codes: np.ndarray) -> np.ndarray:
        p = np.searchsorted(communes_sorted, commune_codes)
        p_clip = np.minimum(p, len(communes_sorted) - 1)
        found = (p < len(communes_sorted)) & (communes_sorted[p_clip] == commune_codes)
        territory = np.where(found, targets_sorted[p_clip], "")
        q = np.searchsorted(ids_sorted, territory)
        q_clip = np.minimum(q, len(ids_sorted) - 1)
        inside = (q < len(ids_sorted)) & (ids_sorted[q_clip] == territory)
        return np.where(inside, q_clip, -1)

    ra = rows_of(_column(pairs, "a"))
    rb = rows_of(_column(pairs, "b"))
    keep = (ra >= 0) & (rb >= 0) & (ra != rb)
    rows = np.concatenate([ra[keep], rb[keep]])
    cols = np.concatenate([rb[keep], ra[keep]])
    return SpatialWeights.from_pairs(ids_sorted, rows, cols, f"contiguity({level})")


# --------------------------------------------------------------------------- centroids


def knn(coords: Any, k: int = 8) -> SpatialWeights:
    """k-nearest-neighbour weights between centroids (Lambert-93 metres).

    Parameters
    ----------
    coords : pyarrow.Table, pandas.DataFrame or mapping
        Columns ``code``, ``x``, ``y``, such as ``grappe.refdata.territories.centroids(level)``.
    k : int
        Number of neighbours of each territory (at least 1, less than the number of territories).

    Notes
    -----
    Distances are Euclidean in Lambert-93; ties between equidistant neighbours are broken by
    ``scipy.spatial.cKDTree`` (as in libpysal's ``KNN``). The result is not symmetric.
    """
    codes, x, y = _read_coords(coords)
    n = len(codes)
    if not isinstance(k, int | np.integer) or k < 1 or k >= n:
        raise InputError(f"knn: k must be an integer between 1 and {n - 1} (got {k!r})")
    xy = np.column_stack([x, y])
    rows, cols = _nearest_pairs(xy, np.arange(n), int(k))
    return SpatialWeights.from_pairs(codes, rows, cols, f"knn(k={k})")


def distance_band(coords: Any, threshold: float, *, k_islands: int = 1) -> SpatialWeights:
    """Distance-band weights: neighbours are the centroids within ``threshold`` metres.

    Territories without any centroid within the band do not stay islands (libpysal would
    leave them so): they get their ``k_islands`` nearest territories as neighbours, both
    ways, and the ``kind`` says so.

    Parameters
    ----------
    coords : pyarrow.Table, pandas.DataFrame or mapping
        Columns ``code``, ``x``, ``y`` in Lambert-93 metres.
    threshold : float
        Band radius in metres (inclusive), strictly positive.
    k_islands : int
        Neighbours given to territories left alone by the band; 0 keeps them as islands.
    """
    codes, x, y = _read_coords(coords)
    if not np.isfinite(threshold) or threshold <= 0:
        raise InputError(
            f"distance_band: threshold must be a positive distance in metres (got {threshold!r})"
        )
    if k_islands < 0 or k_islands >= len(codes):
        raise InputError(
            f"distance_band: k_islands must be between 0 and {len(codes) - 1} (got {k_islands!r})"
        )
    xy = np.column_stack([x, y])
    from scipy.spatial import cKDTree  # here: scipy.spatial loads slowly, contiguity needs none
    pairs = cKDTree(xy).query_pairs(float(threshold), output_type="ndarray")
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]]).astype(np.int64)
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]]).astype(np.int64)
    kind = f"distance_band({threshold:g} m)"
    card = np.bincount(rows, minlength=len(codes))
    alone = np.flatnonzero(card == 0)
    if k_islands and len(alone):
        r2, c2 = _nearest_pairs(xy, alone, k_islands)
        rows = np.concatenate([rows, r2, c2])
        cols = np.concatenate([cols, c2, r2])
        kind += f"+islands(k={k_islands})"
    return SpatialWeights.from_pairs(codes, rows, cols, kind)


def _nearest_pairs(xy: np.ndarray, which: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) linking each point of ``which`` to its ``k`` nearest other points."""
    if len(which) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    from scipy.spatial import cKDTree  # here: scipy.spatial loads slowly, contiguity needs none
    _, idx = cKDTree(xy).query(xy[which], k=k + 1)
    idx = np.asarray(idx, dtype=np.int64).reshape(len(which), k + 1)
    # The point itself is normally first; with duplicate coordinates it may be elsewhere or
    # crowded out, so drop it where it is, else drop the farthest.
    is_self = idx == which[:, None]
    no_self = ~is_self.any(axis=1)
    is_self[no_self, k] = True
    cols = idx[~is_self].reshape(len(which), k)
    rows = np.repeat(which, k)
    return rows, cols.ravel()


def _column(table: Any, name: str) -> np.ndarray:
    """A table column as a numpy array of str, nulls as the empty string."""
    col = table.column(name) if isinstance(table, pa.Table) else table[name]
    if isinstance(col, pa.ChunkedArray):
        col = col.cast(pa.string()).fill_null("")
        return np.asarray(col.to_numpy(zero_copy_only=False)).astype(str)
    return np.asarray(col).astype(str)


def _read_coords(coords: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted (codes, x, y) from a table with columns code, x, y; validated."""
    names = coords.column_names if isinstance(coords, pa.Table) else list(coords.keys())
    absent = [c for c in ("code", "x", "y") if c not in names]
    if absent:
        raise InputError(f"coordinates lack column(s) {', '.join(absent)} (need code, x, y)")
    codes = _column(coords, "code")
    xs, ys = (
        np.asarray(
            coords.column(c).to_numpy(zero_copy_only=False)
            if isinstance(coords, pa.Table)
            else coords[c],
            dtype=np.float64,
        )
        for c in ("x", "y")
    )
    if not (len(codes) == len(xs) == len(ys)):
        raise InputError("coordinates: columns code, x and y differ in length")
    if len(codes) < 2:
        raise InputError(f"coordinates: need at least 2 territories (got {len(codes)})")
    bad = ~(np.isfinite(xs) & np.isfinite(ys))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"coordinates: territory {str(codes[i])!r} has no valid position "
            f"(x={float(xs[i])!r}, y={float(ys[i])!r})"
        )
    order = np.argsort(codes, kind="stable")
    codes, xs, ys = codes[order], xs[order], ys[order]
    dup = codes[1:] == codes[:-1]
    if dup.any():
        raise InputError(f"coordinates: the code {str(codes[1:][dup][0])!r} appears more than once")
    return codes, xs, ys


# --------------------------------------------------------------------------- grid


@dataclass(frozen=True, eq=False)
class GridCells:
    """Points assigned to the cells of a regular Lambert-93 grid, with queen weights.

    Attributes
    ----------
    size_m : int
        Side of the squares in metres (INSEE publishes 200 m and 1 km grids; 5 km suits
        sparse sectors).
    weights : SpatialWeights
        Queen contiguity (8 neighbours) between occupied cells; ``weights.ids`` are the cell ids
        ``L93_{size}m_N{y0}_E{x0}``, sorted.
    x0, y0 : numpy.ndarray of int64
        Lower-left corner of each cell, aligned with ``weights.ids``.
    cell_index : numpy.ndarray of int64
        For each input point, its row in ``weights.ids`` (empty for :func:`grid_cells`).
    """

    size_m: int
    weights: SpatialWeights
    x0: np.ndarray
    y0: np.ndarray
    cell_index: np.ndarray

    @property
    def ids(self) -> np.ndarray:
        """Cell ids, sorted (same as ``weights.ids``)."""
        return self.weights.ids

    def point_cells(self) -> np.ndarray:
        """Cell id of each input point."""
        return self.weights.ids[self.cell_index]

    def counts(self) -> np.ndarray:
        """Number of points in each cell (aligned with ``ids``)."""
        return np.bincount(self.cell_index, minlength=self.weights.n)


def _check_size(size_m: int) -> int:
    if not isinstance(size_m, int | np.integer) or size_m <= 0:
        raise InputError(f"grid: size_m must be a positive whole number of metres (got {size_m!r})")
    return int(size_m)


def _format_ids(size_m: int, x0: np.ndarray, y0: np.ndarray) -> np.ndarray:
    # Only unique cells get a string id (never one per establishment).
    return np.asarray(
        [f"L93_{size_m}m_N{b}_E{a}" for a, b in zip(x0.tolist(), y0.tolist(), strict=True)],
        dtype=str,
    )


def _queen(size_m: int, ix: np.ndarray, iy: np.ndarray, ids: np.ndarray) -> GridCells:
    """Queen weights between the occupied cells (ix, iy), ids already aligned."""
    order = np.argsort(ids, kind="stable")
    ix, iy, ids = ix[order], iy[order], ids[order]
    keys = ix * _KEY_SHIFT + iy
    key_order = np.argsort(keys)
    sorted_keys = keys[key_order]
    rows_list: list[np.ndarray] = []
    cols_list: list[np.ndarray] = []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            if dx == 0 and dy == 0:
                continue
            target = (ix + dx) * _KEY_SHIFT + (iy + dy)
            pos = np.searchsorted(sorted_keys, target)
            pos_clip = np.minimum(pos, len(sorted_keys) - 1)
            hit = (pos < len(sorted_keys)) & (sorted_keys[pos_clip] == target)
            rows_list.append(np.flatnonzero(hit))
            cols_list.append(key_order[pos_clip[hit]])
    weights = SpatialWeights.from_pairs(
        ids, np.concatenate(rows_list), np.concatenate(cols_list), f"grid({size_m} m, queen)"
    )
    return GridCells(size_m, weights, ix * size_m, iy * size_m, np.empty(0, dtype=np.int64))


def grid(
    x: np.ndarray | Sequence[float], y: np.ndarray | Sequence[float], size_m: int
) -> GridCells:
    """Assign points (Lambert-93 metres) to the squares of a regular grid; queen weights.

    A point belongs to the square whose lower-left corner is
    ``(floor(x / size_m) * size_m, floor(y / size_m) * size_m)``: points on a border go to
    the square above / to the right. Only occupied squares are kept; two squares are
    neighbours when they share an edge or a corner (queen, up to 8 neighbours).

    Parameters
    ----------
    x, y : array-like of float
        Lambert-93 coordinates of the points (e.g. establishments), same length.
    size_m : int
        Side of the squares in metres (1000 and 5000 in grappe's reports).

    Returns
    -------
    GridCells
        Cells, weights and the cell of every point.

    Examples
    --------
    >>> xs = [652_100.0, 652_900.0, 653_500.0]
    >>> cells = grid(xs, [6_862_300.0, 6_862_999.0, 6_862_000.0], 1000)
    >>> cells.ids.tolist()
    ['L93_1000m_N6862000_E652000', 'L93_1000m_N6862000_E653000']
    >>> cells.counts().tolist()
    [2, 1]
    """
    size = _check_size(size_m)
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    if xs.shape != ys.shape or xs.ndim != 1:
        raise InputError(
            f"grid: x and y must be 1-D of equal length (got {xs.shape} and {ys.shape})"
        )
    if len(xs) == 0:
        raise InputError("grid: no points to assign")
    bad = ~(np.isfinite(xs) & np.isfinite(ys))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"grid: point {i} has no valid position (x={float(xs[i])!r}, y={float(ys[i])!r})"
        )
    far = (np.abs(xs) >= _MAX_COORD) | (np.abs(ys) >= _MAX_COORD)
    if far.any():
        i = int(np.flatnonzero(far)[0])
        raise InputError(
            f"grid: point {i} lies outside any plausible Lambert-93 extent "
            f"(x={float(xs[i])!r}, y={float(ys[i])!r})"
        )
    ix = np.floor(xs / size).astype(np.int64)
    iy = np.floor(ys / size).astype(np.int64)
    keys, inverse = np.unique(ix * _KEY_SHIFT + iy, return_inverse=True)
    cx = np.floor_divide(keys + _KEY_SHIFT // 2, _KEY_SHIFT)
    cy = keys - cx * _KEY_SHIFT
    ids = _format_ids(size, cx * size, cy * size)
    cells = _queen(size, cx, cy, ids)
    # Rows of `cells` are sorted by id; map each unique key to its row.
    row_of_key = np.searchsorted(cells.weights.ids, ids)
    return GridCells(size, cells.weights, cells.x0, cells.y0, row_of_key[inverse])


def grid_cells(cell_ids: Sequence[str] | np.ndarray) -> GridCells:
    """Queen weights between grid cells known by their ids (e.g. aggregated in DuckDB).

    Raises
    ------
    InputError
        When an id is not ``L93_{size}m_N{y0}_E{x0}`` or the ids mix sizes or are off-grid.
    """
    ids = np.unique(np.asarray(cell_ids).astype(str))
    if len(ids) == 0:
        raise InputError("grid_cells: no cell ids")
    parsed = [_CELL_ID.match(c) for c in ids.tolist()]
    for cid, m in zip(ids.tolist(), parsed, strict=True):
        if m is None:
            raise InputError(f"grid_cells: {cid!r} is not a cell id L93_<size>m_N<y0>_E<x0>")
    sizes = np.asarray([int(m.group(1)) for m in parsed if m is not None], dtype=np.int64)
    if (sizes != sizes[0]).any():
        raise InputError(f"grid_cells: ids mix cell sizes {sorted(set(sizes.tolist()))}")
    size = _check_size(int(sizes[0]))
    y0 = np.asarray([int(m.group(2)) for m in parsed if m is not None], dtype=np.int64)
    x0 = np.asarray([int(m.group(3)) for m in parsed if m is not None], dtype=np.int64)
    off = (x0 % size != 0) | (y0 % size != 0)
    if off.any():
        raise InputError(f"grid_cells: {str(ids[off][0])!r} is not aligned on a {size} m grid")
    return _queen(size, x0 // size, y0 // size, ids)


def cell_id_sql(x: str, y: str, size_m: int) -> str:
    """A DuckDB SQL expression giving the grid cell id of columns ``x``, ``y``.

    Same rule and format as :func:`grid`, so cells aggregated in the engine match
    :func:`grid_cells`. ``x`` and ``y`` are column names (quoted here).
    """
    size = _check_size(size_m)
    for name in (x, y):
        if not name or '"' in name:
            raise InputError(f"cell_id_sql: invalid column name {name!r}")
    return (
        f"'L93_{size}m_N' || CAST(CAST(floor(\"{y}\" / {size}) AS BIGINT) * {size} AS VARCHAR)"
        f" || '_E' || CAST(CAST(floor(\"{x}\" / {size}) AS BIGINT) * {size} AS VARCHAR)"
    )
