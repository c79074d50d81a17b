"""The productive fabric: import of establishment and aggregated data into a validated store."""

from grappe.fabric.query import establishments_at, open_at
from grappe.fabric.schema import AGGREGATE_COLUMNS, ESTABLISHMENT_COLUMNS, TERRITORY_LEVELS
from grappe.fabric.store import FabricStore, ImportReport, StoreInfo

__all__ = [
    "AGGREGATE_COLUMNS",
    "ESTABLISHMENT_COLUMNS",
    "TERRITORY_LEVELS",
    "FabricStore",
    "ImportReport",
    "StoreInfo",
    "establishments_at",
    "open_at",
]
