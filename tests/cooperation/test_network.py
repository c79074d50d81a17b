"""The cooperation network: scope, layers and periods, summary figures, change, files and picture."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from grappe.cooperation import network
from grappe.cooperation.network_export import draw, write_gexf, write_graphml
from grappe.errors import InputError

# Two triangles (1-2-3, 4-5-6) joined by 3-7-4 through organisation 7; 8 hangs on 1; 9 is alone.
NODES = pd.DataFrame({
    "id": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    "name": ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "=Eta", "Theta", "Iota", "Kappa"],
    "kind": ["firm", "firm", "research_lab", "firm", "firm", "public_body", "firm", "firm", "firm", "other"],
    "size_category": ["PME", "TPE", None, "GE", "PME", None, "ETI", "PME", "PME", None],
    "member": [True, True, True, True, True, True, True, True, True, False],
})
D2023, D2024 = dt.date(2023, 5, 1), dt.date(2024, 5, 1)
TIES = pd.DataFrame(
    [
        (1, 2, 1.0, "projects", D2023), (2, 3, 1.0, "projects", D2023), (1, 3, 2.0, "links", D2023),
        (4, 5, 1.0, "projects", D2024), (5, 6, 1.0, "projects", D2024), (4, 6, 1.0, "business", D2024),
        (3, 7, 1.0, "events", None), (7, 4, 1.0, "links", D2024), (8, 1, 1.0, "links", D2024),
        (2, 1, 3.0, "business", D2024),  # a second tie of the pair 1-2: one edge, weights summed
        (1, 99, 1.0, "projects", D2024),  # 99 is outside the node table: left out
    ],
    columns=["a", "b", "weight", "layer", "date"],
)


def _analyse(**options: object) -> network.NetworkAnalysis:
    return network.analyse(network.build_graph(NODES, TIES, **options), top=1)  # type: ignore[arg-type]


def test_one_row_per_organisation_and_one_edge_per_pair() -> None:
    analysis = _analyse()
    table = analysis.measures.set_index("organisation_id")
    assert list(table.index) == list(NODES["id"])
    assert analysis.graph.ecount() == 9
    assert table.loc[1, "degree"] == 3
    assert table.loc[1, "weighted_degree"] == 1 + 2 + 3 + 1
    assert table.loc[9, "degree"] == 0
    assert table.loc[9, "weighted_degree"] == 0


def test_layers_and_period_choose_the_ties() -> None:
    projects = _analyse(layers=["projects"]).measures.set_index("organisation_id")
    assert projects["degree"].to_dict() == {1: 1, 2: 2, 3: 1, 4: 1, 5: 2, 6: 1, 7: 0, 8: 0, 9: 0, 10: 0}
    year = _analyse(start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31))
    # the undated event tie 3-7 counts only without a period
    assert year.measures.set_index("organisation_id").loc[3, "degree"] == 0
    assert _analyse().measures.set_index("organisation_id").loc[3, "degree"] == 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"layers": ["projets"]}, "couche inconnue : projets"),
        ({"start": D2024, "end": D2023}, "la fin (2023-05-01) précède le début (2024-05-01)"),
    ],
)
def test_bad_options_are_refused_in_french(options: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        network.build_graph(NODES, TIES, **options)  # type: ignore[arg-type]


def test_bad_tables_are_refused_with_where() -> None:
    with pytest.raises(InputError, match=r"ligne 2 : poids « -1\.0 »"):
        network.build_graph(NODES, TIES.assign(weight=[1.0, 1.0, -1.0, *[1.0] * 8]))
    with pytest.raises(InputError, match="identifiant en double : « 1 »"):
        network.build_graph(pd.concat([NODES, NODES.iloc[:1]]), TIES)
    with pytest.raises(InputError, match="colonne\\(s\\) manquante\\(s\\) : layer"):
        network.build_graph(NODES, TIES.drop(columns="layer"))


def test_summary_names_whom_to_involve_core_brokers_and_dependence() -> None:
    summary = _analyse().summary
    assert summary.organisations == 10
    assert summary.ties == 9
    assert summary.density == pytest.approx(9 / 45)
    assert summary.components == 3  # the main network, 9 alone, 10 alone
    assert summary.core_k == 2
    # the main core (2-core): both triangles and the bridge 7
    assert summary.core_size == 7
    assert summary.sme_share_in_core == pytest.approx(3 / 7)  # 1 PME, 2 TPE, 5 PME
    assert summary.isolated_members == (9,)  # 10 is alone too, but not a member
    assert summary.peripheral_members == (8,)
    assert set(summary.brokers) == {1, 3, 4, 7}
    assert summary.brokers[0] in {3, 4, 7}  # by decreasing betweenness: the bridge first
    dependence = summary.dependence
    assert dependence.removed == (1,)  # degree 3, the highest weighted degree
    assert dependence.ties_lost_share == pytest.approx(3 / 9)
    assert dependence.largest_component_before == pytest.approx(8 / 10)
    assert dependence.largest_component_after == pytest.approx(6 / 9)
    assert dependence.components_after == 4  # the rest, 8, 9, 10


def test_communities_are_seeded_and_numbered_by_size() -> None:
    first = _analyse().measures["community"].tolist()
    assert first == _analyse().measures["community"].tolist()
    counts = pd.Series(first).value_counts()
    assert list(counts.index) == sorted(counts.index, key=lambda c: (-counts[c], first.index(c)))
    assert counts.index.min() == 1


def test_compare_two_years() -> None:
    before = _analyse(start=dt.date(2023, 1, 1), end=dt.date(2023, 12, 31))
    after = _analyse(start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31))
    change = network.compare(before, after)
    assert set(change.joined) == {4, 5, 6, 7, 8}
    assert set(change.left) == {3}
    assert (change.ties_kept, change.ties_new, change.ties_ended) == (1, 5, 2)
    assert change.density == (before.summary.density, after.summary.density)
    assert change.ties == (3, 6)  # kept + ended, kept + new
    assert change.core_size == (before.summary.core_size, after.summary.core_size)
    assert change.sme_share_in_core == (before.summary.sme_share_in_core, after.summary.sme_share_in_core)
    assert change.dependence == (
        before.summary.dependence.ties_lost_share, after.summary.dependence.ties_lost_share
    )
    assert 0 <= change.largest_component_without_top[1] <= 1
    row = change.degrees.set_index("organisation_id").loc[4]
    assert (row["degree_before"], row["degree_after"], row["degree_change"]) == (0, 3, 3)
    assert change.degrees["degree_change"].is_monotonic_decreasing
    # scopes may differ: an organisation outside one period's scope has degree 0 there
    smaller = network.compare(network.analyse(network.build_graph(NODES.iloc[:3], TIES)), after)
    assert set(smaller.degrees["organisation_id"]) == set(NODES["id"])
    assert (smaller.ties_kept, smaller.ties_new, smaller.ties_ended) == (1, 5, 2)
    assert set(smaller.left) == {3}


def test_graphml_and_gexf_carry_the_measures(tmp_path: Path) -> None:
    analysis = _analyse()
    graphml = nx.read_graphml(write_graphml(analysis, tmp_path / "reseau.graphml"))
    gexf = nx.read_gexf(write_gexf(analysis, tmp_path / "reseau.gexf"))
    table = analysis.measures.set_index("organisation_id")
    for graph in (graphml, gexf):
        assert graph.number_of_nodes() == 10
        assert graph.number_of_edges() == 9
    by_name = {data["name"]: data for _, data in graphml.nodes(data=True)}
    assert by_name["=Eta"]["betweenness"] == pytest.approx(table.loc[7, "betweenness"], rel=1e-12)
    assert by_name["Alpha"]["core"] is True
    assert gexf.nodes["1"]["label"] == "Alpha"
    assert gexf.nodes["7"]["eigenvector"] == pytest.approx(table.loc[7, "eigenvector"], abs=1e-12)
    assert sum(w for _, _, w in gexf.edges(data="weight")) == pytest.approx(13.0)


def test_picture_png_and_svg(tmp_path: Path) -> None:
    analysis = _analyse()
    png = draw(analysis, tmp_path / "reseau.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = ET.parse(draw(analysis, tmp_path / "reseau.svg")).getroot()
    texts = " ".join(svg.itertext())
    assert "Réseau de coopération : 10 organisations, 9 liens" in texts
    assert "Entreprise" in texts
    assert "Laboratoire de recherche" in texts
    with pytest.raises(InputError, match=r"extension \.jpg non prise en charge"):
        draw(analysis, tmp_path / "reseau.jpg")


def test_readme_states_the_dependence_rule() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"the {network.DEPENDENCE_TOP} most connected organisations (`DEPENDENCE_TOP`)" in readme


def test_eigenvector_shared_by_components_of_equal_eigenvalue() -> None:
    # two identical triangles and an edge: the triangles (eigenvalue 2) share the unit norm
    pairs = [(1, 2), (2, 3), (1, 3), (4, 5), (5, 6), (4, 6), (7, 8)]
    ties = pd.DataFrame([(a, b, 1.0, "links", None) for a, b in pairs], columns=list(network.TIE_COLUMNS))
    table = network.measure(network.build_graph(NODES, ties)).set_index("organisation_id")
    assert table.loc[[1, 2, 3, 4, 5, 6], "eigenvector"].to_numpy() == pytest.approx([6 ** -0.5] * 6)
    assert table.loc[[7, 8, 9, 10], "eigenvector"].tolist() == [0.0] * 4


def test_an_empty_scope_gives_an_empty_table() -> None:
    analysis = network.analyse(network.build_graph(NODES.iloc[:0], TIES))
    assert analysis.measures.empty
    assert list(analysis.measures.columns) == list(network.MEASURE_COLUMNS)
    assert (analysis.summary.organisations, analysis.summary.ties, analysis.summary.core_size) == (0, 0, 0)
    assert analysis.summary.sme_share_in_core is None
