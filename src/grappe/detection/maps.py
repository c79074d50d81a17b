"""Maps of potential clusters: département outlines and one labelled circle per candidate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from grappe.errors import InputError

__all__ = ["MAP_FORMATS", "candidates_map"]

MAP_FORMATS = ("png", "svg")

_LEVEL_LABELS = {
    "commune": "communes",
    "epci": "EPCI",
    "ze": "zones d'emploi",
    "departement": "départements",
    "region": "régions",
}
# Metropolitan France in Lambert-93 (metres), with a margin for labels.
_FRAME = (60_000.0, 1_260_000.0, 6_020_000.0, 7_140_000.0)
# Marker area (points^2) of the largest employment on the map.
_MAX_AREA = 900.0
# Candidates listed under one territory's label before "… et N autre(s)".
_LINES = 4


def candidates_map(
    frame: pd.DataFrame,
    path: Path | str,
    territory_level: str,
    title_date: str = "",
) -> Path:
    """Draw candidates on a map of metropolitan France, as PNG or SVG by the suffix of ``path``.

    Département outlines come from ``grappe.refdata.territories.outlines_path()``; each
    candidate is a circle at the population-weighted centroid of its territory, its area
    proportional to its estimated employment (establishments when it has none), filled when
    its Gi* test is significant, labelled with its rank, sector and territory names.
    Candidates overseas are counted in the caption, not drawn.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows of :meth:`grappe.detection.candidates.Candidates.top` (columns ``rank,
        territory_code, territory_name, sector, sector_name, employment, establishments,
        significant``).
    path : Path or str
        Output file, ``.png`` or ``.svg``.
    territory_level : str
        Level of ``territory_code`` (for the centroids and the title).
    title_date : str
        Date of the fabric, shown in the title.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InputError
        The suffix is neither ``.png`` nor ``.svg``, or a column is missing.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in MAP_FORMATS:
        raise InputError(
            f"{path}: map format {path.suffix or '(none)'!r} not supported; use .png or .svg"
        )
    needed = ("rank", "territory_code", "territory_name", "sector", "sector_name",
              "employment", "establishments", "significant")
    absent = [c for c in needed if c not in frame.columns]
    if absent:
        raise InputError(f"candidates_map: missing column(s) {', '.join(absent)}")

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.lines import Line2D

    from grappe.refdata import territories

    x, y = _positions(frame, territory_level)
    inside = (
        np.isfinite(x) & (x >= _FRAME[0]) & (x <= _FRAME[1]) & (y >= _FRAME[2]) & (y <= _FRAME[3])
    )
    fig, ax = plt.subplots(figsize=(10, 10.5), dpi=110)
    try:
        for ring in _outline_rings(territories.outlines_path("departements")):
            ax.plot(ring[:, 0], ring[:, 1], color="#9a9a9a", linewidth=0.4, zorder=1)
        measure = frame["employment"].to_numpy(dtype=np.float64)
        if not np.nansum(measure) > 0:
            measure = frame["establishments"].to_numpy(dtype=np.float64)
        largest = np.nanmax(measure) if len(measure) and np.nanmax(measure) > 0 else 1.0
        area = 30.0 + _MAX_AREA * np.nan_to_num(measure) / largest
        significant = frame["significant"].to_numpy(dtype=bool)
        colours = np.where(significant, "#c0392b", "#ffffff")
        ax.scatter(x[inside], y[inside], s=area[inside], c=colours[inside],
                   edgecolors="#7b241c", linewidths=0.8, alpha=0.8, zorder=3)
        for k, label in _labels(frame, inside):
            ax.annotate(label, (x[k], y[k]), xytext=(7, 4), textcoords="offset points",
                        fontsize=6.5, zorder=4, color="#1b1b1b", linespacing=1.1)
        ax.set_xlim(_FRAME[0], _FRAME[1])
        ax.set_ylim(_FRAME[2], _FRAME[3])
        ax.set_aspect("equal")
        ax.set_axis_off()
        level = _LEVEL_LABELS.get(territory_level, territory_level)
        when = f" au {title_date}" if title_date else ""
        ax.set_title(
            f"Grappes potentielles : les {len(frame)} premiers candidats ({level}){when}",
            fontsize=12,
        )
        handles = [
            Line2D([], [], marker="o", linestyle="", markersize=9, markerfacecolor="#c0392b",
                   markeredgecolor="#7b241c", label="point chaud Gi* significatif"),
            Line2D([], [], marker="o", linestyle="", markersize=9, markerfacecolor="#ffffff",
                   markeredgecolor="#7b241c", label="non significatif"),
        ]
        ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=False,
                  title="Surface des cercles : emploi salarié estimé", title_fontsize=8)
        outside = int((~inside).sum())
        if outside:
            ax.text(0.99, 0.01, f"{outside} candidat(s) hors métropole, non représenté(s)",
                    transform=ax.transAxes, ha="right", fontsize=7, color="#555555")
        path.parent.mkdir(parents=True, exist_ok=True)
        # A fixed SVG hash salt and no date metadata make the files reproducible.
        metadata = {"Date": None} if fmt == "svg" else {"Software": "grappe"}
        with matplotlib.rc_context({"svg.hashsalt": "grappe"}):
            fig.savefig(path, format=fmt, bbox_inches="tight", metadata=metadata)
    finally:
        plt.close(fig)
    return path


def _positions(frame: pd.DataFrame, level: str) -> tuple[np.ndarray, np.ndarray]:
    """Lambert-93 x, y of each candidate's territory centroid (NaN when unknown)."""
    from grappe.refdata import territories

    centroids = territories.centroids(level)
    codes = np.asarray(centroids.column("code").to_pylist(), dtype=str)
    cx = np.asarray(centroids.column("x").to_pylist(), dtype=object)
    cy = np.asarray(centroids.column("y").to_pylist(), dtype=object)
    wanted = frame["territory_code"].to_numpy().astype(str)
    x = np.full(len(wanted), np.nan)
    y = np.full(len(wanted), np.nan)
    if len(codes) == 0 or len(wanted) == 0:
        return x, y
    pos = np.minimum(np.searchsorted(codes, wanted), len(codes) - 1)
    found = (codes[pos] == wanted) & np.array([v is not None for v in cx[pos]], dtype=bool)
    x[found] = cx[pos[found]].astype(np.float64)
    y[found] = cy[pos[found]].astype(np.float64)
    return x, y


def _outline_rings(path: Path) -> list[np.ndarray]:
    """Exterior and interior rings of the metropolitan départements, in Lambert-93."""
    from grappe.refdata import territories

    data = json.loads(path.read_text(encoding="utf-8"))
    rings: list[np.ndarray] = []
    for feature in data["features"]:
        if str(feature["properties"].get("code", "")).startswith("97"):
            continue  # overseas: outside the metropolitan frame
        geometry = feature["geometry"]
        polygons = (
            [geometry["coordinates"]]
            if geometry["type"] == "Polygon"
            else geometry["coordinates"]
        )
        for polygon in polygons:
            for ring in polygon:
                lonlat = np.asarray(ring, dtype=np.float64)
                x, y = territories.to_lambert93(lonlat[:, 0], lonlat[:, 1])
                rings.append(np.column_stack([x, y]))
    return rings


def _labels(frame: pd.DataFrame, inside: np.ndarray) -> list[tuple[int, str]]:
    """One label per territory: its name, then the rank and sector of its candidates."""
    per_territory: dict[str, list[int]] = {}
    codes = frame["territory_code"].astype(str).tolist()
    for k in np.flatnonzero(inside).tolist():
        per_territory.setdefault(codes[k], []).append(k)
    labels: list[tuple[int, str]] = []
    for rows in per_territory.values():
        lines = [str(frame["territory_name"].iloc[rows[0]])]
        lines.extend(
            f"{int(frame['rank'].iloc[k])}. {_short(str(frame['sector_name'].iloc[k]))}"
            for k in rows[:_LINES]
        )
        if len(rows) > _LINES:
            lines.append(f"… et {len(rows) - _LINES} autre(s)")
        labels.append((rows[0], "\n".join(lines)))
    return labels


def _short(text: str, width: int = 38) -> str:
    """A sector label cut to ``width`` characters."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
