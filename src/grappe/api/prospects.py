"""Routes of prospects: establishments of the fabric a cluster could recruit."""

from __future__ import annotations

from fastapi import APIRouter

from grappe.api.deps import ERRORS, Id, Limit, Offset, Work
from grappe.registry import prospects

router = APIRouter()


@router.get(
    "/clusters/{cluster_id}/prospects",
    response_model=prospects.ProspectPage,
    tags=["structures"],
    responses=ERRORS,
)
def list_prospects(
    work: Work, cluster_id: Id, limit: Limit = 100, offset: Offset = 0
) -> prospects.ProspectPage:
    """Prospects classés (établissements du tissu, non adhérents), les meilleurs d'abord."""
    with work as (db, actor):
        table = prospects.prospects(db, actor, cluster_id)
    return prospects.ProspectPage.of_table(table, limit, offset)
