"""A member user's pages: parse -> registry service -> page.

The registry's policy gives a member user read access to its own organisation and the member
directory of the clusters its organisation belongs to today; it changes nothing (its cluster's
managers keep its record), so these pages only read. A cluster it does not belong to is
refused, or "introuvable" when it is not public.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from grappe.registry.clusters import service as clusters
from grappe.registry.memberships import service as memberships
from grappe.registry.organisations import service as organisations
from grappe.web.forms import signed_in
from grappe.web.unit import as_page, show, unit

router = APIRouter(include_in_schema=False)


@router.get("/membre", response_class=HTMLResponse)
@as_page
def home(request: Request) -> Response:
    """The member's organisation: its record, its contacts and the clusters it belongs to."""
    with unit(request) as (session, visitor):
        signed_in(request, visitor)
        actor = visitor.actor
        member_of = clusters.member_clusters(session, actor)  # refused to any other role
        own = actor.organisation_id or 0
        organisation = organisations.get_organisation(session, actor, own)
        people = organisations.list_contacts(session, actor, own)
    context = {"organisation": organisation, "contacts": people, "clusters": member_of}
    return show(request, visitor, "member/home.html", context)


@router.get("/membre/structures/{cluster_id:int}", response_class=HTMLResponse)
@as_page
def directory(request: Request, cluster_id: int) -> Response:
    """The member directory of a cluster: its current members and their consenting contacts."""
    with unit(request) as (session, visitor):
        signed_in(request, visitor)
        members = memberships.member_directory(session, visitor.actor, cluster_id)
        profile = clusters.cluster_profile(session, visitor.actor, cluster_id)
    return show(request, visitor, "member/directory.html", {"cluster": profile, "members": members})
