"""What the productive fabric knows about organisations, by SIRET and SIREN (its public look-ups)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def holds_establishments(store: Path | None = None) -> bool:
    """Whether the fabric store (default ``Settings.store_dir``) holds establishments."""
    from grappe.fabric import lookup  # the fabric package is optional at import time

    return lookup.holds_establishments(store)


def lookup(
    sirets: Sequence[str], sirens: Sequence[str], store: Path | None = None
) -> dict[str, dict[str, Any]]:
    """What the fabric knows about SIRETs and SIRENs.

    Returns a mapping from each SIRET or SIREN found to ``name, naf, commune, size_band,
    active``. For a SIREN, the values are those of its largest establishment (the highest
    headcount band: the legal unit is at least that big), preferring open ones, then the
    smallest SIRET. For history stores, the latest period of each establishment is used.
    """
    from grappe.fabric import lookup as fabric

    found = {row["siret"]: _summary(row) for row in fabric.by_siret(sirets, store).to_pylist()}
    for row in _largest_per_unit(fabric.by_siren(sirens, store)).to_pylist():
        found[row["siren"]] = _summary(row)
    return found


def _largest_per_unit(establishments: pa.Table) -> pa.Table:
    """The representative establishment of each SIREN: open first, then the highest band."""
    order = pc.sort_indices(
        establishments,
        sort_keys=[
            ("siren", "ascending"),
            ("active", "descending"),
            ("size_band", "descending"),
            ("siret", "ascending"),
        ],  # nulls last (pyarrow's default): an unknown band ranks below every known one
    )
    ranked = establishments.take(order)
    sirens = np.asarray(ranked["siren"].to_pylist(), dtype=object)
    first = np.ones(len(sirens), dtype=bool)
    first[1:] = sirens[1:] != sirens[:-1]
    return ranked.filter(pa.array(first))


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": row["name"],
        "naf": row["naf"],
        "commune": row["commune"],
        "size_band": row["size_band"],
        "active": bool(row["active"]),
    }
