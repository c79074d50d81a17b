"""What every map of the site shares: the outlines' address, the overseas insets, points as GeoJSON.

The maps are drawn by ``static/observatory.js`` (Leaflet without tiles) from the ``data-*``
attributes the ``map.html`` macro writes: outlines from ``/contours/{level}.geojson`` and one
circle per point of a page's own GeoJSON address (``mass``: its area, ``strong``: filled,
``label``: its tooltip, ``href``: where a click goes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from fastapi.responses import Response

from grappe.detection import maps

#: The outlines under every map that shows places rather than territories of one level.
OUTLINE_LEVEL = "departement"


def context(points: str, outline_level: str = OUTLINE_LEVEL) -> dict[str, Any]:
    """The template values of a map whose points are at the address ``points``."""
    return {
        "points": points,
        "outlines": f"/contours/{outline_level}.geojson",
        "insets": json.dumps(
            [{"name": a.name, "west": a.lon[0], "east": a.lon[1], "south": a.lat[0], "north": a.lat[1]}
             for a in maps.INSETS],
            ensure_ascii=False,
        ),
        "inset_names": [area.name for area in maps.INSETS],
    }


@lru_cache(maxsize=8)
def centroids(level: str) -> dict[str, tuple[float, float]]:
    """(longitude, latitude) of each territory of a level that has located communes."""
    from grappe.refdata import territories

    table = territories.centroids(level).select(["code", "lon", "lat"]).to_pylist()
    return {
        str(row["code"]): (float(row["lon"]), float(row["lat"]))
        for row in table
        if row["lon"] is not None and row["lat"] is not None and row["lon"] == row["lon"]
    }


def centre(places: Iterable[tuple[str, str]]) -> tuple[float, float] | None:
    """The mean of the centroids of some (level, code) territories; None when none is located."""
    found = [centroids(level).get(code) for level, code in places]
    located = [point for point in found if point is not None]
    if not located:
        return None
    return (
        sum(lon for lon, _ in located) / len(located),
        sum(lat for _, lat in located) / len(located),
    )


def feature(lon: float, lat: float, *, mass: float, strong: bool, label: str, href: str) -> dict[str, Any]:
    """A point of a map."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        "properties": {"mass": mass, "strong": strong, "label": label, "href": href},
    }


def geojson(features: list[dict[str, Any]], *, private: bool) -> Response:
    """A FeatureCollection response (``private``: a signed-in user's data, never cached)."""
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                      separators=(",", ":"))
    return Response(
        body,
        media_type="application/geo+json",
        headers={"cache-control": "no-store" if private else "no-cache"},
    )
