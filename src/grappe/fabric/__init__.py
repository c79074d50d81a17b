"""The productive fabric: import of establishment and aggregated data into a validated store."""

from grappe.fabric.lookup import (
    ESTABLISHMENT_FIELDS,
    Scope,
    by_siren,
    by_siret,
    find_store,
    holds_establishments,
    open_establishments,
)
from grappe.fabric.query import open_at
from grappe.fabric.schema import AGGREGATE_COLUMNS, ESTABLISHMENT_COLUMNS, TERRITORY_LEVELS
from grappe.fabric.store import FabricStore, ImportReport, StoreInfo

__all__ = [
    "AGGREGATE_COLUMNS",
    "ESTABLISHMENT_COLUMNS",
    "ESTABLISHMENT_FIELDS",
    "TERRITORY_LEVELS",
    "FabricStore",
    "ImportReport",
    "Scope",
    "StoreInfo",
    "by_siren",
    "by_siret",
    "find_store",
    "holds_establishments",
    "open_at",
    "open_establishments",
]
