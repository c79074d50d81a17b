"""Observatory pages: parse the URL -> saved run (grappe.detection.runs) -> page, map data or file."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from grappe.detection import maps, runs
from grappe.errors import InputError, NotFoundError
from grappe.web import i18n, render
from grappe.web.observatory import view
from grappe.web.unit import Visitor, as_page, show, unit

if TYPE_CHECKING:
    import pandas as pd

router = APIRouter(include_in_schema=False)

#: The filters of a run's table, as named in the URL.
FILTERS = ("territory", "sector", "strong", "min_score")
#: Outlines drawn under a level that has none of its own (communes, EPCI).
FALLBACK_OUTLINES = "departement"
_TRUE = ("1", "on", "true", "oui")


@router.get("/observatoire", response_class=HTMLResponse)
@as_page
def saved_runs(request: Request) -> Response:
    """The saved detection runs, the most recent first, with their parameters."""
    return show(request, _visitor(request), "observatory/runs.html", {"runs": runs.list_runs()})


@router.get("/contours/{level}.geojson")
def outlines(level: str) -> Response:
    """The packaged outlines of a level (GeoJSON, WGS84), the same for every visitor.

    Outside ``/observatoire/`` so that no run name can hide it, and for every map of the site.
    """
    if level not in maps.OUTLINE_LEVELS:
        raise HTTPException(
            404, f"contours {level!r} introuvables ; niveaux : {', '.join(maps.OUTLINE_LEVELS)}"
        )
    body = json.dumps(maps.outline_geojson(level), ensure_ascii=False, separators=(",", ":"))
    return Response(
        body,
        media_type="application/geo+json",
        headers={"cache-control": "public, max-age=86400"},
    )


@router.get("/observatoire/{name}", response_class=HTMLResponse)
@as_page
def run_page(request: Request, name: str) -> Response:
    """A run: its map (an enhancement) and its table of candidates, filters in the URL."""
    return _table_page(request, name, "observatory/run.html")


@router.get("/observatoire/{name}/territoires/{level}/{code}", response_class=HTMLResponse)
@as_page
def territory_page(request: Request, name: str, level: str, code: str) -> Response:
    """The candidates of one territory of a run."""
    run, frame = runs.load(name)
    names = frame.loc[frame["territory_code"].astype(str) == code, "territory_name"]
    if level != run.level or names.empty:
        raise NotFoundError(f"territoire {level} {code!r} absent de la sauvegarde {name!r}")
    extra = {"territory": {"level": level, "code": code, "name": str(names.iloc[0])}}
    return _table_page(request, name, "observatory/territory.html", (run, frame), extra,
                       {"territory": code})


@router.get("/observatoire/{name}/secteurs/{code}", response_class=HTMLResponse)
@as_page
def sector_page(request: Request, name: str, code: str) -> Response:
    """The territories where a sector is a candidate, in one run."""
    run, frame = runs.load(name)
    names = frame.loc[frame["sector"].astype(str) == code, "sector_name"]
    if names.empty:
        raise NotFoundError(f"secteur {code!r} absent de la sauvegarde {name!r}")
    extra = {"sector": {"code": code, "name": str(names.iloc[0])}}
    return _table_page(request, name, "observatory/sector.html", (run, frame), extra,
                       {"sector": code})


@router.get("/observatoire/{name}/candidats.csv")
@as_page
def export_csv(request: Request, name: str) -> Response:
    """The current view (filters and order of the URL, every page) as CSV for programs."""
    chosen = _chosen(request, name)
    return _download(view.csv_bytes(chosen), "text/csv; charset=utf-8", f"{name}-candidats.csv")


@router.get("/observatoire/{name}/candidats.xlsx")
@as_page
def export_xlsx(request: Request, name: str) -> Response:
    """The current view as an XLSX sheet for people."""
    chosen = _chosen(request, name)
    sheet = render.gettext(render.language_of(request), "Candidats")
    return _download(
        view.xlsx_bytes(chosen, sheet),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"{name}-candidats.xlsx",
    )


@router.get("/observatoire/{name}/carte.geojson")
@as_page
def map_points(request: Request, name: str) -> Response:
    """One point per territory of the current view: its candidates, their mass, a strong one."""
    run, frame = runs.load(name)
    chosen = view.select(frame, _filters(request, render.language_of(request)))
    return Response(
        json.dumps(_points(request, run, chosen), ensure_ascii=False, separators=(",", ":")),
        media_type="application/geo+json",
    )


def _table_page(
    request: Request,
    name: str,
    template: str,
    loaded: tuple[runs.SavedRun, pd.DataFrame] | None = None,
    extra: dict[str, Any] | None = None,
    fixed: dict[str, str] | None = None,
) -> Response:
    """A page with a table of candidates: filters, order and page from the URL.

    ``fixed``: the territory or the sector of the page (its code, whole), which the URL's
    filters do not change and the export links carry.
    """
    run, frame = loaded if loaded is not None else runs.load(name)
    language = render.language_of(request)
    error = None
    try:
        filters = _filters(request, language)
        number = _page_number(request, language)
    except InputError as exc:
        error, filters, number = str(exc), view.Filters(), 1
    if fixed:
        filters = filters.exactly(**fixed)
    chosen = view.select(frame, filters) if error is None else frame.iloc[0:0]
    rows, number, pages = view.page_of(chosen, number)
    query = _view_query(request, fixed or {})
    outline_level = run.level if run.level in maps.OUTLINE_LEVELS else FALLBACK_OUTLINES
    context = {
        "run": run,
        "filters": {key: request.query_params.get(key, "").strip() for key in FILTERS},
        "sort": filters.sort,
        "strong_only": filters.strong,
        "rows": _records(rows),
        "total": len(chosen),
        "page_number": number,
        "pages": pages,
        "error": error,
        "base": f"/observatoire/{quote(name)}",
        "query": query,
        "outlines": f"/contours/{outline_level}.geojson",
        "insets": json.dumps(
            [{"name": a.name, "west": a.lon[0], "east": a.lon[1], "south": a.lat[0], "north": a.lat[1]}
             for a in maps.INSETS],
            ensure_ascii=False,
        ),
        "inset_names": [area.name for area in maps.INSETS],
        **(extra or {}),
    }
    return show(request, _visitor(request), template, context, status_code=422 if error else 200)


def _visitor(request: Request) -> Visitor:
    """Who is asking (the pages read files, the registry only says who is signed in)."""
    with unit(request) as (_, visitor):
        return visitor


def _filters(request: Request, language: str) -> view.Filters:
    """The filters of the URL, or InputError saying in the page's language which one is wrong."""
    query = request.query_params
    raw_score = query.get("min_score", "").strip()
    min_score = None
    if raw_score:
        try:
            min_score = float(raw_score.replace(",", "."))
        except ValueError:
            min_score = math.nan
        if not 0 <= min_score <= 1:
            message = render.gettext(
                language, "Score minimal « %(value)s » : attendu un nombre entre 0 et 1 (par exemple 0,5)."
            )
            raise InputError(message % {"value": raw_score})
    sort = query.get("sort", "").strip() or view.DEFAULT_SORT
    if sort.lstrip("-") not in view.SORTS:
        message = render.gettext(language, "Tri « %(value)s » inconnu : attendu l'un de %(keys)s.")
        raise InputError(message % {"value": sort, "keys": ", ".join(view.SORTS)})
    return view.Filters(
        territory=query.get("territory", "").strip(),
        sector=query.get("sector", "").strip(),
        strong=query.get("strong", "").strip().lower() in _TRUE,
        min_score=min_score,
        sort=sort,
    )


def _page_number(request: Request, language: str) -> int:
    raw = request.query_params.get("page", "").strip()
    if raw == "":
        return 1
    if not raw.isdigit() or int(raw) < 1:
        message = render.gettext(language, "Page « %(value)s » : attendu un entier à partir de 1.")
        raise InputError(message % {"value": raw})
    return int(raw)


def _chosen(request: Request, name: str) -> pd.DataFrame:
    """The rows of the current view (every page), for an export."""
    _, frame = runs.load(name)
    return view.select(frame, _filters(request, render.language_of(request)))


def _view_query(request: Request, fixed: dict[str, str]) -> str:
    """The filters and order of the URL (and a page's own), for the export links and the map's data.

    A whole territory or sector code given as the text filter selects exactly it: codes of one
    level have one length, and no name is made of a code's characters.
    """
    params = {k: v for k, v in request.query_params.items() if k in (*FILTERS, "sort") and v}
    return urlencode(params | fixed)


def _records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows for a template: missing numbers as None."""
    records: list[dict[str, Any]] = rows.astype(object).where(rows.notna(), None).to_dict("records")
    return records


def _points(request: Request, run: runs.SavedRun, chosen: pd.DataFrame) -> dict[str, Any]:
    """A FeatureCollection: one point per territory at its centroid, its tooltip in the page's language."""
    from grappe.refdata import territories

    language = render.language_of(request)
    fmt = i18n.Formatter(language)
    mass_column = "employment" if run.basis == "employment" else "establishments"
    grouped = chosen.groupby("territory_code", sort=False).agg(
        name=("territory_name", "first"),
        candidates=("rank", "size"),
        mass=(mass_column, "sum"),
        strong=("strong", "any"),
    )
    centres = territories.centroids(run.level).to_pandas().set_index("code")
    tooltip = render.gettext(language, "%(name)s (%(code)s) : %(candidates)s candidat(s), %(mass)s %(unit)s")
    if mass_column == "employment":
        unit_name = render.gettext(language, "emplois")
    else:
        unit_name = render.gettext(language, "établissements")
    features = []
    for code, row in grouped.iterrows():
        if code not in centres.index or math.isnan(centres.at[code, "lon"]):
            continue  # a territory without located communes has no place on the map
        centre = centres.loc[code]
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [float(centre["lon"]), float(centre["lat"])]},
            "properties": {
                "code": str(code),
                "mass": float(row["mass"]),
                "strong": bool(row["strong"]),
                "href": f"/observatoire/{quote(run.name)}/territoires/{run.level}/{quote(str(code))}",
                "label": tooltip % {
                    "name": row["name"], "code": code, "candidates": fmt.number(int(row["candidates"])),
                    "mass": fmt.number(round(float(row["mass"]))), "unit": unit_name,
                },
            },
        })
    return {"type": "FeatureCollection", "features": features}


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{filename}"', "cache-control": "no-cache"},
    )

