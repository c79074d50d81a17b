"""Network analysis of cooperation: the weighted graph of organisations, its measures and its change.

The graph is built with igraph from two tables, independent of storage:

* **nodes**: ``id`` (unique), ``name``, ``kind`` (``firm``, ``research_lab``...),
  ``size_category`` (``TPE``, ``PME``, ``ETI``, ``GE`` or empty), ``member`` (bool). The node
  table is the scope: every node gets a row of measures, isolated ones with degree 0, and a tie
  with an organisation outside it is left out.
* **ties**: ``a``, ``b`` (node ids), ``weight`` (> 0), ``layer`` (one of :data:`LAYERS`),
  ``date`` (may be empty). One row per shared project, link, event or deal; the ties of one pair
  become one undirected edge whose weight is the sum of theirs. Without a period every tie
  counts, undated ones included; with a period only the ties dated inside it count.

Measures per organisation (:func:`measure`), each the networkx convention so that both libraries
agree (``tests/cooperation/test_network_agreement.py``):

``degree``
    distinct neighbours.
``weighted_degree``
    sum of the weights of its ties (shared projects, links, events, deals).
``betweenness``
    share of the shortest paths between two other organisations that pass through it, counted
    in hops (weights are strengths, not distances): networkx's normalised
    ``betweenness_centrality``. Exact by default; with ``betweenness_samples=k`` the estimate
    from ``k`` source organisations drawn with the seed, scaled by ``n / k`` (networkx's ``k``).
``eigenvector``
    the weighted eigenvector centrality, with unit Euclidean norm and non-negative (networkx's
    ``eigenvector_centrality_numpy``). It is defined for connected graphs; on a disconnected
    graph grappe keeps the principal eigenvector of the whole adjacency matrix: the component(s)
    with the largest eigenvalue carry it (when several share it, each gets an equal share of the
    norm) and every other organisation gets 0 — being central in a small island of the network
    is not being central in the network.
``community``
    Leiden communities maximising weighted modularity, seeded, numbered from 1 by decreasing
    size (ties broken by the first organisation of the node table).
``core``
    in the main core: the k-core of highest k (Seidman's core/periphery rule; networkx's
    ``k_core`` default). Its organisations each have at least k neighbours inside it. ``coreness``
    gives each organisation's k. A network without ties has no core.
``broker``
    an articulation point: removing it cuts part of the network from the rest.

The summary (:class:`NetworkSummary`) adds density, components, isolated and peripheral
members (whom the manager should involve), the share of SMEs in the core and the dependence
on the :data:`DEPENDENCE_TOP` most connected organisations; :func:`compare` gives the change
from one period to the next.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import igraph as ig
import numpy as np
import pandas as pd

from grappe.errors import InputError

LAYERS = ("projects", "links", "events", "business")
"""The layers of the cooperation network: co-partnership in projects, declared links,
co-attendance at events, business between members."""

SME_CATEGORIES = frozenset({"TPE", "PME"})
"""Size categories counted as SMEs: the décret 2008-1354 PME category includes the micro firms."""

DEPENDENCE_TOP = 5
"""How many of the most connected organisations :class:`Dependence` removes by default."""

NODE_COLUMNS = ("id", "name", "kind", "size_category", "member")
TIE_COLUMNS = ("a", "b", "weight", "layer", "date")
MEASURE_COLUMNS = (
    "organisation_id", "organisation", "kind", "size_category", "member", "degree",
    "weighted_degree", "betweenness", "eigenvector", "community", "coreness", "core", "broker",
)

_RANDOM_LOCK = threading.Lock()

# Relative gap under which two components' largest eigenvalues count as equal (ARPACK gives them
# to about 1e-12 relative; isomorphic components must share the eigenvector's norm).
_EIGENVALUE_TIE = 1e-9


# --------------------------------------------------------------------------------------------
# graph


def build_graph(
    nodes: pd.DataFrame,
    ties: pd.DataFrame,
    *,
    layers: Sequence[str] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> ig.Graph:
    """The weighted undirected graph of the ties kept, one vertex per row of ``nodes``.

    Parameters
    ----------
    nodes, ties
        The tables described in the module's docstring.
    layers
        The layers that count (default: all of :data:`LAYERS`).
    start, end
        The period, both bounds included; when one is given, undated ties are left out.

    Returns
    -------
    igraph.Graph
        Vertices in the order of ``nodes`` with their columns as attributes (``id``, ``name``,
        ``kind``, ``size_category``, ``member``); edges with the attribute ``weight``.

    Raises
    ------
    InputError
        A missing column, a duplicated node id, an unknown layer, a weight that is not a
        positive number, a period that ends before it starts.
    """
    _require(nodes, NODE_COLUMNS, "nœuds")
    _require(ties, TIE_COLUMNS, "liens")
    chosen = chosen_layers(layers)
    check_period(start, end)
    index = pd.Index(nodes["id"])
    if not index.is_unique:
        raise InputError(f"nœuds : identifiant en double : « {index[index.duplicated()][0]} »")
    kept = ties[ties["layer"].isin(chosen)]
    weights = pd.to_numeric(kept["weight"], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(weights) & (weights > 0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"liens, ligne {kept.index[row]} : poids « {kept['weight'].iloc[row]} » "
            "(un nombre strictement positif est attendu)"
        )
    if start is not None or end is not None:
        dates = pd.to_datetime(kept["date"])
        inside = dates.notna().to_numpy().copy()
        if start is not None:
            inside &= (dates >= pd.Timestamp(start)).to_numpy()
        if end is not None:
            inside &= (dates <= pd.Timestamp(end)).to_numpy()
        kept, weights = kept[inside], weights[inside]
    a = index.get_indexer(kept["a"])
    b = index.get_indexer(kept["b"])
    # the node table is the scope: ties leaving it, and ties of an organisation with itself, go
    inside_scope = (a >= 0) & (b >= 0) & (a != b)
    edges, edge_weights = _merge_pairs(a[inside_scope], b[inside_scope], weights[inside_scope], len(index))
    graph = ig.Graph(n=len(index), edges=edges, directed=False)
    graph.es["weight"] = edge_weights.tolist()
    for column in NODE_COLUMNS:
        graph.vs[column] = _python_values(nodes[column])
    return graph


def _require(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(f"table des {what} : colonne(s) manquante(s) : {', '.join(missing)}")


def chosen_layers(layers: Sequence[str] | None) -> tuple[str, ...]:
    """The layers asked (all of :data:`LAYERS` for None), an unknown name refused in French."""
    if layers is None:
        return LAYERS
    unknown = [name for name in layers if name not in LAYERS]
    if unknown:
        raise InputError(f"couche inconnue : {unknown[0]} (couches : {', '.join(LAYERS)})")
    return tuple(layers)


def check_period(start: dt.date | None, end: dt.date | None) -> None:
    """Refuse a period that ends before it starts."""
    if start is not None and end is not None and end < start:
        raise InputError(f"période : la fin ({end.isoformat()}) précède le début ({start.isoformat()})")


def _merge_pairs(a: np.ndarray, b: np.ndarray, weights: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """One edge per unordered pair, weights summed; edges sorted by (low, high) vertex."""
    low, high = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    pair, where = np.unique(low * n + high, return_inverse=True)
    summed = np.bincount(where, weights=weights, minlength=len(pair))
    return np.column_stack([pair // n, pair % n]), summed


def _python_values(column: pd.Series) -> list[object]:
    """Column values as plain Python objects, missing ones as None (igraph stores any object)."""
    values = column.astype(object).tolist()
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA else v
            for v in values]


# --------------------------------------------------------------------------------------------
# measures


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """igraph's random generator seeded for the block, then given back to the ``random`` module.

    igraph draws from one process-wide generator, which Leiden and the layouts use: the lock
    keeps two threads (two requests of the server) from drawing from each other's seed.
    """
    with _RANDOM_LOCK:
        ig.set_random_number_generator(random.Random(seed))
        try:
            yield
        finally:
            ig.set_random_number_generator(random)


def measure(graph: ig.Graph, *, seed: int = 0, betweenness_samples: int | None = None) -> pd.DataFrame:
    """The measures of every organisation (:data:`MEASURE_COLUMNS`), in the order of the vertices.

    Parameters
    ----------
    graph
        A graph from :func:`build_graph`.
    seed
        Seeds the communities and the betweenness sample: the same seed gives the same table.
    betweenness_samples
        Estimate betweenness from this many source organisations (exact when ``None`` or at
        least the number of organisations).

    Examples
    --------
    >>> nodes = pd.DataFrame({"id": [1, 2, 3], "name": ["A", "B", "C"], "kind": "firm",
    ...                       "size_category": "PME", "member": True})
    >>> ties = pd.DataFrame({"a": [1, 2], "b": [2, 3], "weight": [2.0, 1.0],
    ...                      "layer": "projects", "date": None})
    >>> table = measure(build_graph(nodes, ties))
    >>> table[["organisation", "degree", "weighted_degree", "betweenness", "broker"]].to_numpy().tolist()
    [['A', 1, 2.0, 0.0, False], ['B', 2, 3.0, 1.0, True], ['C', 1, 1.0, 0.0, False]]
    """
    coreness = np.asarray(graph.coreness(), dtype=np.int64)
    main_k = int(coreness.max()) if len(coreness) else 0
    broker = np.zeros(graph.vcount(), dtype=bool)
    broker[graph.articulation_points()] = True
    return pd.DataFrame({
        "organisation_id": graph.vs["id"],
        "organisation": graph.vs["name"],
        "kind": graph.vs["kind"],
        "size_category": graph.vs["size_category"],
        "member": np.asarray(graph.vs["member"], dtype=bool),
        "degree": np.asarray(graph.degree(), dtype=np.int64),
        "weighted_degree": np.asarray(graph.strength(weights="weight"), dtype=float),
        "betweenness": betweenness(graph, samples=betweenness_samples, seed=seed),
        "eigenvector": eigenvector(graph),
        "community": communities(graph, seed=seed),
        "coreness": coreness,
        "core": (coreness == main_k) & (main_k > 0),
        "broker": broker,
    }, columns=list(MEASURE_COLUMNS))


def betweenness(graph: ig.Graph, *, samples: int | None = None, seed: int = 0) -> np.ndarray:
    """Normalised hop betweenness, networkx's convention; sampled sources when ``samples`` is given."""
    n = graph.vcount()
    if n <= 2:
        return np.zeros(n)
    # igraph counts each unordered pair once, networkx twice before dividing by (n-1)(n-2)
    scale = 2.0 / ((n - 1) * (n - 2))
    if samples is None or samples >= n:
        return np.asarray(graph.betweenness(directed=False), dtype=float) * scale
    sources = betweenness_sources(n, samples, seed=seed)
    partial = graph.betweenness(directed=False, sources=sources.tolist())
    return np.asarray(partial, dtype=float) * scale * (n / samples)


def betweenness_sources(n: int, samples: int, *, seed: int = 0) -> np.ndarray:
    """The vertices a sampled betweenness starts from: ``samples`` of ``n``, drawn with ``seed``, sorted."""
    if not 1 <= samples <= n:
        raise InputError(f"échantillon de betweenness : {samples} organisations (entre 1 et {n})")
    return np.sort(np.random.default_rng(seed).choice(n, size=samples, replace=False))


def eigenvector(graph: ig.Graph) -> np.ndarray:
    """Weighted eigenvector centrality, unit norm; 0 outside the dominant component(s) (see module)."""
    n = graph.vcount()
    result = np.zeros(n)
    if graph.ecount() == 0:
        return result
    components = graph.connected_components()
    membership = np.asarray(components.membership)
    # a component's largest eigenvalue is at most its largest strength (row sum): components
    # are tried by that bound, and the search stops once no bound can reach the best eigenvalue
    bound = np.zeros(len(components))
    np.maximum.at(bound, membership, np.asarray(graph.strength(weights="weight")))
    best, carriers = 0.0, []
    for component in np.argsort(-bound, kind="stable"):
        if bound[component] < best * (1 - _EIGENVALUE_TIE) or bound[component] == 0:
            break
        vertices = np.flatnonzero(membership == component)
        sub = graph if len(components) == 1 else graph.induced_subgraph(vertices.tolist())
        vector, value = sub.eigenvector_centrality(weights="weight", return_eigenvalue=True)
        if value > best * (1 + _EIGENVALUE_TIE):
            best, carriers = value, [(vertices, np.asarray(vector))]
        elif value >= best * (1 - _EIGENVALUE_TIE):
            carriers.append((vertices, np.asarray(vector)))
    for vertices, vector in carriers:
        result[vertices] = vector / np.linalg.norm(vector) / math.sqrt(len(carriers))
    return result


def communities(graph: ig.Graph, *, seed: int = 0) -> np.ndarray:
    """Leiden communities (weighted modularity, seeded), numbered from 1 by decreasing size."""
    if graph.vcount() == 0:
        return np.zeros(0, dtype=np.int64)
    with seeded(seed):
        found = graph.community_leiden(objective_function="modularity", weights="weight", n_iterations=-1)
    labels = np.asarray(found.membership, dtype=np.int64)
    sizes = np.bincount(labels)
    first = np.full(len(sizes), graph.vcount(), dtype=np.int64)
    np.minimum.at(first, labels, np.arange(graph.vcount()))
    order = np.lexsort((first, -sizes))  # largest first, then by first vertex
    number = np.empty(len(sizes), dtype=np.int64)
    number[order] = np.arange(1, len(sizes) + 1)
    return number[labels]


# --------------------------------------------------------------------------------------------
# graph-level figures


@dataclass(frozen=True)
class Dependence:
    """What the network loses without its ``top`` most connected organisations.

    The organisations removed are those of highest degree (then weighted degree, then node
    table order).
    """

    top: int
    removed: tuple[object, ...]
    """Their ids, most connected first."""
    ties_lost_share: float
    """Share of the ties (edges) that touch one of them."""
    largest_component_before: float
    """Share of the organisations in the largest component, before."""
    largest_component_after: float
    """Share of the remaining organisations in the largest component once they are removed."""
    components_after: int
    """Connected components once they are removed (isolated organisations count)."""


@dataclass(frozen=True)
class NetworkSummary:
    """Graph-level figures of one network."""

    organisations: int
    ties: int
    """Edges: pairs of organisations with at least one tie."""
    density: float
    """Ties over possible pairs, ``2m / (n (n - 1))`` (0 below two organisations)."""
    components: int
    """Connected components, isolated organisations included."""
    core_k: int
    """The k of the main core (0 without ties)."""
    core_size: int
    sme_share_in_core: float | None
    """Share of the core's organisations that are SMEs (:data:`SME_CATEGORIES`); None without core."""
    isolated_members: tuple[object, ...]
    """Members without any tie: the first to involve."""
    peripheral_members: tuple[object, ...]
    """Members with ties but outside the largest component, or with coreness 1 (held to the
    network by tree-like ties only): the next to involve."""
    brokers: tuple[object, ...]
    """Articulation points, by decreasing betweenness."""
    dependence: Dependence


@dataclass(frozen=True)
class NetworkAnalysis:
    """A network analysed once: its graph, the measures per organisation and the summary."""

    graph: ig.Graph
    measures: pd.DataFrame
    summary: NetworkSummary
    betweenness_samples: int | None
    """None when betweenness is exact, else the number of source organisations sampled."""


def analyse(
    graph: ig.Graph,
    *,
    seed: int = 0,
    betweenness_samples: int | None = None,
    top: int = DEPENDENCE_TOP,
) -> NetworkAnalysis:
    """Measures and summary of a graph from :func:`build_graph` (see :func:`measure`)."""
    table = measure(graph, seed=seed, betweenness_samples=betweenness_samples)
    exact = betweenness_samples is None or betweenness_samples >= graph.vcount()
    return NetworkAnalysis(graph, table, summarise(graph, table, top=top),
                           None if exact else betweenness_samples)


def summarise(graph: ig.Graph, table: pd.DataFrame, *, top: int = DEPENDENCE_TOP) -> NetworkSummary:
    """Graph-level figures from a graph and its :func:`measure` table."""
    n, m = graph.vcount(), graph.ecount()
    ids = table["organisation_id"].to_numpy(dtype=object)
    membership = np.asarray(graph.connected_components().membership, dtype=np.int64)
    largest = np.bincount(membership).argmax() if n else -1
    member = table["member"].to_numpy(dtype=bool)
    degree = table["degree"].to_numpy()
    core = table["core"].to_numpy(dtype=bool)
    linked_member = member & (degree > 0)
    peripheral = linked_member & ~core & ((membership != largest) | (table["coreness"].to_numpy() == 1))
    smes = table["size_category"].isin(SME_CATEGORIES).to_numpy()
    broker_order = np.flatnonzero(table["broker"].to_numpy(dtype=bool))
    broker_order = broker_order[np.argsort(-table["betweenness"].to_numpy()[broker_order], kind="stable")]
    return NetworkSummary(
        organisations=n,
        ties=m,
        density=2 * m / (n * (n - 1)) if n > 1 else 0.0,
        components=int(membership.max()) + 1 if n else 0,
        core_k=int(table["coreness"].max()) if n else 0,
        core_size=int(core.sum()),
        sme_share_in_core=float(smes[core].mean()) if core.any() else None,
        isolated_members=tuple(ids[member & (degree == 0)]),
        peripheral_members=tuple(ids[peripheral]),
        brokers=tuple(ids[broker_order]),
        dependence=dependence(graph, table, top=top),
    )


def dependence(graph: ig.Graph, table: pd.DataFrame, *, top: int = DEPENDENCE_TOP) -> Dependence:
    """How much the network depends on its ``top`` most connected organisations."""
    if top < 0:
        raise InputError(f"dépendance : {top} organisations retirées (au moins 0)")
    n = graph.vcount()
    order = np.lexsort((np.arange(n), -table["weighted_degree"].to_numpy(), -table["degree"].to_numpy()))
    removed = order[:top]
    before = _largest_share(graph)
    rest = graph.copy()
    lost = len({e for v in removed.tolist() for e in graph.incident(v)})
    rest.delete_vertices(removed.tolist())
    return Dependence(
        top=len(removed),
        removed=tuple(table["organisation_id"].to_numpy(dtype=object)[removed]),
        ties_lost_share=lost / graph.ecount() if graph.ecount() else 0.0,
        largest_component_before=before,
        largest_component_after=_largest_share(rest),
        components_after=len(rest.connected_components()) if rest.vcount() else 0,
    )


def _largest_share(graph: ig.Graph) -> float:
    if graph.vcount() == 0:
        return 0.0
    return max(graph.connected_components().sizes()) / graph.vcount()


# --------------------------------------------------------------------------------------------
# change between two periods


@dataclass(frozen=True)
class NetworkChange:
    """The change of a network between two periods (two analyses, organisations matched by id)."""

    joined: tuple[object, ...]
    """Organisations with ties in the second period and none in the first."""
    left: tuple[object, ...]
    """Organisations with ties in the first period and none in the second."""
    ties_new: int
    ties_kept: int
    ties_ended: int
    organisations: tuple[int, int]
    ties: tuple[int, int]
    density: tuple[float, float]
    components: tuple[int, int]
    core_size: tuple[int, int]
    sme_share_in_core: tuple[float | None, float | None]
    dependence: tuple[float, float]
    """Share of the ties carried by the most connected organisations (:class:`Dependence`)."""
    largest_component_without_top: tuple[float, float]
    """Share of the organisations still in the largest component once they are removed."""
    degrees: pd.DataFrame
    """``organisation_id, organisation, degree_before, degree_after, degree_change``, by
    decreasing change."""


def compare(before: NetworkAnalysis, after: NetworkAnalysis) -> NetworkChange:
    """What changed from ``before`` to ``after`` (e.g. two consecutive years).

    Organisations are matched by id; one that is in a single period's scope has degree 0 in
    the other (its name is the latest known).
    """
    columns = ["organisation_id", "organisation", "degree"]
    degrees = before.measures[columns].merge(
        after.measures[columns], on="organisation_id", how="outer", suffixes=("_before", "_after"), sort=False
    )
    degrees["organisation"] = degrees["organisation_after"].fillna(degrees["organisation_before"])
    for side in ("before", "after"):
        degrees[f"degree_{side}"] = degrees[f"degree_{side}"].fillna(0).astype(np.int64)
    degrees["degree_change"] = degrees["degree_after"] - degrees["degree_before"]
    degrees = degrees[["organisation_id", "organisation", "degree_before", "degree_after", "degree_change"]]
    had, has = degrees["degree_before"].to_numpy() > 0, degrees["degree_after"].to_numpy() > 0
    ids = degrees["organisation_id"].to_numpy(dtype=object)
    # both periods' ties as pair codes over one numbering of the organisations
    numbering = pd.Index(ids)
    old, new = _pairs(before, numbering), _pairs(after, numbering)
    kept = np.intersect1d(old, new, assume_unique=True)
    old_summary, new_summary = before.summary, after.summary
    return NetworkChange(
        joined=tuple(ids[has & ~had]),
        left=tuple(ids[had & ~has]),
        ties_new=len(new) - len(kept),
        ties_kept=len(kept),
        ties_ended=len(old) - len(kept),
        organisations=(old_summary.organisations, new_summary.organisations),
        ties=(old_summary.ties, new_summary.ties),
        density=(old_summary.density, new_summary.density),
        components=(old_summary.components, new_summary.components),
        core_size=(old_summary.core_size, new_summary.core_size),
        sme_share_in_core=(old_summary.sme_share_in_core, new_summary.sme_share_in_core),
        dependence=(old_summary.dependence.ties_lost_share, new_summary.dependence.ties_lost_share),
        largest_component_without_top=(
            old_summary.dependence.largest_component_after,
            new_summary.dependence.largest_component_after,
        ),
        degrees=degrees.sort_values("degree_change", ascending=False, kind="stable").reset_index(drop=True),
    )


def _pairs(analysis: NetworkAnalysis, numbering: pd.Index) -> np.ndarray:
    """The analysis's edges as sorted unique codes ``low * n + high`` in ``numbering``."""
    graph = analysis.graph
    if graph.ecount() == 0:
        return np.zeros(0, dtype=np.int64)
    code = numbering.get_indexer(analysis.measures["organisation_id"]).astype(np.int64)
    edges = code[np.asarray(graph.get_edgelist(), dtype=np.int64)]
    n = len(numbering)
    return np.unique(edges.min(axis=1) * n + edges.max(axis=1))
