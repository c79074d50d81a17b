"""grappe's network measures agree with networkx within 1e-9, on random graphs and on the real ANR graph."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grappe.cooperation import network

TOLERANCE = 1e-9
NOT_NAMED = "Non renseigné"  # the ANR files' missing value (CONTRACTS: not an organisation)


def _tables(n: int, ties: list[tuple[int, int, float]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    nodes = pd.DataFrame({
        "id": [100 + i for i in range(n)],  # ids that are not vertex numbers
        "name": [f"Org {i}" for i in range(n)],
        "kind": ["firm" if i % 3 else "research_lab" for i in range(n)],
        "size_category": ["PME" if i % 2 else None for i in range(n)],
        "member": [i % 4 != 0 for i in range(n)],
    })
    table = pd.DataFrame(ties, columns=["a", "b", "weight"]) if ties else pd.DataFrame(
        {"a": pd.Series([], dtype=int), "b": pd.Series([], dtype=int), "weight": pd.Series([], dtype=float)}
    )
    table["a"] += 100
    table["b"] += 100
    table["layer"] = "links"
    table["date"] = None
    return nodes, table


def _networkx(nodes: pd.DataFrame, ties: pd.DataFrame) -> nx.Graph:
    """The same graph built independently: ties of a pair summed, self ties left out."""
    graph = nx.Graph()
    graph.add_nodes_from(nodes["id"])
    for a, b, weight in ties[["a", "b", "weight"]].itertuples(index=False):
        if a == b:
            continue
        if graph.has_edge(a, b):
            graph[a][b]["weight"] += weight
        else:
            graph.add_edge(a, b, weight=float(weight))
    return graph


def _eigenvector_by_convention(graph: nx.Graph) -> dict[object, float]:
    """networkx's eigenvector per component, kept on the component(s) of largest eigenvalue."""
    result = dict.fromkeys(graph, 0.0)
    found: list[tuple[float, dict[object, float]]] = []
    for nodes in nx.connected_components(graph):
        if len(nodes) < 2:
            continue
        part = graph.subgraph(nodes)
        if len(nodes) == 2:  # networkx's numpy variant needs three nodes; the power one is exact here
            vector = nx.eigenvector_centrality(part, weight="weight", tol=1e-15, max_iter=10_000)
        else:
            vector = nx.eigenvector_centrality_numpy(part, weight="weight", tol=0)
        order = list(part)
        x = np.array([vector[v] for v in order])
        adjacency = nx.to_numpy_array(part, nodelist=order, weight="weight")
        found.append((float(x @ adjacency @ x / (x @ x)), vector))
    if not found:
        return result
    best = max(value for value, _ in found)
    carriers = [vector for value, vector in found if value >= best * (1 - 1e-9)]
    for vector in carriers:
        for v, x in vector.items():
            result[v] = x / math.sqrt(len(carriers))
    return result


def _assert_agree(nodes: pd.DataFrame, ties: pd.DataFrame) -> None:
    table = network.measure(network.build_graph(nodes, ties)).set_index("organisation_id")
    graph = _networkx(nodes, ties)
    ids = list(nodes["id"])

    def close(column: str, expected: dict[object, float]) -> None:
        got = table.loc[ids, column].to_numpy(dtype=float)
        want = np.array([expected[v] for v in ids], dtype=float)
        np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE, err_msg=column)

    close("degree", dict(graph.degree()))
    close("weighted_degree", dict(graph.degree(weight="weight")))
    close("betweenness", nx.betweenness_centrality(graph))
    close("eigenvector", _eigenvector_by_convention(graph))
    close("coreness", nx.core_number(graph))
    main_core = set(nx.k_core(graph)) if graph.number_of_edges() else set()
    assert set(table.index[table["core"]]) == main_core
    assert set(table.index[table["broker"]]) == set(nx.articulation_points(graph))
    partition = [set(group.index) for _, group in table.groupby("community")]
    assert sorted(len(p) for p in partition) == sorted(table["community"].value_counts())
    assert nx.community.is_partition(graph, partition)


ties_strategy = st.integers(min_value=1, max_value=30).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(
            st.tuples(
                st.integers(0, n - 1),
                st.integers(0, n - 1),
                st.one_of(st.integers(1, 5).map(float), st.floats(0.1, 10.0)),
            ),
            max_size=3 * n,
        ),
    )
)


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(ties_strategy)
def test_measures_agree_with_networkx_on_random_graphs(
    case: tuple[int, list[tuple[int, int, float]]],
) -> None:
    n, ties = case
    _assert_agree(*_tables(n, ties))


def test_sampled_betweenness_is_networkx_estimator_with_the_same_sources() -> None:
    graph = nx.gnm_random_graph(80, 200, seed=5)
    nodes, ties = _tables(80, [(a, b, 1.0) for a, b in graph.edges])
    built = network.build_graph(nodes, ties)
    samples = 12
    got = network.betweenness(built, samples=samples, seed=3)
    sources = network.betweenness_sources(80, samples, seed=3)
    relabelled = nx.relabel_nodes(graph, {i: 100 + i for i in range(80)})
    # networkx's estimator from k sources: their dependencies, scaled by n / k
    raw = nx.betweenness_centrality_subset(relabelled, [100 + s for s in sources], list(relabelled),
                                           normalized=False)
    expected = np.array([raw[100 + i] for i in range(80)]) * 2 / (79 * 78) * 80 / samples
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)
    exact = network.betweenness(built, samples=80, seed=3)
    np.testing.assert_allclose(exact, network.betweenness(built), rtol=0, atol=0)


# --------------------------------------------------------------------------------------------
# the co-partner graph of the real ANR files


def _anr_tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Organisations (by normalised name and category) and their co-partner ties, read with pandas."""
    stem = "anr-dgpie-projets-finances-2006-2018"
    partners = pd.read_excel(folder / f"{stem}-partenaires.xlsx", engine="openpyxl")
    projects = pd.read_excel(folder / f"{stem}-projets.xlsx", engine="openpyxl")
    name = partners["Projet.Partenaire.Nom_organisme"].astype("string").str.strip()
    named = name.notna() & (name != "") & (name != NOT_NAMED)
    partners, name = partners[named], name[named]
    key = name.str.casefold().str.replace(r"\s+", " ", regex=True) + "|" + partners[
        "Projet.Partenaire.Categorie_organisme"].astype("string").fillna("")
    codes, keys = pd.factorize(key)
    nodes = pd.DataFrame({
        "id": np.arange(len(keys)),
        "name": [k.split("|")[0] for k in keys],
        "kind": "other",
        "size_category": None,
        "member": True,
    })
    start = projects.set_index("Projet.Code_Decision_ANR")["Projet.Date_debut"]
    rows = pd.DataFrame({"project": partners["Projet.Code_Decision_ANR"].to_numpy(), "organisation": codes})
    rows["date"] = rows["project"].map(start)
    return nodes, _co_partner_ties(rows)


def _co_partner_ties(partners: pd.DataFrame) -> pd.DataFrame:
    """One tie of weight 1 per pair of partners of the same project (an organisation once a project)."""
    one = partners.drop_duplicates(["project", "organisation"])
    pairs = one.merge(one[["project", "organisation"]], on="project", suffixes=("_a", "_b"))
    pairs = pairs[pairs["organisation_a"] < pairs["organisation_b"]]
    return pd.DataFrame({
        "a": pairs["organisation_a"].to_numpy(),
        "b": pairs["organisation_b"].to_numpy(),
        "weight": 1.0,
        "layer": "projects",
        "date": pairs["date"].to_numpy(),
    })


@pytest.fixture(scope="module")
def anr(real_data: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return _anr_tables(real_data / "anr")


@pytest.mark.slow  # networkx's betweenness on 1,240 organisations and 23,792 ties: about a minute
def test_measures_agree_with_networkx_on_the_anr_graph(anr: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    nodes, ties = anr
    assert len(nodes) > 1000  # the real graph, not an empty read
    assert len(ties) > 30_000
    _assert_agree(nodes, ties)
