"""Build the packaged zones d'emploi 2020 (src/grappe/refdata/data/zones_emploi.parquet).

Source: INSEE's composition table of the zones d'emploi 2020 on the 2022 COG
(``$GRAPPE_SHARED_DATA/real/insee_communes_ze2020_geo2022.xlsx``, sheet
``Composition_communale``, 6 header rows, ``CODGEO, LIBGEO, ZE2020, LIBZE2020, ...``),
published by INSEE under the Licence Ouverte / Etalab 2.0.

The table is read by :func:`grappe.refdata.territories.read_ze_table`, the same rule as
``grappe refdata import-ze``: each code is mapped to its current commune through the
packaged commune aliases (communes merged after 2022 take the zone of the row bearing the
current code, else of the first old code in INSEE's order); a commune re-created since 2022
(no row of its own) takes the zone of its EPCI when all the EPCI's communes lie in one zone.
The output has one row per current commune with a zone: ``commune, ze, ze_name``.

This step is separate from ``scripts/build_refdata.py`` because its source is a file of
the shared data, not a registry package (as ``scripts/build_cluster_definitions.py``); it
depends on the packaged ``commune_aliases.parquet`` and ``communes.parquet``, recorded
with their sha256.

Usage::

    python scripts/build_zones_emploi.py           # build into the package
    python scripts/build_zones_emploi.py --check   # rebuild in a temp dir, compare bytes

Same inputs give the same bytes; the entry of ``PROVENANCE.json`` records each input's
sha256 and the counts.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when a test loads it by path
from packaged import OUT, ROOT, command_line, record, sha256_of, write_parquet

# The reading rule is the package's own: use this checkout's, not another installed copy.
sys.path.insert(0, str(ROOT / "src"))
from grappe.refdata import territories

OUTPUT_NAME = f"{territories.PACKAGED_ZE}.parquet"
BUILDER = "scripts/build_zones_emploi.py"
SOURCE_NAME = "real/insee_communes_ze2020_geo2022.xlsx"
SOURCE = {
    "origin": "INSEE, 'Zonage en zones d'emploi 2020', table de composition communale "
              "(géographie au 1er janvier 2022)",
    "version": "ZE2020, COG 2022",
    "licence": "Licence Ouverte / Etalab 2.0 (publisher: INSEE)",
}




def provenance_entry(source: Path, output: Path, stats: dict[str, Any]) -> dict[str, Any]:
    """The PROVENANCE.json entry of the output file."""
    sources: list[dict[str, str]] = [
        {"file": SOURCE_NAME, **SOURCE, "sha256": sha256_of(source)},
        *({"file": f"src/grappe/refdata/data/{name}",
           "origin": "packaged COG (scripts/build_refdata.py)",
           "version": "@etalab/decoupage-administratif 6.0.0",
           "licence": "data from INSEE COG, Licence Ouverte / Etalab 2.0",
           "sha256": sha256_of(OUT / name)}
          for name in ("commune_aliases.parquet", "communes.parquet")),
    ]
    return {
        "builder": BUILDER,
        "sources": sources,
        "derived": (
            "zone d'emploi 2020 (code, INSEE name) of every current commune the table covers; "
            "codes mapped to current communes through commune_aliases (a merged commune takes "
            "the zone of the row with the current code, else of its first old code); a commune "
            "re-created since 2022 takes the zone of its EPCI when the EPCI lies in one zone. "
            f"{stats['rows']} rows, {stats['merged_rows']} of them old codes of merged "
            f"communes; {stats['communes']} communes in {stats['zones']} zones "
            f"({stats['metropolitan_zones']} metropolitan), {stats['communes_from_epci']} of them "
            f"through their EPCI; {stats['communes_without_zone']} current communes without "
            f"zone (overseas collectivités); {stats['unknown_communes']} codes unknown to the "
            "COG"
        ),
        "sha256": sha256_of(output),
    }


def build(out: Path, source: Path) -> dict[str, Any]:
    """Write the zones into ``out`` and record them in ``out``/PROVENANCE.json."""
    table, stats = territories.read_ze_table(source)
    if stats["unknown_communes"]:
        raise SystemExit(f"{source.name}: codes unknown to the COG: {stats['unknown_codes'][:5]}")
    output = out / OUTPUT_NAME
    write_parquet(table, output)
    record(out, OUTPUT_NAME, provenance_entry(source, output, stats))
    return stats


def report(stats: dict[str, Any]) -> str:
    """The counts, one line each."""
    keys = ("rows", "merged_rows", "communes", "zones", "metropolitan_zones",
            "communes_from_epci", "communes_without_zone", "unknown_communes")
    return "\n".join(f"  {key:<24} {stats[key]:>6}" for key in keys)


def main() -> None:
    """Command line: build into the package, or ``--check`` the packaged file."""
    command_line(__doc__ or "", OUTPUT_NAME, SOURCE_NAME, build, report)

if __name__ == "__main__":
    main()
