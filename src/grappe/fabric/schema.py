"""The fixed column layouts of the fabric store (establishment rows and aggregated counts)."""

from __future__ import annotations

from typing import Final, Literal

import pyarrow as pa

Kind = Literal["establishments", "aggregates"]

ESTABLISHMENT_COLUMNS: Final[dict[str, str]] = {
    "siret": "VARCHAR",
    "siren": "VARCHAR",
    "nic": "VARCHAR",
    "naf": "VARCHAR",
    "commune": "VARCHAR",
    "size_band": "VARCHAR",
    "created": "DATE",
    "closed": "DATE",
    "active": "BOOLEAN",
    "valid_from": "DATE",
    "valid_to": "DATE",
    "x": "DOUBLE",
    "y": "DOUBLE",
    "name": "VARCHAR",
    "source": "VARCHAR",
}
"""Columns of ``<store>/establishments/<source_id>.parquet`` with their DuckDB types."""

AGGREGATE_COLUMNS: Final[dict[str, str]] = {
    "territory_level": "VARCHAR",
    "territory_code": "VARCHAR",
    "naf": "VARCHAR",
    "year": "SMALLINT",
    "establishments": "BIGINT",
    "employees": "DOUBLE",
    "source": "VARCHAR",
}
"""Columns of ``<store>/aggregates/<source_id>.parquet`` with their DuckDB types."""

TERRITORY_LEVELS: Final[tuple[str, ...]] = ("commune", "epci", "ze", "departement", "region")
"""Territory levels an aggregated table may use."""

_ARROW_TYPES: Final[dict[str, pa.DataType]] = {
    "VARCHAR": pa.string(),
    "DATE": pa.date32(),
    "BOOLEAN": pa.bool_(),
    "DOUBLE": pa.float64(),
    "SMALLINT": pa.int16(),
    "BIGINT": pa.int64(),
}


def columns_of(kind: Kind) -> dict[str, str]:
    """The store columns (name -> DuckDB type) of one kind of source.

    Parameters
    ----------
    kind
        ``"establishments"`` or ``"aggregates"``.
    """
    return ESTABLISHMENT_COLUMNS if kind == "establishments" else AGGREGATE_COLUMNS


def arrow_schema(kind: Kind) -> pa.Schema:
    """The Arrow schema of the Parquet files of one kind of source."""
    return pa.schema([(name, _ARROW_TYPES[t]) for name, t in columns_of(kind).items()])
