"""Reference data, packaged and offline: NAF rév. 2, territories (COG), size bands, clusters.

The packaged files are derived by ``scripts/build_refdata.py`` from registry packages;
their sources, versions and licences are in ``data/PROVENANCE.json``
(:func:`provenance`).
"""

from __future__ import annotations

from grappe.refdata import clusters, naf, sizes, territories
from grappe.refdata._files import provenance
from grappe.refdata.sizes import category_of_band, firm_category, size_bands
from grappe.refdata.territories import (
    centroids,
    commune_aliases,
    commune_levels,
    communes,
    departements,
    epcis,
    import_ze,
    names,
    neighbours,
    normalize_commune,
    outlines_path,
    regions,
    to_lambert93,
    to_wgs84,
    zones_emploi,
)

__all__ = [
    "category_of_band",
    "centroids",
    "clusters",
    "commune_aliases",
    "commune_levels",
    "communes",
    "departements",
    "epcis",
    "firm_category",
    "import_ze",
    "naf",
    "names",
    "neighbours",
    "normalize_commune",
    "outlines_path",
    "provenance",
    "regions",
    "size_bands",
    "sizes",
    "territories",
    "to_lambert93",
    "to_wgs84",
    "zones_emploi",
]
