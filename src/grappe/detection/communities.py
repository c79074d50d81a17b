"""Groups of related sectors found by community detection on the relatedness graph."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import minimum_spanning_tree

from grappe.detection import sector_groups
from grappe.detection.relatedness import (
    NORMALISATIONS,
    Relatedness,
    _check_choice,
    relatedness_from_matrix,
)
from grappe.detection.sector_groups import SectorGroup
from grappe.errors import InputError, UnknownCodeError
from grappe.refdata import naf

EXAMPLE_SECTOR_GROUPS = Path(__file__).parent / "data" / "sector_groups_example.toml"
"""Sector groups detected on the synthetic fabric (scripts/build_example_sector_groups.py)."""

# Work budget of one chunk of the permutation test: permutations x related pairs compared.
_CHUNK_CELLS = 4_000_000


@dataclass(frozen=True, eq=False)
class GroupingScore:
    """How much relatedness the groups keep inside, against random groups of the same sizes.

    The share is ``sum_{i != j, g_i = g_j} w_ij / sum_{i != j} w_ij`` over the *whole*
    relatedness matrix (not only the edges kept for detection, so sparsifying the graph
    cannot inflate it). The reference distribution permutes the group labels over the
    sectors (seeded), which keeps the number and sizes of the groups.

    Attributes
    ----------
    observed : float
        Share of relatedness weight inside groups for the detected groups.
    random_mean, random_sd : float
        Mean and standard deviation (ddof=1) of the share over the random groupings.
    z : float
        ``(observed - random_mean) / random_sd`` (NaN when ``random_sd`` is 0, e.g. one group).
    p_value : float
        Empirical one-sided p-value ``(1 + #{random >= observed}) / (permutations + 1)``.
    permutations : int
        Number of random groupings.
    random_shares : numpy.ndarray
        The share of each random grouping.
    """

    observed: float
    random_mean: float
    random_sd: float
    z: float
    p_value: float
    permutations: int
    random_shares: np.ndarray


@dataclass(frozen=True, eq=False)
class SectorCommunities:
    """Sector groups found by :func:`sector_communities`, with their validation score.

    Attributes
    ----------
    sectors : numpy.ndarray of str
        The sectors of the relatedness, in its order.
    labels : numpy.ndarray of int
        Index in :attr:`groups` of the group of each sector.
    groups : tuple of SectorGroup
        Groups ordered by decreasing total of the measure; codes ``g01, g02, ...``; named
        after their dominant sectors (largest totals).
    score : GroupingScore
        Share of relatedness inside the groups against random groups of the same sizes, on
        the relatedness the groups were fitted to. Descriptive: community detection finds
        groups even in noise, so this z-score is high for any input (30 sectors present
        independently in 240 territories: the groups keep 0.26 more of the association
        weight than random groups, z 8.4 on average over 20 draws); read :attr:`holdout` to
        know whether the groups are real.
    holdout : GroupingScore or None
        The same statistic out of sample: the territories are split in two random halves
        (seeded), groups are detected on the first half with the same settings and scored
        on the relatedness of the second half. Groups fitted to noise do not carry over, so
        a small p-value here says the co-location structure is real (calibrated: on
        independent presences, 6 of 100 draws fall below 0.05; z of mean 0.05, sd 0.99).
        The p-value tests the procedure on half the territories, not the exact groups
        found on all of them. Caveat: the ``probability``, ``cosine`` and ``jaccard`` weights
        grow with the ubiquity of both sectors even under independence; with sectors of
        very unequal ubiquity, ``association`` is the normalisation that tests co-location
        alone. None when not asked or with fewer than 4 territories.
    modularity : float
        Newman modularity of the partition on the detection graph (same resolution).
    edges : int
        Number of edges of the detection graph after sparsification.
    seed : int
        Seed of the Louvain method and of the permutations.
    resolution : float
        Resolution of the modularity (> 1 gives smaller groups).
    description : str
        How the groups were made, in words (written as the header of exported files).
    """

    sectors: np.ndarray
    labels: np.ndarray
    groups: tuple[SectorGroup, ...]
    score: GroupingScore
    holdout: GroupingScore | None
    modularity: float
    edges: int
    seed: int
    resolution: float
    description: str

    def to_sector_groups(self) -> list[SectorGroup]:
        """The groups as sector groups usable wherever a sector level is accepted.

        Raises
        ------
        InputError
            The sectors are not NAF codes (e.g. relatedness computed on sector groups).
        """
        checked = []
        for group in self.groups:
            try:
                codes = tuple(naf.normalize(code) for code in group.naf)
            except UnknownCodeError as exc:
                raise InputError(
                    f"group {group.code!r} holds a code that is not NAF ({exc}): export needs "
                    "relatedness computed on a NAF level"
                ) from exc
            checked.append(SectorGroup(code=group.code, name=group.name, naf=codes))
        return checked

    def write(self, path: Path | str) -> None:
        """Write the groups as a sector-group TOML file (read back by ``sector_groups.load``)."""
        sector_groups.dump(self.to_sector_groups(), Path(path), header=self.description)

    def to_frame(self) -> pd.DataFrame:
        """One row per sector: ``sector, group, group_name``, ordered by group then sector."""
        frame = pd.DataFrame(
            {
                "sector": self.sectors,
                "group": [self.groups[k].code for k in self.labels],
                "group_name": [self.groups[k].name for k in self.labels],
            }
        )
        return frame.sort_values(["group", "sector"], ignore_index=True)


def sector_communities(
    rel: Relatedness,
    *,
    seed: int = 0,
    resolution: float = 1.0,
    normalisation: str = "association",
    quantile: float | None = None,
    top_k: int | None = 10,
    permutations: int = 999,
    names: int = 2,
    holdout: bool = True,
) -> SectorCommunities:
    """Group related sectors by Louvain community detection on the relatedness graph.

    Sectors are nodes; two sectors are linked with the weight of their relatedness
    (association: its excess over independence, ``max(a_ij - 1, 0)``, since every pair of
    independent sectors scores 1). Self-links are left out. The graph is built in the order
    of the (sorted) sectors and the Louvain method (Blondel et al. 2008, networkx) runs with
    ``seed``, so the same input and seed give the same groups, bit for bit.

    Parameters
    ----------
    rel : Relatedness
        Result of :func:`grappe.detection.relatedness.relatedness`.
    seed : int
        Seed of the Louvain method and of the random groupings of the score.
    resolution : float
        Resolution of the modularity, > 0: above 1 favours more, smaller groups.
    normalisation : {"association", "probability", "cosine", "jaccard"}
        Weights of the graph (any normalisation, whatever the one of ``rel``). Default
        ``association``: the only one that does not grow with the ubiquity of the two
        sectors under independence, so groups gather sectors that co-locate more than their
        sizes imply. Measured on 30 independent sectors of unequal sizes (lognormal),
        the out-of-sample test called 2.5 % of 40 draws significant at 5 % with
        ``association`` and 80 % with ``probability`` (20 % cosine, 30 % Jaccard).
    quantile : float, optional
        Sparsify: keep the edges whose weight is at least this quantile (in [0, 1)) of the
        positive weights.
    top_k : int or None
        Sparsify: keep the ``top_k`` strongest edges of every sector (default 10; None for
        no such rule). When ``quantile`` or ``top_k`` is given, the maximum spanning tree is
        kept too (as in the product space of Hidalgo et al. 2007) so that no sector loses
        all its links; the kept edges are the union. With neither, the graph is nearly
        complete and the groups follow ubiquity more than co-location: on 12 planted groups
        of 732 sectors of unequal sizes in 287 territories, probability weights gave an
        adjusted Rand index of 0.34 with ``top_k=10`` and 0.0 with the complete graph.
    permutations : int
        Random groupings of the validation score (>= 1).
    names : int
        Number of dominant sectors named in a group's name (>= 1).
    holdout : bool
        Also compute :attr:`SectorCommunities.holdout` (needs at least 4 territories).

    Returns
    -------
    SectorCommunities

    Raises
    ------
    InputError
        An argument out of range, or a relatedness with no positive link at all.
    """
    _check_choice("normalisation", normalisation, NORMALISATIONS)
    if not resolution > 0:
        raise InputError(f"resolution={resolution!r}: expected a number > 0")
    if quantile is not None and not 0 <= quantile < 1:
        raise InputError(f"quantile={quantile!r}: expected a number in [0, 1)")
    if top_k is not None and top_k < 1:
        raise InputError(f"top_k={top_k!r}: expected an integer >= 1")
    if permutations < 1:
        raise InputError(f"permutations={permutations!r}: expected an integer >= 1")
    if names < 1:
        raise InputError(f"names={names!r}: expected an integer >= 1")

    weights = _link_weights(rel, normalisation)
    if not (weights > 0).any():
        raise InputError(
            "no two sectors are related (no co-location at all): nothing to group; "
            "lower the presence threshold or use a finer territory level"
        )
    graph, communities = _detect(weights, quantile, top_k, resolution, seed)
    labels = _ordered_labels(communities, rel.sector_totals, len(rel.sectors))
    score = grouping_score(weights, labels, permutations=permutations, seed=seed)
    modularity = float(
        nx.community.modularity(graph, communities, weight="weight", resolution=resolution)
    )
    holdout_score = (
        _holdout(
            rel,
            normalisation=normalisation,
            quantile=quantile,
            top_k=top_k,
            resolution=resolution,
            seed=seed,
            permutations=permutations,
        )
        if holdout
        else None
    )
    groups = _name_groups(rel, labels, names)
    description = "\n".join(
        [
            "Groupes de secteurs liés, détectés par grappe (communautés de Louvain sur le graphe",
            "de co-localisation des secteurs).",
            f"Territoires : {rel.territory_level} ({len(rel.territories)}) ; secteurs : "
            f"{rel.sector_level} ({len(rel.sectors)}).",
            f"Présence : {rel.presence} >= {rel.threshold:g} sur {rel.measure} ; "
            f"normalisation : {normalisation}.",
            f"Graphe : {graph.number_of_edges()} liens (quantile={quantile}, top_k={top_k}) ; "
            f"graine (seed) : {seed} ; résolution : {resolution:g} ; "
            f"modularité : {modularity:.4f}.",
            f"Score : part du poids des liens internes aux groupes {score.observed:.4f} contre "
            f"{score.random_mean:.4f} ± {score.random_sd:.4f} pour des groupes aléatoires "
            f"de mêmes tailles (z = {score.z:.2f}, p = {score.p_value:.4g}, "
            f"{score.permutations} permutations).",
            _holdout_line(holdout_score),
        ]
    )
    return SectorCommunities(
        sectors=rel.sectors,
        labels=labels,
        groups=groups,
        score=score,
        holdout=holdout_score,
        modularity=modularity,
        edges=graph.number_of_edges(),
        seed=seed,
        resolution=float(resolution),
        description=description,
    )


def grouping_score(
    weights: np.ndarray,
    labels: np.ndarray | Sequence[int],
    *,
    permutations: int = 999,
    seed: int | np.random.Generator = 0,
) -> GroupingScore:
    """Share of the weight of a symmetric ``S x S`` matrix inside groups, against chance.

    Parameters
    ----------
    weights : numpy.ndarray
        Symmetric non-negative link weights; the diagonal is ignored.
    labels : array of int
        Group of each sector.
    permutations : int
        Number of random groupings (seeded permutations of ``labels``).
    seed : int or numpy.random.Generator
        Source of the permutations.

    Returns
    -------
    GroupingScore

    Raises
    ------
    InputError
        Shapes that disagree, negative weights, or no positive weight.
    """
    weights = np.asarray(weights, dtype=np.float64)
    labels = np.asarray(labels)
    n = len(labels)
    if weights.shape != (n, n):
        raise InputError(f"weights have shape {weights.shape}, expected ({n}, {n})")
    if (weights < 0).any() or not np.isfinite(weights).all():
        raise InputError("weights must be finite and >= 0")
    first, second = np.triu_indices(n, k=1)
    pair_weights = weights[first, second]
    linked = pair_weights > 0
    first, second, pair_weights = first[linked], second[linked], pair_weights[linked]
    total = pair_weights.sum()
    if total <= 0:
        raise InputError("weights are zero off the diagonal: the share inside groups is undefined")

    def shares_of(groupings: np.ndarray) -> np.ndarray:
        # One code path for the observed and the random groupings, so that a random
        # grouping equal to the observed one gives the very same float.
        result = np.empty(len(groupings))
        chunk = max(1, _CHUNK_CELLS // len(pair_weights))
        for start in range(0, len(groupings), chunk):
            block = groupings[start : start + chunk]
            same = (block[:, first] == block[:, second]).astype(np.float64)
            result[start : start + chunk] = (same @ pair_weights) / total
        return result

    observed = float(shares_of(labels[np.newaxis, :])[0])
    rng = np.random.default_rng(seed)
    shares = shares_of(rng.permuted(np.broadcast_to(labels, (permutations, n)), axis=1))
    mean = float(shares.mean())
    sd = float(shares.std(ddof=1)) if permutations > 1 else 0.0
    # Rounding noise of the products is no spread: one group, or all singletons, give none.
    spread = sd > 1e-12 * max(abs(mean), 1.0)
    z = (observed - mean) / sd if spread else float("nan")
    # Relative tolerance: a permutation that reproduces the grouping must count as >=.
    at_least = int(np.count_nonzero(shares >= observed - 1e-12 * max(abs(observed), 1.0)))
    return GroupingScore(
        observed=observed,
        random_mean=mean,
        random_sd=sd,
        z=float(z),
        p_value=(1 + at_least) / (permutations + 1),
        permutations=permutations,
        random_shares=shares,
    )


def _detect(
    weights: np.ndarray,
    quantile: float | None,
    top_k: int | None,
    resolution: float,
    seed: int,
) -> tuple[nx.Graph, list[set[int]]]:
    graph = _graph(_sparsify(weights, quantile, top_k))
    communities = nx.community.louvain_communities(
        graph, weight="weight", resolution=resolution, seed=seed
    )
    return graph, list(communities)


def _holdout(
    rel: Relatedness,
    *,
    normalisation: str,
    quantile: float | None,
    top_k: int | None,
    resolution: float,
    seed: int,
    permutations: int,
) -> GroupingScore | None:
    n_territories = len(rel.territories)
    if n_territories < 4:
        return None
    order = np.random.default_rng(seed).permutation(n_territories)
    halves = [np.sort(order[: n_territories // 2]), np.sort(order[n_territories // 2 :])]
    weights = []
    for rows in halves:
        half = relatedness_from_matrix(
            rel.values[rows],
            rel.territories[rows],
            rel.sectors,
            measure=rel.measure,
            presence=rel.presence,
            threshold=rel.threshold,
            normalisation=normalisation,
        )
        weights.append(_link_weights(half, normalisation))
    if not (weights[0] > 0).any() or not (weights[1] > 0).any():
        return None
    _, communities = _detect(weights[0], quantile, top_k, resolution, seed)
    labels = _ordered_labels(communities, rel.sector_totals, len(rel.sectors))
    return grouping_score(weights[1], labels, permutations=permutations, seed=seed)


def _holdout_line(score: GroupingScore | None) -> str:
    if score is None:
        return "Validation hors échantillon : non calculée."
    return (
        "Validation hors échantillon (groupes détectés sur une moitié des territoires, "
        f"évalués sur l'autre) : {score.observed:.4f} contre {score.random_mean:.4f} ± "
        f"{score.random_sd:.4f} (z = {score.z:.2f}, p = {score.p_value:.4g})."
    )


def _link_weights(rel: Relatedness, normalisation: str) -> np.ndarray:
    weights = rel.normalised(normalisation).copy()
    if normalisation == "association":
        weights = np.maximum(weights - 1.0, 0.0)
    np.fill_diagonal(weights, 0.0)
    return weights


def _sparsify(weights: np.ndarray, quantile: float | None, top_k: int | None) -> np.ndarray:
    if quantile is None and top_k is None:
        return weights
    n = len(weights)
    keep = np.zeros((n, n), dtype=bool)
    positive = weights[np.triu_indices(n, k=1)]
    positive = positive[positive > 0]
    if quantile is not None:
        keep |= weights >= np.quantile(positive, quantile)
    if top_k is not None:
        # Stable sort on -weight: ties go to the sector that comes first, reproducibly.
        order = np.argsort(-weights, axis=1, kind="stable")[:, :top_k]
        rows = np.repeat(np.arange(n), order.shape[1])
        keep[rows, order.ravel()] = True
    # Maximum spanning tree = minimum spanning tree of (max + 1 - w) on the positive links.
    shifted = np.where(weights > 0, weights.max() + 1.0 - weights, 0.0)
    tree = minimum_spanning_tree(sp.csr_array(np.triu(shifted))).tocoo()
    keep[tree.row, tree.col] = True
    keep |= keep.T
    return np.where(keep & (weights > 0), weights, 0.0)


def _graph(weights: np.ndarray) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(len(weights)))
    first, second = np.nonzero(np.triu(weights, k=1))
    graph.add_weighted_edges_from(
        zip(first.tolist(), second.tolist(), weights[first, second].tolist(), strict=True)
    )
    return graph


def _ordered_labels(
    communities: Sequence[set[int]], totals: np.ndarray, n_sectors: int
) -> np.ndarray:
    """Label groups 0, 1, ... by decreasing total of the measure, then first sector."""
    members = [np.array(sorted(group)) for group in communities]
    order = sorted(
        range(len(members)), key=lambda k: (-float(totals[members[k]].sum()), int(members[k][0]))
    )
    labels = np.empty(n_sectors, dtype=np.int64)
    for rank, k in enumerate(order):
        labels[members[k]] = rank
    return labels


def _name_groups(rel: Relatedness, labels: np.ndarray, names: int) -> tuple[SectorGroup, ...]:
    groups = []
    width = max(2, len(str(labels.max() + 1)))
    for k in range(int(labels.max()) + 1):
        members = np.flatnonzero(labels == k)
        # Dominant sectors: the largest totals of the measure (ties: code order).
        dominant = members[np.argsort(-rel.sector_totals[members], kind="stable")]
        head = [_label(str(code)) for code in rel.sectors[dominant[:names]]]
        rest = len(members) - len(head)
        name = " ; ".join(head) + (f" (+ {rest} autre{'s' if rest > 1 else ''})" if rest else "")
        groups.append(
            SectorGroup(
                code=f"g{k + 1:0{width}d}",
                name=name,
                naf=tuple(str(code) for code in rel.sectors[members]),
            )
        )
    return tuple(groups)


def _label(code: str) -> str:
    try:
        return naf.label(code)
    except UnknownCodeError:
        # Sectors that are not NAF codes (e.g. sector groups) are named by their code.
        return code
