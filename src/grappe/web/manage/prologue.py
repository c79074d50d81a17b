"""The prologue of every page of a managed cluster: a signed-in visitor (and a form's CSRF token),
then the cluster the visitor runs (another tenant's is refused, or "introuvable" when private)."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import ClusterOut
from grappe.web.forms import signed_in
from grappe.web.unit import Visitor


def managed(
    request: Request, session: Session, visitor: Visitor, cluster_id: int, csrf_token: str | None = None
) -> ClusterOut:
    """The cluster a signed-in manager runs, after the sign-in and CSRF checks of its page."""
    signed_in(request, visitor, csrf_token)
    return clusters.managed_cluster(session, visitor.actor, cluster_id)
