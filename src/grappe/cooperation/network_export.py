"""Files of an analysed cooperation network: GraphML, GEXF and a picture (PNG or SVG).

Every file carries the measures of :func:`grappe.cooperation.network.measure` on its vertices,
so that Gephi, Cytoscape or yEd show what grappe computed. The picture colours organisations by
kind and sizes them by eigenvector centrality; its title and legend are French.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from grappe.cooperation.network import MEASURE_COLUMNS, NetworkAnalysis, seeded
from grappe.errors import InputError
from grappe.kit import present

if TYPE_CHECKING:
    import igraph as ig

KIND_LABELS = {
    code: present.label("organisation_kind", code).capitalize()
    for code in present.LABELS["organisation_kind"]
}
"""French names of the organisation kinds, as the picture's legend shows them."""

GRAPHML_SUFFIXES = (".graphml", ".xml")
GEXF_SUFFIXES = (".gexf",)
PICTURE_FORMATS = (".png", ".svg")
_NOT_KNOWN = "Non renseigné"
_SMALLEST, _LARGEST = 12.0, 260.0  # marker areas (points²) of the least and most central


def write_graphml(analysis: NetworkAnalysis, path: Path | str) -> Path:
    """The graph with its measures as GraphML (edges keep their ``weight``)."""
    path = writable(path, GRAPHML_SUFFIXES)
    _with_measures(analysis).write_graphml(str(path))
    return path


def write_gexf(analysis: NetworkAnalysis, path: Path | str) -> Path:
    """The graph with its measures as GEXF 1.2 (Gephi), node labels the organisations' names."""
    import networkx as nx

    path = writable(path, GEXF_SUFFIXES)
    graph = nx.Graph()
    for row in analysis.measures.to_dict("records"):
        attributes = {k: _plain(v) for k, v in row.items() if k not in ("organisation_id", "organisation")}
        graph.add_node(str(row["organisation_id"]), label=str(row["organisation"]),
                       **{k: v for k, v in attributes.items() if v is not None})
    ids = [str(v) for v in analysis.measures["organisation_id"]]
    graph.add_weighted_edges_from(
        (ids[a], ids[b], float(w))
        for (a, b), w in zip(analysis.graph.get_edgelist(), analysis.graph.es["weight"], strict=True)
    )
    nx.write_gexf(graph, path)
    return path


def draw(analysis: NetworkAnalysis, path: Path | str, *, title: str | None = None, seed: int = 0) -> Path:
    """A picture of the network: colour by kind, area by eigenvector centrality, members outlined.

    Parameters
    ----------
    path
        ``.png`` or ``.svg``.
    title
        French title (default: the number of organisations and ties).
    seed
        Seeds the layout (Fruchterman–Reingold): the same seed draws the same picture.
    """
    from babel.numbers import format_decimal
    from matplotlib import rc_context
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    path = writable(path, PICTURE_FORMATS)
    graph, table = analysis.graph, analysis.measures
    xy, outside = _positions(graph, seed)
    figure = Figure(figsize=(10, 8), layout="constrained")
    axes = figure.add_subplot()
    axes.set_axis_off()
    if outside.any():
        first = xy[outside][np.argmin(xy[outside, 0] - xy[outside, 1] * 1e-9)]
        axes.annotate("Hors du réseau principal", (first[0], xy[outside, 1].max()), xytext=(0, 12),
                      textcoords="offset points", fontsize="small", color="#555555")
    if graph.ecount():
        edges = np.asarray(graph.get_edgelist())
        weights = np.asarray(graph.es["weight"], dtype=float)
        axes.add_collection(LineCollection(
            xy[edges], colors="#8c8c8c", alpha=0.35, zorder=1,
            linewidths=0.4 + 1.6 * np.log1p(weights) / np.log1p(weights.max()),
        ))
    centrality = table["eigenvector"].to_numpy(dtype=float)
    top = centrality.max() if len(centrality) and centrality.max() > 0 else 1.0
    areas = _SMALLEST + (_LARGEST - _SMALLEST) * centrality / top
    member = table["member"].to_numpy(dtype=bool)
    kinds = table["kind"].fillna("other").to_numpy(dtype=object)
    handles = []
    for kind in sorted(set(kinds), key=_kind_order):
        colour = f"C{_kind_order(kind) % 10}"  # one colour per kind, the same in every picture
        mine = kinds == kind
        axes.scatter(xy[mine, 0], xy[mine, 1], s=areas[mine], c=colour, zorder=2,
                     edgecolors=["black" if m else "none" for m in member[mine]], linewidths=0.6)
        handles.append(Line2D([], [], marker="o", linestyle="", color=colour, label=_kind_label(kind)))
    handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor="white",
                          markeredgecolor="black", label="Membre (contour noir)"))
    axes.legend(handles=handles, title="Nature (taille : centralité de vecteur propre)",
                loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    summary = analysis.summary
    axes.set_title(title or (
        f"Réseau de coopération : {format_decimal(summary.organisations, locale='fr_FR')} organisations, "
        f"{format_decimal(summary.ties, locale='fr_FR')} liens"
    ))
    axes.autoscale_view()
    with rc_context({"svg.fonttype": "none"}):  # SVG text stays text: searchable, translatable
        figure.savefig(path, format=path.suffix.lower().lstrip("."), dpi=150)
    return path


def writable(target: Path | str, suffixes: tuple[str, ...]) -> Path:
    """The path of a file to write, its suffix and folder checked (an ``InputError`` in French)."""
    path = Path(target)
    if path.suffix.lower() not in suffixes:
        raise InputError(
            f"{path.name} : extension {path.suffix or '?'} non prise en charge ({' ou '.join(suffixes)})"
        )
    if not path.parent.is_dir():
        raise InputError(f"{path} : dossier {path.parent} introuvable")
    return path


# --------------------------------------------------------------------------------------------
# implementation


def _positions(graph: ig.Graph, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Vertex positions, and the mask of the vertices outside the largest component.

    The largest component is laid out by Fruchterman–Reingold; the smaller ones (isolated
    organisations included), which one layout of the whole graph pushes to the edges so that
    the network shrinks to a dot, line up under it, the largest first, each in its own cell.
    """
    xy = np.zeros((graph.vcount(), 2))
    if graph.vcount() == 0:
        return xy, np.zeros(0, dtype=bool)
    components = sorted(graph.connected_components(), key=len, reverse=True)
    main, islands = components[0], components[1:]
    with seeded(seed):
        xy[main] = _layout(graph, main)
        low, high = xy[main].min(axis=0), xy[main].max(axis=0)
        span = np.maximum(high - low, 1.0)
        columns = max(1, math.ceil(math.sqrt(len(islands)) * 2))
        cell = span[0] / columns
        for rank, island in enumerate(islands):
            place = _layout(graph, island)
            place = (place - place.min(axis=0)) / max(float(np.ptp(place, axis=0).max()), 1e-12)
            corner = np.array([low[0] + (rank % columns) * cell, low[1] - cell * (1.2 + rank // columns)])
            xy[island] = corner + place * cell * 0.7
    outside = np.ones(graph.vcount(), dtype=bool)
    outside[main] = False
    return xy, outside


def _layout(graph: ig.Graph, vertices: list[int]) -> np.ndarray:
    if len(vertices) == 1:
        return np.zeros((1, 2))
    part = graph.induced_subgraph(vertices)
    return np.asarray(part.layout_fruchterman_reingold(weights="weight").coords, dtype=float).reshape(-1, 2)


def _with_measures(analysis: NetworkAnalysis) -> ig.Graph:
    """A copy of the graph whose vertices carry the measures (GraphML has no null: empty text).

    The organisation's name stays in ``name``, igraph's and yEd's attribute for vertex names.
    """
    graph = analysis.graph.copy()
    del graph.vs["id"]  # ``organisation_id`` replaces it
    for column in (c for c in MEASURE_COLUMNS if c != "organisation"):
        values = [_plain(v) for v in analysis.measures[column]]
        if any(isinstance(v, str) for v in values) or all(v is None for v in values):
            values = ["" if v is None else str(v) for v in values]
        graph.vs[column] = values
    return graph


def _plain(value: Any) -> Any:
    """numpy scalars as Python ones (the XML writers know only those), missing values as None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _kind_order(kind: str) -> int:
    return list(KIND_LABELS).index(kind) if kind in KIND_LABELS else len(KIND_LABELS)


def _kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind or _NOT_KNOWN)


#: The files :func:`render` makes: format -> (suffix, media type).
FILE_FORMATS = {
    "graphml": (".graphml", "application/graphml+xml"),
    "gexf": (".gexf", "application/gexf+xml"),
    "png": (".png", "image/png"),
    "svg": (".svg", "image/svg+xml"),
}


def render(analysis: NetworkAnalysis, file_format: str, *, seed: int = 0) -> bytes:
    """The content of one of :data:`FILE_FORMATS` (for a download), written through the writers."""
    import tempfile

    if file_format not in FILE_FORMATS:
        raise InputError(f"format « {file_format} » inconnu ; attendu : {', '.join(FILE_FORMATS)}")
    with tempfile.TemporaryDirectory(prefix="grappe-reseau-") as folder:
        path = Path(folder) / f"reseau{FILE_FORMATS[file_format][0]}"
        if file_format == "graphml":
            write_graphml(analysis, path)
        elif file_format == "gexf":
            write_gexf(analysis, path)
        else:
            draw(analysis, path, seed=seed)
        return path.read_bytes()
