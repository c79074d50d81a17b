"""Reference tables (NAF spellings, communes, size bands, territories) registered in DuckDB."""

from __future__ import annotations

from functools import lru_cache

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from grappe.refdata import naf, sizes, territories


@lru_cache(maxsize=1)
def naf_any_level_forms() -> pa.Table:
    """Every accepted spelling of a NAF code of any level and its canonical code.

    Returns
    -------
    pyarrow.Table
        ``raw, code``: canonical (``25.62``), lower case (``25.62a``), without the dot
        (``2562``) and both; sections ``C`` and ``c``.
    """
    canonical = naf.table()["code"].combine_chunks()
    compact = pc.replace_substring(canonical, ".", "")
    forms = [canonical, compact, pc.utf8_lower(canonical), pc.utf8_lower(compact)]
    table = pa.table({
        "raw": pa.concat_arrays(forms),
        "code": pa.concat_arrays([canonical] * len(forms)),
    })
    return table.group_by(["raw", "code"]).aggregate([])


def territory_codes() -> pa.Table:
    """Accepted territory codes of every level of the aggregated tables.

    Returns
    -------
    pyarrow.Table
        ``level, alias, code``: communes through their aliases (arrondissements and
        former codes map to the current commune); EPCI, départements, régions and
        zones d'emploi (packaged, or imported) by their own codes. Not cached: an import
        of the zones d'emploi must show at once (the refdata readers cache the files).
    """
    aliases = territories.commune_aliases()
    parts = [
        pa.table({
            "level": pa.array(["commune"] * aliases.num_rows, pa.string()),
            "alias": aliases.column(0).cast(pa.string()),
            "code": aliases.column(1).cast(pa.string()),
        })
    ]
    levels = [
        ("epci", territories.epcis()["code"]),
        ("departement", territories.departements()["code"]),
        ("region", territories.regions()["code"]),
        ("ze", pc.unique(territories.zones_emploi()["ze"])),
    ]
    for level, codes in levels:
        array = codes.combine_chunks() if isinstance(codes, pa.ChunkedArray) else codes
        array = array.cast(pa.string())
        parts.append(pa.table({
            "level": pa.array([level] * len(array), pa.string()),
            "alias": array,
            "code": array,
        }))
    return pa.concat_tables(parts)


def register(conn: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Create the named reference tables in a DuckDB connection (temporary tables).

    Parameters
    ----------
    conn
        The import connection.
    names
        Any of ``naf_forms`` (sous-classe spellings -> code), ``naf_any_forms`` (any
        level), ``commune_aliases`` (alias -> current commune), ``size_bands`` (code),
        ``territory_codes`` (level, alias, code).
    """
    for name in names:
        table = _table(name)
        conn.register(f"_ref_{name}", table)
        conn.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _ref_{name}")
        conn.unregister(f"_ref_{name}")


def _table(name: str) -> pa.Table:
    if name == "naf_forms":
        forms = naf.accepted_forms()
        return pa.table({"raw": forms.column(0), "code": forms.column(1)})
    if name == "naf_any_forms":
        return naf_any_level_forms()
    if name == "commune_aliases":
        aliases = territories.commune_aliases()
        return pa.table({"alias": aliases.column(0), "commune": aliases.column(1)})
    if name == "size_bands":
        return pa.table({"code": sizes.size_bands()["code"]})
    if name == "territory_codes":
        return territory_codes()
    raise ValueError(f"table de référence inconnue : {name!r}")
