"""Engines below the domains: the analytics layer (Ibis over DuckDB or Spark) and SQL.

The exports load lazily, so that ``grappe.storage.sql`` (the web stack) does not import
Ibis, and ``grappe.storage.analytics`` (the analysis library) does not import SQLAlchemy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grappe.storage.analytics import Analytics, connect, spark_session, stop_spark

__all__ = ["Analytics", "connect", "spark_session", "stop_spark"]

_ANALYTICS = frozenset(__all__)


def __getattr__(name: str) -> Any:
    if name in _ANALYTICS:
        return getattr(import_module("grappe.storage.analytics"), name)
    raise AttributeError(f"module 'grappe.storage' has no attribute {name!r}")
