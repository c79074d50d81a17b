"""Routes of prospects: establishments of the fabric a cluster could recruit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from grappe.api.deps import ERRORS, Id, Work
from grappe.registry import prospects

router = APIRouter()


@router.get("/clusters/{cluster_id}/prospects", tags=["structures"], responses=ERRORS)
def list_prospects(
    work: Work,
    cluster_id: Id,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[dict[str, Any]]:
    """Prospects classés (établissements du tissu, non adhérents)."""
    with work as (db, actor):
        return prospects.prospects(db, actor, cluster_id, limit=limit).to_pylist()
