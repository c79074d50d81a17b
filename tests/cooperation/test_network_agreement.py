"""grappe's network measures agree with networkx within 1e-9: random graphs, the real ANR files imported."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from grappe.cli import app
from grappe.cooperation import network, repository
from grappe.registry import open_registry

TOLERANCE = 1e-9
runner = CliRunner()


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


def _assert_agree(table: pd.DataFrame, graph: nx.Graph) -> None:
    """The measures of ``table`` (indexed by organisation id) are networkx's on ``graph``."""
    ids = list(graph)
    assert sorted(table.index) == sorted(ids)

    def close(column: str, expected: dict[object, float]) -> None:
        got = table.loc[ids, column].to_numpy(dtype=float)
        want = np.array([expected[v] for v in ids], dtype=float)
        np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE, err_msg=column)

    close("degree", dict(graph.degree()))
    close("weighted_degree", dict(graph.degree(weight="weight")))
    close("betweenness", nx.betweenness_centrality(graph))
    close("eigenvector", _eigenvector_by_convention(graph))
    main_core = set(nx.k_core(graph)) if graph.number_of_edges() else set()
    assert set(table.index[table["core"].astype(str).str.lower() == "true"]) == main_core
    assert nx.community.is_partition(graph, [set(group.index) for _, group in table.groupby("community")])
    if "broker" in table:  # the library's table; the command's file keeps the contract's columns
        close("coreness", nx.core_number(graph))
        assert set(table.index[table["broker"]]) == set(nx.articulation_points(graph))


def _agree_on(nodes: pd.DataFrame, ties: pd.DataFrame) -> None:
    table = network.measure(network.build_graph(nodes, ties)).set_index("organisation_id")
    _assert_agree(table, _networkx(nodes, ties))


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
    _agree_on(*_tables(n, ties))


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
# the co-partner graph of the real ANR files, imported and measured by the commands


@pytest.mark.slow  # the import, then networkx's betweenness on about 1,200 organisations: a minute or two
def test_the_command_agrees_with_networkx_on_the_imported_anr_files(real_data: Path, tmp_path: Path) -> None:
    stem = real_data / "anr" / "anr-dgpie-projets-finances-2006-2018"
    imported = runner.invoke(app, ["cooperation", "import-projects", "--format", "anr",
                                   f"{stem}-projets.xlsx", f"{stem}-partenaires.xlsx"])
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "anr.csv"
    measured = runner.invoke(app, ["cooperation", "network", "--all", "--out", str(out)])
    assert measured.exit_code == 0, measured.output
    with open_registry(write=False) as session:
        scope = repository.Scope()
        ties = repository.network_ties(session, scope)
        nodes = repository.network_nodes(session, scope, ties)
    graph = _networkx(pd.DataFrame(nodes, columns=list(network.NODE_COLUMNS)),
                      pd.DataFrame(ties, columns=list(network.TIE_COLUMNS)))
    assert graph.number_of_nodes() > 1000  # the real graph, not an empty import
    assert graph.number_of_edges() > 20_000
    _assert_agree(pd.read_csv(out).set_index("organisation_id"), graph)
