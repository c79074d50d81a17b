"""Co-location relatedness between sectors, relatedness density and economic complexity."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from grappe.detection.counts import Counts
from grappe.errors import InputError

MEASURES: tuple[str, ...] = ("establishments", "employment", "employment_low", "employment_high")
PRESENCE_TESTS: tuple[str, ...] = ("rca", "count")
NORMALISATIONS: tuple[str, ...] = ("probability", "association", "cosine", "jaccard")
FRAMES: tuple[str, ...] = ("cells", "pairs", "sectors", "territories")


@dataclass(frozen=True, eq=False)
class Relatedness:
    """Co-location of sectors across the territories of one level, and what follows from it.

    Built by :func:`relatedness`. Territories are rows (``T``), sectors columns (``S``).
    Everything is computed from the binary presence matrix ``M`` (``presence_matrix``):

    * ``presence="rca"``: ``M_ts = 1`` when the revealed comparative advantage (Balassa's
      RCA, i.e. the location quotient) ``RCA_ts = (x_ts / x_t.) / (x_.s / x..)`` is at least
      ``threshold`` (1 by default), as in Hidalgo et al. (2007) and py-ecomplexity;
    * ``presence="count"``: ``M_ts = 1`` when the raw value ``x_ts`` is at least
      ``threshold`` (e.g. one establishment): plain co-occurrence, without specialisation.

    The co-occurrence matrix is ``C = M^T M``: ``C_ij`` is the number of territories where
    sectors ``i`` and ``j`` are both present, and ``C_ii = u_i``, the ubiquity of ``i``.
    With ``N`` the number of territories, the normalisations (:meth:`normalised`) are

    * ``probability``: ``C_ij / max(u_i, u_j)``, the minimum of the two conditional
      probabilities ``P(i | j)`` and ``P(j | i)``: the *proximity* of Hidalgo, Klinger,
      Barabási & Hausmann (2007), "The product space conditions the development of
      nations", Science 317, as py-ecomplexity computes it;
    * ``association``: ``N C_ij / (u_i u_j)``, observed co-occurrence over its expectation
      when presences are independent across territories (the association strength of
      van Eck & Waltman 2009, JASIST 60(8), scaled so that 1 means independence; the
      observed/expected ratio of Neffke & Henning 2013, SMJ 34(3));
    * ``cosine``: ``C_ij / sqrt(u_i u_j)`` (Salton's cosine of the presence vectors);
    * ``jaccard``: ``C_ij / (u_i + u_j - C_ij)``.

    All are symmetric. Diagonal convention: the diagonal holds the formula at ``i = j``,
    that is 1 for probability, cosine and Jaccard (as py-ecomplexity, whose density counts a
    sector's own presence) and ``N / u_i`` for association. A sector present nowhere
    (``u_i = 0``) has a row and column of zeros, diagonal included: there is no evidence.

    Attributes
    ----------
    territory_level, sector_level : str
        Levels of the rows and columns, from the :class:`~grappe.detection.counts.Counts`.
    territories, sectors : numpy.ndarray of str
        Codes of rows and columns.
    measure, presence, threshold, normalisation : str, str, float, str
        How ``M`` and :attr:`matrix` were made (see :func:`relatedness`).
    values : scipy.sparse.csr_array
        The ``T x S`` measure the presence test read (establishments or employment).
    rca : scipy.sparse.csr_array
        ``T x S`` revealed comparative advantage (zero where the value is zero; rows of
        territories with nothing are zero).
    presence_matrix : scipy.sparse.csr_array
        ``T x S`` binary matrix ``M`` (float64 ones).
    cooccurrence : numpy.ndarray
        ``S x S`` matrix ``C = M^T M``.
    matrix : numpy.ndarray
        ``S x S`` relatedness in the chosen normalisation.
    diversity : numpy.ndarray
        Per territory, the number of sectors present (``k_{t,0}``).
    ubiquity : numpy.ndarray
        Per sector, the number of territories where it is present (``k_{s,0}``).
    sector_totals : numpy.ndarray
        Per sector, the national total of the measure (used to name sector groups).

    Lazy attributes (computed on first access, then kept): :attr:`proximity`,
    :attr:`density`, :attr:`eci`, :attr:`pci`, :attr:`coi`, :attr:`cog`.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> x = sp.csr_array(np.array([[4.0, 1, 0], [3, 0, 2], [0, 2, 5]]))
    >>> rel = relatedness_from_matrix(x, ["t1", "t2", "t3"], ["a", "b", "c"])
    >>> rel.cooccurrence.astype(int).tolist()
    [[2, 1, 0], [1, 2, 1], [0, 1, 1]]
    >>> rel.matrix.tolist()
    [[1.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 1.0]]
    """

    territory_level: str
    sector_level: str
    territories: np.ndarray
    sectors: np.ndarray
    measure: str
    presence: str
    threshold: float
    normalisation: str
    values: sp.csr_array
    rca: sp.csr_array
    presence_matrix: sp.csr_array
    cooccurrence: np.ndarray
    matrix: np.ndarray
    diversity: np.ndarray
    ubiquity: np.ndarray
    sector_totals: np.ndarray

    def normalised(self, normalisation: str) -> np.ndarray:
        """The ``S x S`` co-occurrence in another normalisation (see the class docstring).

        Raises
        ------
        InputError
            ``normalisation`` is not one of ``probability, association, cosine, jaccard``.
        """
        _check_choice("normalisation", normalisation, NORMALISATIONS)
        if normalisation == self.normalisation:
            return self.matrix
        return _normalise(self.cooccurrence, self.ubiquity, len(self.territories), normalisation)

    @cached_property
    def proximity(self) -> np.ndarray:
        """``S x S`` proximity of Hidalgo et al. (2007): the ``probability`` normalisation."""
        return self.normalised("probability")

    @cached_property
    def density(self) -> np.ndarray:
        """``T x S`` relatedness density: which sectors a territory could grow into.

        ``density_ts = sum_s' M_ts' phi_ss' / sum_s' phi_ss'`` with ``phi`` the chosen
        :attr:`matrix` (Hidalgo et al. 2007, eq. 2; py-ecomplexity ``calc_density``): the
        share of the sectors related to ``s`` that territory ``t`` already holds, each
        weighted by its relatedness. The sum includes ``s'= s`` (diagonal convention above).
        NaN for a sector related to nothing (present nowhere).
        """
        with np.errstate(divide="ignore", invalid="ignore"):
            weights = self.matrix.T / self.matrix.sum(axis=1)[np.newaxis, :]
        return np.asarray(self.presence_matrix @ weights)

    @cached_property
    def _complexity(self) -> _Complexity:
        return _economic_complexity(self.presence_matrix, self.diversity, self.ubiquity)

    @property
    def eci(self) -> np.ndarray:
        """Economic Complexity Index per territory (standardised; NaN where diversity is 0).

        Method of Hidalgo & Hausmann (2009, PNAS 106(26)) as py-ecomplexity computes it:
        ``K_p`` is the eigenvector of the second largest eigenvalue of
        ``M~ = U^-1 M^T D^-1 M`` (``D``, ``U`` diagonal diversity and ubiquity), ``K_c =
        D^-1 M K_p``; the sign makes ECI increase with diversity; ECI is standardised by its
        own mean and standard deviation (population, ddof=0), and PCI by the same mean and
        standard deviation, so that the ECI of a territory stays the mean PCI of its sectors.
        """
        return self._complexity.eci

    @property
    def pci(self) -> np.ndarray:
        """Product (here: sector) Complexity Index (NaN where ubiquity is 0); see :attr:`eci`."""
        return self._complexity.pci

    @cached_property
    def coi(self) -> np.ndarray:
        """Complexity outlook index per territory (standardised), as py-ecomplexity.

        ``COI_t = sum_s density_ts (1 - M_ts) PCI_s``: how many complex sectors lie near
        what the territory already does (Hausmann et al., Atlas of Economic Complexity).
        """
        raw_pci = np.nan_to_num(self._complexity.raw_pci)
        density = np.nan_to_num(self.density)
        # sum_s density (1 - M) pci, without a dense T x S copy of 1 - M (M is sparse).
        held = sp.csr_array(self.presence_matrix.multiply(density))
        coi = density @ raw_pci - held @ raw_pci
        return (coi - coi.mean()) / coi.std()

    @cached_property
    def cog(self) -> np.ndarray:
        """``T x S`` complexity outlook gain, as py-ecomplexity (0 where the sector is present).

        ``COG_ts = (1 - M_ts) sum_s' phi_ss' / (sum_s'' phi_s's'') (1 - M_ts') PCI_s'``,
        divided by the standard deviation of the raw ECI (the gain in outlook if ``t``
        moved into ``s``).
        """
        raw_pci = np.nan_to_num(self._complexity.raw_pci)
        with np.errstate(divide="ignore", invalid="ignore"):
            weighted = self.matrix * (raw_pci / self.matrix.sum(axis=1))[:, np.newaxis]
        weighted = np.nan_to_num(weighted)
        # (1 - M) @ W = colsums(W) - M @ W, then (1 - M) * G zeroes the present cells: M
        # stays sparse, no dense T x S copy of 1 - M.
        gain = weighted.sum(axis=0)[np.newaxis, :] - np.asarray(self.presence_matrix @ weighted)
        present = self.presence_matrix.tocoo()
        gain[present.row, present.col] = 0.0
        gain /= self._complexity.raw_eci_sd
        return gain

    def to_frame(self, what: str = "cells") -> pd.DataFrame:
        """The results as a long table.

        Parameters
        ----------
        what : {"cells", "pairs", "sectors", "territories"}
            ``cells``: one row per territory x sector (``territory, sector, value, rca,
            presence, density, cog``); ``pairs``: one row per pair of distinct sectors
            ``sector_1 < sector_2`` (``cooccurrence, proximity, relatedness``);
            ``sectors``: ``sector, total, ubiquity, pci``; ``territories``: ``territory,
            diversity, eci, coi``.
        """
        _check_choice("what", what, FRAMES)
        n_t, n_s = len(self.territories), len(self.sectors)
        if what == "cells":
            return pd.DataFrame(
                {
                    "territory": np.repeat(self.territories, n_s),
                    "sector": np.tile(self.sectors, n_t),
                    "value": self.values.toarray().ravel(),
                    "rca": self.rca.toarray().ravel(),
                    "presence": self.presence_matrix.toarray().ravel().astype(np.int8),
                    "density": self.density.ravel(),
                    "cog": self.cog.ravel(),
                }
            )
        if what == "pairs":
            first, second = np.triu_indices(n_s, k=1)
            return pd.DataFrame(
                {
                    "sector_1": self.sectors[first],
                    "sector_2": self.sectors[second],
                    "cooccurrence": self.cooccurrence[first, second].astype(np.int64),
                    "proximity": self.proximity[first, second],
                    "relatedness": self.matrix[first, second],
                }
            )
        if what == "sectors":
            return pd.DataFrame(
                {
                    "sector": self.sectors,
                    "total": self.sector_totals,
                    "ubiquity": self.ubiquity.astype(np.int64),
                    "pci": self.pci,
                }
            )
        return pd.DataFrame(
            {
                "territory": self.territories,
                "diversity": self.diversity.astype(np.int64),
                "eci": self.eci,
                "coi": self.coi,
            }
        )


@dataclass(frozen=True)
class _Complexity:
    eci: np.ndarray
    pci: np.ndarray
    raw_pci: np.ndarray
    raw_eci_sd: float


def relatedness(
    counts: Counts,
    *,
    measure: str = "establishments",
    presence: str = "rca",
    threshold: float = 1.0,
    normalisation: str = "probability",
) -> Relatedness:
    """Co-location relatedness of the sectors of ``counts`` across its territories.

    Parameters
    ----------
    counts : Counts
        Territory x sector matrices of one fabric snapshot.
    measure : {"establishments", "employment", "employment_low", "employment_high"}
        Which matrix of ``counts`` the presence test reads.
    presence : {"rca", "count"}
        ``rca``: a sector is present in a territory when its RCA (location quotient) is at
        least ``threshold`` (specialisation, as py-ecomplexity's ``presence_test="rca"``);
        ``count``: when its raw value is at least ``threshold`` (raw co-occurrence).
    threshold : float
        Threshold of the presence test, > 0 (default 1).
    normalisation : {"probability", "association", "cosine", "jaccard"}
        Normalisation of the co-occurrence held in :attr:`Relatedness.matrix` and used by
        the density (``probability`` is the proximity of py-ecomplexity).

    Returns
    -------
    Relatedness

    Raises
    ------
    InputError
        An argument outside its allowed values, or a measure that is zero everywhere.

    Examples
    --------
    >>> rel = relatedness(counts, measure="employment")  # doctest: +SKIP
    >>> rel.to_frame("pairs").nlargest(5, "proximity")  # doctest: +SKIP
    """
    _check_choice("measure", measure, MEASURES)
    values = getattr(counts, measure)
    if not values.count_nonzero():
        raise InputError(
            f"measure={measure!r} is zero everywhere in these counts "
            "(aggregated table without headcounts? use measure='establishments')"
        )
    return relatedness_from_matrix(
        values,
        counts.territories,
        counts.sectors,
        measure=measure,
        presence=presence,
        threshold=threshold,
        normalisation=normalisation,
        territory_level=counts.territory_level,
        sector_level=counts.sector_level,
    )


def relatedness_from_matrix(
    values: sp.sparray | sp.spmatrix | np.ndarray,
    territories: np.ndarray | list[str],
    sectors: np.ndarray | list[str],
    *,
    measure: str = "value",
    presence: str = "rca",
    threshold: float = 1.0,
    normalisation: str = "probability",
    territory_level: str = "territory",
    sector_level: str = "sector",
) -> Relatedness:
    """:func:`relatedness` on a bare ``T x S`` matrix of non-negative values.

    Rows and columns are put in the sorted order of their codes, so the result does not
    depend on the order of the input.

    Raises
    ------
    InputError
        Shapes that do not match the codes, duplicate codes, negative or non-finite values,
        an argument outside its allowed values.
    """
    _check_choice("presence", presence, PRESENCE_TESTS)
    _check_choice("normalisation", normalisation, NORMALISATIONS)
    if not np.isfinite(threshold) or threshold <= 0:
        raise InputError(f"threshold={threshold!r}: expected a finite number > 0")
    territories = np.asarray(territories, dtype=str)
    sectors = np.asarray(sectors, dtype=str)
    x = sp.csr_array(values, dtype=np.float64)
    if x.shape != (len(territories), len(sectors)):
        raise InputError(
            f"values have shape {x.shape}, expected ({len(territories)} territories, "
            f"{len(sectors)} sectors)"
        )
    for name, codes in (("territories", territories), ("sectors", sectors)):
        unique, seen = np.unique(codes, return_counts=True)
        if (seen > 1).any():
            raise InputError(f"{name}: code {str(unique[seen > 1][0])!r} appears more than once")
    # Canonical (sorted) order: the same data in any order gives the same results, bit for
    # bit, down to the community detection that walks the sectors in this order.
    row_order, col_order = np.argsort(territories), np.argsort(sectors)
    territories, sectors = territories[row_order], sectors[col_order]
    x = sp.csr_array(x[row_order][:, col_order])
    if not np.isfinite(x.data).all() or (x.data < 0).any():
        coo = x.tocoo()
        bad = np.flatnonzero(~np.isfinite(coo.data) | (coo.data < 0))[0]
        raise InputError(
            f"values must be finite and >= 0: territory {str(territories[coo.row[bad]])!r}, "
            f"sector {str(sectors[coo.col[bad]])!r} holds {float(coo.data[bad])!r}"
        )
    x.eliminate_zeros()
    rca = _rca(x)
    tested = rca if presence == "rca" else x
    presence_matrix = sp.csr_array(
        (np.ones(np.count_nonzero(tested.data >= threshold)), _nonzero_where(tested, threshold)),
        shape=x.shape,
    )
    cooccurrence = np.asarray((presence_matrix.T @ presence_matrix).toarray())
    ubiquity = np.diag(cooccurrence).copy()
    diversity = np.asarray(presence_matrix.sum(axis=1)).ravel()
    return Relatedness(
        territory_level=territory_level,
        sector_level=sector_level,
        territories=territories,
        sectors=sectors,
        measure=measure,
        presence=presence,
        threshold=float(threshold),
        normalisation=normalisation,
        values=x,
        rca=rca,
        presence_matrix=presence_matrix,
        cooccurrence=cooccurrence,
        matrix=_normalise(cooccurrence, ubiquity, len(territories), normalisation),
        diversity=diversity,
        ubiquity=ubiquity,
        sector_totals=np.asarray(x.sum(axis=0)).ravel(),
    )


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InputError(f"{name}={value!r}: expected one of {', '.join(allowed)}")


def _rca(x: sp.csr_array) -> sp.csr_array:
    """Balassa's RCA on the stored cells, in py-ecomplexity's order of operations.

    The same floating-point operations as ``ComplexityData.calculate_rca`` so that a cell
    exactly at the threshold falls on the same side.
    """
    row_totals = np.asarray(x.sum(axis=1)).ravel()
    col_totals = np.asarray(x.sum(axis=0)).ravel()
    grand_total = col_totals.sum()
    coo = x.tocoo()
    data = (coo.data / row_totals[coo.row]) / (col_totals[coo.col] / grand_total)
    return sp.csr_array((data, (coo.row, coo.col)), shape=x.shape)


def _nonzero_where(matrix: sp.csr_array, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    coo = matrix.tocoo()
    keep = coo.data >= threshold
    return coo.row[keep], coo.col[keep]


def _normalise(
    cooccurrence: np.ndarray, ubiquity: np.ndarray, n_territories: int, normalisation: str
) -> np.ndarray:
    u_i = ubiquity[:, np.newaxis]
    u_j = ubiquity[np.newaxis, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        if normalisation == "probability":
            # Same operations as py-ecomplexity: min(C_ij / u_j, C_ij / u_i).
            conditional = cooccurrence / u_j
            result = np.minimum(conditional, conditional.T)
        elif normalisation == "association":
            result = n_territories * cooccurrence / (u_i * u_j)
        elif normalisation == "cosine":
            result = cooccurrence / np.sqrt(u_i * u_j)
        else:
            result = cooccurrence / (u_i + u_j - cooccurrence)
    # A sector present nowhere gives 0/0: no evidence of relatedness.
    result[~np.isfinite(result)] = 0.0
    return np.asarray(result)


def _economic_complexity(
    presence_matrix: sp.csr_array, diversity: np.ndarray, ubiquity: np.ndarray
) -> _Complexity:
    rows = diversity > 0
    cols = ubiquity > 0
    if cols.sum() < 2 or rows.sum() < 2:
        raise InputError(
            "economic complexity needs at least 2 territories and 2 sectors with a presence "
            f"(found {int(rows.sum())} and {int(cols.sum())})"
        )
    m = presence_matrix[np.flatnonzero(rows)][:, np.flatnonzero(cols)]
    d = diversity[rows]
    u = ubiquity[cols]
    # M~ = U^-1 M^T D^-1 M is similar to the symmetric A = U^-1/2 M^T D^-1 M U^-1/2: same
    # eigenvalues, eigenvectors K_p = U^-1/2 v. eigh on A is real and stable where
    # py-ecomplexity's eig on M~ may return tiny imaginary parts.
    scaled = sp.diags_array(1.0 / np.sqrt(d)) @ m @ sp.diags_array(1.0 / np.sqrt(u))
    symmetric = np.asarray((scaled.T @ scaled).toarray())
    _, eigenvectors = np.linalg.eigh(symmetric)
    k_p = eigenvectors[:, -2] / np.sqrt(u)
    k_c = (m @ k_p) / d
    if np.std(k_c) == 0:
        raise InputError(
            "economic complexity is undefined: every territory has the same complexity "
            "(the presence matrix has no structure)"
        )
    # Sign convention of py-ecomplexity (and of the Atlas): ECI grows with diversity.
    sign = -1.0 if np.std(d) > 0 and np.corrcoef(d, k_c)[0, 1] < 0 else 1.0
    k_c, k_p = sign * k_c, sign * k_p
    mean, sd = k_c.mean(), k_c.std()
    eci = np.full(len(diversity), np.nan)
    pci = np.full(len(ubiquity), np.nan)
    raw_pci = np.full(len(ubiquity), np.nan)
    eci[rows] = (k_c - mean) / sd
    pci[cols] = (k_p - mean) / sd
    raw_pci[cols] = k_p
    return _Complexity(eci=eci, pci=pci, raw_pci=raw_pci, raw_eci_sd=float(sd))
