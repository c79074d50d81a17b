"""Engine rows to sparse territory x sector matrices: size-band weights, cell index, compiled sums."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import scipy.sparse as sp
from numba import njit

from grappe.detection.aggregate.codes import _OUTSIDE
from grappe.detection.aggregate.sources import FloatArray, IntArray
from grappe.detection.segments import positions
from grappe.errors import InputError

# Employment is summed in integer hundredths: exact, so DuckDB and Spark give the same bits
# whatever the order of their additions (DOUBLE sums depend on it). Band values are
# half-units and their squares quarter-units, so hundredths lose nothing.
_HUNDREDTHS = 100
# A weighting by size band: the band id of each engine row and the integer weight of each id.
Weight = tuple[npt.NDArray[np.integer], IntArray] | None
_NO_BANDS = (np.zeros(0, dtype=np.int16), np.zeros(0, dtype=np.int64))


@dataclass(frozen=True)
class _Bands:
    """Size bands: the engine table ``band -> band_id`` and the values of each band id
    (``low, central, high, sq`` in hundredths; ``sme``; ``employer``, 1 for a band of at
    least one employee), with one more id, :attr:`unknown_id`, for a code outside the table
    (values 0, ``sme`` of the unknown band).
    """

    table: pa.Table
    unknown: str
    values: dict[str, IntArray]

    @property
    def unknown_id(self) -> int:
        return len(self.values["sme"]) - 1

    @classmethod
    def load(cls) -> _Bands:
        from grappe.refdata import sizes

        bands = sizes.size_bands()
        codes = bands.column("code").to_pylist()
        unknown = "NN"
        if unknown not in codes:
            raise InputError("tranches d'effectifs : la table de référence n'a pas de tranche 'NN'")
        columns = {
            name: np.asarray(bands[name].to_numpy(zero_copy_only=False), dtype=np.float64)
            for name in ("low", "central", "high")
        }
        columns["sq"] = columns["central"] ** 2
        values = {
            name: np.append(np.round(column * _HUNDREDTHS).astype(np.int64), 0)
            for name, column in columns.items()
        }
        # Firm category by headcount alone: TPE and PME are the SMEs (< 250 staff).
        sme = [int(sizes.category_of_band(code) in {"TPE", "PME"}) for code in codes]
        values["sme"] = np.asarray([*sme, sme[codes.index(unknown)]], dtype=np.int64)
        # Employer establishments: a band of at least one employee (not NN, not 00).
        lows = bands.column("low").to_pylist()
        values["employer"] = np.asarray([*(int(low >= 1) for low in lows), 0], dtype=np.int64)
        table = pa.table(
            {"band": pa.array(codes, pa.string()), "band_id": pa.array(np.arange(len(codes), dtype=np.int16))}
        )
        return cls(table=table, unknown=unknown, values=values)


@dataclass(frozen=True)
class _Index:
    """Rows and columns kept in the result: territories and sectors present at the snapshot."""

    territories: IntArray
    sectors: IntArray

    @classmethod
    def build(cls, tid: IntArray, sid: IntArray, present: npt.NDArray[np.bool_]) -> _Index:
        # Rows: every territory with activity, in a column or only outside the sector
        # groups (which may cover part of the economy); columns: the sectors.
        # Engine ids are small non-negative integers once outside ones are left out.
        sector = present & (sid != _OUTSIDE)
        return cls(
            territories=np.flatnonzero(np.bincount(tid[present])),
            sectors=np.flatnonzero(np.bincount(sid[sector])),
        )

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.territories), len(self.sectors)

    def locate(self, tid: IntArray, sid: IntArray) -> tuple[IntArray, IntArray]:
        """Row and column of each (tid, sid), the row -1 for an entry left out (a territory
        or a sector not kept)."""
        rows = positions(self.territories, tid)
        cols = positions(self.sectors, sid)
        rows[cols < 0] = -1
        return rows, cols


@dataclass(frozen=True)
class _Assembly:
    """Where each result row of the engine goes: a cell of the matrices (a sector's rows)
    and an entry of the territory totals (the ``whole`` rows)."""

    index: _Index
    layout: _Layout
    territory_rows: IntArray  # the total each row counts in (-1: none)

    @classmethod
    def build(
        cls,
        tid: IntArray,
        sid: IntArray,
        whole: npt.NDArray[np.bool_],
        present: npt.NDArray[np.bool_],
    ) -> _Assembly:
        index = _Index.build(tid, sid, present)
        rows, cols = index.locate(tid, sid)
        # Whole-economy rows of territories without stock at the date (flows only) have no
        # row to land in, like the cells of such territories.
        territory_rows = positions(index.territories, tid)
        territory_rows[~whole] = -1
        return cls(index, _Layout.build(rows, cols, index.shape), territory_rows)

    def matrix(self, values: IntArray, scale: int = 1, weight: Weight = None) -> sp.csr_array:
        """The cells of an engine column (integers), divided by ``scale``; ``weight``: see
        :meth:`_Layout.matrix`."""
        return self.layout.matrix(values, scale, weight)

    def vector(self, values: IntArray, scale: int = 1, weight: Weight = None) -> FloatArray:
        """The territory totals of an engine column (integers), divided by ``scale``."""
        sums = cell_sums(self.territory_rows, values, len(self.index.territories), *_bands(weight))
        return sums / scale if scale != 1 else sums


@dataclass(frozen=True)
class _Layout:
    """The sparsity pattern of (row, col) entries, sorted once and shared by every matrix."""

    shape: tuple[int, int]
    inverse: IntArray  # the cell of each entry (-1: left out)
    indices: npt.NDArray[np.integer]
    indptr: npt.NDArray[np.integer]

    @classmethod
    def build(cls, rows: IntArray, cols: IntArray, shape: tuple[int, int]) -> _Layout:
        """The layout of entries at (``rows``, ``cols``), those of a negative row left out."""
        n_cols = max(shape[1], 1)
        cells, inverse = cell_numbers(rows, cols, shape[0], n_cols)
        indptr = np.searchsorted(cells // n_cols, np.arange(shape[0] + 1))
        # 32-bit indices when they fit, as scipy would choose: half the index memory.
        index_type = np.int32 if len(cells) < 2**31 and n_cols < 2**31 else np.int64
        return cls(shape, inverse, (cells % n_cols).astype(index_type), indptr.astype(index_type))

    def matrix(self, values: IntArray, scale: int = 1, weight: Weight = None) -> sp.csr_array:
        """Integer values of the entries summed cell by cell (exactly), divided by ``scale``,
        as csr_array; with ``weight`` (the band of each entry, the integer weight of each
        band) each value is first multiplied by its band's weight."""
        # Float sums of integers are exact below 2**53, far above any count or hundredths here.
        sums = cell_sums(self.inverse, values, len(self.indices), *_bands(weight))
        data = sums / scale if scale != 1 else sums
        # Copies: eliminate_zeros edits the index arrays in place, and they are shared.
        matrix = sp.csr_array((data, self.indices.copy(), self.indptr.copy()), shape=self.shape)
        matrix.eliminate_zeros()
        return matrix


def _bands(weight: Weight) -> tuple[npt.NDArray[np.integer], IntArray]:
    """The ``band, weight`` arguments of :func:`cell_sums`."""
    return _NO_BANDS if weight is None else weight


# Entries of the table of cells of one block of rows in cell_numbers (256 KiB of int32: a
# table in the core's cache, where a larger one costs a cache miss per entry).
_CELL_TABLE = 2**16


@njit(cache=True)
def cell_numbers(
    rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (row, col) cells of entries, row-major, and the cell of each entry.

    ``np.unique(rows * n_cols + cols, return_inverse=True)`` without a sort: entries with a
    negative row are left out (cell -1). The rows are taken in blocks whose cells fit a table
    of :data:`_CELL_TABLE` entries: the entries are counted by block and copied block after
    block (their cell within the block's table and their position), then each block's cells
    are marked in the table, numbered in order and looked up, reading forward.
    """
    m = len(rows)
    block_rows = max(1, _CELL_TABLE // max(n_cols, 1))
    n_blocks = max(1, (n_rows + block_rows - 1) // block_rows)
    block_ptr = np.zeros(n_blocks + 1, dtype=np.int64)
    for t in range(m):
        if rows[t] >= 0:
            block_ptr[rows[t] // block_rows + 1] += 1
    for b in range(n_blocks):
        block_ptr[b + 1] += block_ptr[b]
    # Each entry's cell within its block's table, and the entry, block after block.
    fill = block_ptr[:-1].copy()
    local = np.empty(block_ptr[n_blocks], dtype=np.int32)
    entry = np.empty(block_ptr[n_blocks], dtype=np.int64)
    for t in range(m):
        if rows[t] >= 0:
            b = rows[t] // block_rows
            local[fill[b]] = (rows[t] - b * block_rows) * n_cols + cols[t]
            entry[fill[b]] = t
            fill[b] += 1
    table = np.full(min(n_rows, block_rows) * n_cols, -1, dtype=np.int32)
    keys = np.empty(block_ptr[n_blocks], dtype=np.int64)
    inverse = np.full(m, -1, dtype=np.int64)
    found = 0
    for b in range(n_blocks):
        first, last = block_ptr[b], block_ptr[b + 1]
        if first == last:
            continue
        for u in range(first, last):
            table[local[u]] = 0
        offset = b * block_rows * n_cols
        for cell in range(min(block_rows, n_rows - b * block_rows) * n_cols):
            if table[cell] == 0:
                table[cell] = found + 1  # shifted: 0 marks a cell seen, not numbered
                keys[found] = cell + offset
                found += 1
        for u in range(first, last):
            inverse[entry[u]] = table[local[u]] - 1
        for u in range(first, last):
            table[local[u]] = -1
    return keys[:found].copy(), inverse


@njit(cache=True)
def cell_sums(
    groups: np.ndarray, values: np.ndarray, n_groups: int, band: np.ndarray, weight: np.ndarray
) -> np.ndarray:
    """Float sums by group of integer values (``np.bincount(groups, weights=values)``, the
    same additions in the same order), entries of a negative group left out; with ``band``
    (not empty) each value is first multiplied by ``weight[band]`` (in integers, exact)."""
    out = np.zeros(n_groups)
    weighted = len(band) > 0
    for t in range(len(groups)):
        g = groups[t]
        if g >= 0:
            if weighted:
                out[g] += float(np.int64(values[t]) * np.int64(weight[band[t]]))
            else:
                out[g] += float(values[t])
    return out

