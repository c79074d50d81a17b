"""All SQL of interclustering and of who belongs where: opt-ins, sharing clusters, memberships.

Shared by the partners' sub-domains (profiles, postings) and their policy: a cluster *shares
with* another when its opt-in covers every cluster or names that one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from grappe.partners.models import ClusterSharing, PartnerProfile, SharingPartner
from grappe.registry.models import Cluster, Membership, OrganisationOwner

#: Ids per IN (...) list: SQLite's default limit of bound parameters is far above it.
CHUNK = 500


def _chunks(ids: Collection[int]) -> Iterable[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def opt_in(session: Session, cluster_id: int) -> ClusterSharing | None:
    """A cluster's opt-in row (None: it shares with nobody)."""
    return session.get(ClusterSharing, cluster_id)


def named_partners(session: Session, cluster_id: int) -> list[int]:
    """The clusters a cluster shares with by name, by id."""
    query = select(SharingPartner.partner_id).where(SharingPartner.cluster_id == cluster_id)
    return sorted(session.scalars(query))


def replace_partners(session: Session, sharing: ClusterSharing, partners: Iterable[int]) -> None:
    """Name exactly ``partners`` as the clusters a cluster shares with."""
    for row in session.scalars(select(SharingPartner).where(SharingPartner.cluster_id == sharing.cluster_id)):
        session.delete(row)
    session.flush()
    for partner_id in sorted(set(partners)):
        session.add(SharingPartner(cluster_id=sharing.cluster_id, partner_id=partner_id))


def sharing_with(session: Session, clusters: Collection[int] | None) -> set[int]:
    """The clusters that share their members' public profiles with one of ``clusters``
    (None: with any cluster); ``clusters`` themselves are left out: they are not "others"."""
    to_all = select(ClusterSharing.cluster_id).where(ClusterSharing.all_clusters.is_(True))
    everyone = set(session.scalars(to_all))
    named = select(SharingPartner.cluster_id, SharingPartner.partner_id)
    found: set[int] = set(everyone)
    if clusters is None:
        found |= {source for source, _ in session.execute(named)}
        return found
    for chunk in _chunks(clusters):
        found |= {source for source, _ in session.execute(named.where(SharingPartner.partner_id.in_(chunk)))}
    return found - set(clusters)


def shares(session: Session, sources: Collection[int], targets: Collection[int]) -> bool:
    """Whether one of ``sources`` shares with one of ``targets`` (each a set of cluster ids)."""
    if not sources or not targets:
        return False
    return bool(set(sources) & sharing_with(session, targets))


def clusters_of(session: Session, organisation_ids: Collection[int], day: dt.date) -> dict[int, set[int]]:
    """The clusters each organisation is a member of on ``day`` (absent: none)."""
    found: dict[int, set[int]] = defaultdict(set)
    query = select(Membership.organisation_id, Membership.cluster_id).where(Membership.open_on(day))
    for chunk in _chunks(organisation_ids):
        rows = session.execute(query.where(Membership.organisation_id.in_(chunk)))
        for organisation_id, cluster_id in rows:
            found[organisation_id].add(cluster_id)
    return dict(found)


def members_of(session: Session, clusters: Collection[int] | None, day: dt.date) -> set[int]:
    """Organisations member on ``day`` of one of ``clusters`` (None: of any cluster)."""
    query = select(Membership.organisation_id).where(Membership.open_on(day)).distinct()
    if clusters is None:
        return set(session.scalars(query))
    found: set[int] = set()
    for chunk in _chunks(clusters):
        found |= set(session.scalars(query.where(Membership.cluster_id.in_(chunk))))
    return found


def owners_of(session: Session, organisation_ids: Collection[int]) -> dict[int, int]:
    """The owning cluster of each organisation that has one."""
    found: dict[int, int] = {}
    query = select(OrganisationOwner.organisation_id, OrganisationOwner.cluster_id)
    for chunk in _chunks(organisation_ids):
        rows = session.execute(query.where(OrganisationOwner.organisation_id.in_(chunk)))
        found.update((row[0], row[1]) for row in rows)
    return found


def consenting(session: Session, organisation_ids: Collection[int]) -> set[int]:
    """The organisations of ``organisation_ids`` whose profile carries their consent."""
    found: set[int] = set()
    query = select(PartnerProfile.organisation_id).where(PartnerProfile.consent.is_(True))
    for chunk in _chunks(organisation_ids):
        found |= set(session.scalars(query.where(PartnerProfile.organisation_id.in_(chunk))))
    return found


def profiles(session: Session, organisation_ids: Collection[int] | None) -> dict[int, PartnerProfile]:
    """The stored profiles of ``organisation_ids`` (None: every profile)."""
    if organisation_ids is None:
        return {p.organisation_id: p for p in session.scalars(select(PartnerProfile))}
    found: dict[int, PartnerProfile] = {}
    for chunk in _chunks(organisation_ids):
        query = select(PartnerProfile).where(PartnerProfile.organisation_id.in_(chunk))
        found.update({p.organisation_id: p for p in session.scalars(query)})
    return found


def cluster_names(session: Session, cluster_ids: Collection[int]) -> dict[int, str]:
    """The name of each cluster (its acronym first when it has one)."""
    found: dict[int, str] = {}
    query = select(Cluster.id, Cluster.acronym, Cluster.name)
    for chunk in _chunks(cluster_ids):
        for cid, acronym, name in session.execute(query.where(Cluster.id.in_(chunk))):
            found[cid] = acronym or name
    return found
