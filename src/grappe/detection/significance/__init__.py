"""Local hot-spot statistics (Gi*, local Moran's I) with conditional permutation inference.

Both statistics are computed for many sectors at once (a territories x sectors matrix, dense or
sparse) exactly as esda's ``G_Local(star=True)`` and ``Moran_Local`` compute them, then tested by
conditional permutation (999 draws by default) and adjusted for multiple testing with
Benjamini–Hochberg.

How the permutation test stays exact at 35,000 communes x 732 sous-classes
--------------------------------------------------------------------------
Conditional permutation keeps the value of territory ``i`` fixed and gives it ``c_i`` (its
number of neighbours) values drawn without replacement among the ``n - 1`` other territories.
With binary or row-standardised weights every neighbour of ``i`` weighs the same, so both
statistics are monotone in the *neighbour sum* ``A_i = sum of the neighbours' values``: a
permuted Gi* is at least the observed one exactly when the permuted neighbour sum ``D`` is at
least ``A_i``; a permuted local Moran is at least the observed one when ``D >= A_i`` if
``z_i > 0`` and when ``D <= A_i`` if ``z_i < 0``. The p-value of a cell therefore only needs,
for each draw, the permuted neighbour sum.

One block of ``P`` draws is made once (``P`` rows of ``max(c) + 1`` distinct territory
indices) and shared by every cell and every sector, as esda's ``crand`` shares its block across
cells. The draw of territory ``i`` in row ``b`` is the first ``c_i`` indices of the row once
``i`` is skipped: a uniform sample of the others. For every ``i`` that does not occur among the
first ``c_i`` indices of row ``b`` (nearly all of them), its permuted sum is the *same number*
``D[b, c_i]``, the prefix sum of the row. So, per sector and per cardinality, the ``P`` prefix
sums are sorted once and each cell's count of draws ``>= A_i`` is a binary search; the few
(row, territory) pairs where the territory occurs in the row are corrected one by one (at most
``P * max(c)`` of them). Every tested cell thus gets its full ``P``-draw p-value, exactly the
count a direct loop over its ``P`` draws would give (``method="direct"`` does that loop, and the
tests check both agree bit for bit): no screen, no approximation, every call is decided by the
permutation test. Ties are compared in the neighbour-sum space with a relative tolerance of
1e-10, so that rounding cannot split equal sums. The loops over draws, cells and corrections
are compiled (numba kernels, each beside the code it serves), with the same additions in the same
order as the vectorised numpy code they replaced: the same counts. They run on the cells that
can be tested only (a non-empty neighbourhood, about a third of the cells at commune level),
sector by sector, and the result keeps its arrays for those cells (``cell_*``): the
territories x sectors arrays are built from them when asked for.

Which cells are tested
----------------------
Values must be non-negative (counts, employment). A cell whose neighbour sum is zero (an empty
neighbourhood; in particular an empty cell with empty neighbours) sits at the minimum of its
permutation distribution: every permuted neighbour sum is ``>= 0``. No permutation can ever
place it in the upper tail, so it can never be a hot spot (Gi*) nor a high-high cluster, and
esda's folded rule, which counts ties as "larger", would give it ``p = 1 / (P + 1)`` in the
lower tail whatever the data (a tie artefact, not evidence: on a sparse sector most cells are
like that). Such cells are not tested: their ``p_sim`` and ``z_sim`` are NaN and they are never
called. They do stay in the Benjamini–Hochberg family, with their exact upper-tail p-value,
1: leaving them out would select the family on the observed neighbour sum (a non-empty
neighbourhood is already high in its own distribution) and make the calls on sparse sectors
anti-conservative. Sectors with no variance
(all equal, e.g. all zero) and, for local Moran, cells exactly at the sector mean (all permuted
statistics tie at zero) are not tested either.

p-values and calls
------------------
``p_sim = (larger + 1) / (P + 1)`` with esda's ``directed`` tail rule: ``larger`` counts draws
at least as large as the observed statistic and is replaced by ``P - larger`` when fewer draws
are below than above (the lower tail). ``p_adjusted`` applies Benjamini–Hochberg to the tested
cells of each sector (``fdr="territories"``, the family is one sector across territories) or
of the whole matrix (``fdr="all"``). A Gi* cell is *hot* when significant in the upper tail
and *cold* in the lower tail; a local Moran cell is *hot* when significant and high-high,
*cold* when significant and low-low (the quadrants of esda).

Sequential refinement: every call the permutation test can change is decided by it
--------------------------------------------------------------------------------------
With ``P = 999`` draws the smallest p-value is ``1 / 1,000``, and Benjamini–Hochberg at 5 %
over the 35,000 communes of a sector rejects a cell only if at least 700 cells of the sector
reach that floor: with 999 draws nothing is ever called at commune level, and at zone d'emploi
level (287 territories) a sector needs 6 discoveries. More draws for every cell would cost
400 times as much. grappe draws more only where a call depends on it, and makes the calls of
the test that gives every tested cell ``max_permutations`` draws (``P_max``, 399,999 by
default), at the level ``alpha`` (5 % by default):

1. Round 0 gives every tested cell the ``P`` shared draws above.
2. For each cell, from its ``f`` tail draws out of ``P_r`` so far, bound the p-value that the
   ``P_max``-draw test would give it: the exact tail probability ``q`` lies in its
   Clopper–Pearson interval ``[q_lo, q_hi]`` (confidence ``confidence``, 0.999 by default),
   and the ``P_max - P_r`` draws still to come add at least the ``delta``-quantile of
   ``Binomial(P_max - P_r, q_lo)`` tail draws and at most the ``(1 - delta)``-quantile of
   ``Binomial(P_max - P_r, q_hi)`` (``delta = (1 - confidence) / 2``); this gives
   ``lo <= p(P_max) <= hi``, and ``lo <= p_sim <= hi`` for the current ``p_sim`` too.
3. Benjamini–Hochberg is monotone (smaller p-values reject a superset), so whatever the
   p-values within these bounds, the cells rejected with every p-value at ``hi`` are rejected
   and the cells not rejected with every p-value at ``lo`` are not. A cell between the two
   sets is *undecided*: only its call can still change. Families (sectors) without undecided
   cells are final; a cell whose ``lo`` exceeds ``alpha`` can never be rejected (the
   Benjamini–Hochberg threshold is at most ``alpha``) and leaves at once.
4. Each undecided cell gets the next block of draws (blocks double the draws: 999, 1,999,
   3,999, ... up to ``P_max``) and steps 2–4 repeat until no cell is undecided. A cell at
   ``P_max`` has ``lo = hi``: the loop ends.

The final ``p_sim`` of a cell uses all its draws and ``p_adjusted`` is Benjamini–Hochberg over
these p-values; since each lies within its bounds, the calls at ``alpha`` are those of the
``P_max``-draw test for every cell (``refinement="full"`` runs that test, drawing ``P_max``
for every tested cell, and the tests check both agree), except with the small probability
that a bound fails. Each ``p_sim`` is a valid permutation p-value at its own number of draws;
calls at another level than ``alpha`` use the same p-values without that guarantee.

The draws of round ``r >= 1`` are one block of ``P_r - P_{r-1}`` rows made, like round 0, for
every sector at once, from a generator seeded by ``SeedSequence(entropy, spawn_key=(r,))``
where ``entropy`` is the next draw of ``rng`` after round 0. A cell that reaches round ``r``
has used exactly the first ``P_r`` draws of this stream, whatever other cells or sectors were
refined: the results are reproducible bit for bit, do not depend on timing nor on the order of
the work, and a sector gets the same results when computed alone (``fdr="territories"``).
Each block is counted with the same shared prefix sums and corrections as round 0, only for
the cells being refined, in one compiled call per round for every sector
(:func:`grappe.detection.significance.refinement.block_tail_counts`: per pack of sectors, running sums of the
draws up to the largest cardinality of their cells; at each cardinality a binary search of
each draw's sum among the sorted thresholds of the cells). ``z_sim`` keeps the moments of
round 0.

Every result reports its refinement: ``draws`` (per cell), ``refined`` (cells given more than
``P`` draws), ``sector_draws`` (the most draws used in each sector) and ``unsettled``: cells
that reached ``P_max`` and whose exact p-value interval still straddles the Benjamini–Hochberg
threshold they need (``alpha * k / m`` for a called cell of a family with ``k`` calls out of
``m`` territories, ``alpha * (k + 1) / m`` for the others). More draws than ``P_max`` could
change their call; raise ``max_permutations`` if they matter. ``refinement_by_sector()``
tabulates them.

Modules
-------
:mod:`~grappe.detection.significance.statistics` (the two statistics and the driver of the
test), :mod:`~grappe.detection.significance.checks` (inputs validated into one problem),
:mod:`~grappe.detection.significance.permutation` (round 0: shared draws, tail counts),
:mod:`~grappe.detection.significance.refinement` (the sequential refinement),
:mod:`~grappe.detection.significance.fdr` (Benjamini–Hochberg) and
:mod:`~grappe.detection.significance.results` (the result objects). The figures of these
notes come from the constants (``PERMUTATIONS``, ``MAX_PERMUTATIONS``, ``CONFIDENCE``,
``ALPHA``) and the packaged territories; ``tests/detection/test_method_notes.py`` checks them.
"""

from __future__ import annotations

from grappe.detection.significance.fdr import ALPHA, benjamini_hochberg
from grappe.detection.significance.permutation import PERMUTATIONS
from grappe.detection.significance.refinement import CONFIDENCE, MAX_PERMUTATIONS
from grappe.detection.significance.results import GetisOrd, LocalMoran, LocalStatistic
from grappe.detection.significance.statistics import getis_ord, local_moran

__all__ = [
    "ALPHA",
    "CONFIDENCE",
    "MAX_PERMUTATIONS",
    "PERMUTATIONS",
    "GetisOrd",
    "LocalMoran",
    "LocalStatistic",
    "benjamini_hochberg",
    "getis_ord",
    "local_moran",
]
