"""Look organisations up in the fabric store (DuckDB over its Parquet files) by SIRET and SIREN."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from grappe.config import get_settings
from grappe.errors import EngineError


def establishment_files(store: Path | None = None) -> list[Path]:
    """The establishment Parquet files of a fabric store ([] when there is no store yet)."""
    from grappe.fabric.store import FabricStore  # the fabric package is optional at import time

    path = store or get_settings().store_dir
    if not (path / "catalogue.duckdb").exists():
        return []
    return list(FabricStore.open(path).establishment_files())


@contextmanager
def scanning() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB connection to scan the store's Parquet files.

    A file the catalogue lists but that cannot be read (removed or damaged by hand) is a
    fault of the store, reported in one French line: DuckDB's own message names the
    server's path, so it stays in the chained cause.
    """
    con = duckdb.connect()
    try:
        yield con
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:  # missing, not Parquet
        raise EngineError(
            "magasin du tissu productif endommagé : un des fichiers Parquet de son catalogue "
            "est absent ou illisible"
        ) from exc
    finally:
        con.close()


def _sql_list(files: Sequence[Path]) -> str:
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"


def lookup(
    sirets: Sequence[str], sirens: Sequence[str], files: Sequence[Path] | None = None
) -> dict[str, dict[str, Any]]:
    """What the fabric knows about SIRETs and SIRENs.

    Returns a mapping from each SIRET or SIREN found to ``name, naf, commune, size_band,
    active``. For a SIREN, the values are those of its largest establishment (the highest
    headcount band; the legal unit is at least that big), preferring open ones. For history
    stores, the latest period of each establishment is used.
    """
    files = establishment_files() if files is None else list(files)
    if not files or (not sirets and not sirens):
        return {}
    with scanning() as con:
        wanted_siret = pa.table({"siret": pa.array(sorted(set(sirets)), pa.string())})
        wanted_siren = pa.table({"siren": pa.array(sorted(set(sirens)), pa.string())})
        con.register("wanted_siret", wanted_siret)
        con.register("wanted_siren", wanted_siren)
        source = f"read_parquet({_sql_list(files)}, union_by_name = true)"
        rows = con.execute(
            f"""
            WITH hits AS (
                SELECT siret, siren, name, naf, commune, size_band, active, valid_from
                FROM {source}
                WHERE siret IN (SELECT siret FROM wanted_siret)
                   OR siren IN (SELECT siren FROM wanted_siren)
            ), latest AS (
                SELECT * FROM hits
                QUALIFY row_number() OVER (
                    PARTITION BY siret ORDER BY valid_from DESC NULLS FIRST) = 1
            ), units AS (
                SELECT * FROM latest WHERE siren IN (SELECT siren FROM wanted_siren)
                QUALIFY row_number() OVER (
                    PARTITION BY siren
                    ORDER BY active DESC, coalesce(size_band, '') DESC, siret) = 1
            )
            SELECT siret AS key, name, naf, commune, size_band, active FROM latest
            WHERE siret IN (SELECT siret FROM wanted_siret)
            UNION ALL
            SELECT siren AS key, name, naf, commune, size_band, active FROM units
            """
        ).fetchall()
    return {
        key: {
            "name": name,
            "naf": naf,
            "commune": commune,
            "size_band": band,
            "active": bool(active),
        }
        for key, name, naf, commune, band, active in rows
    }
