"""What anyone may read about cluster organisations: a public profile and the platform's key figures."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from grappe.refdata import naf, territories
from grappe.registry import policy, service
from grappe.registry.models import Cluster, ClusterLabel, ClusterTerritory, LabelKind
from grappe.registry.policy import Actor
from grappe.registry.schemas import Schema


class NamedCode(Schema):
    """A code of a reference table with its French name (territory or NAF sector)."""

    level: str
    code: str
    name: str


class PublicLabel(Schema):
    """A label a cluster organisation holds or held."""

    kind: LabelKind
    name: str | None
    phase: str | None
    start: dt.date
    end: dt.date | None
    current: bool


class ClusterProfile(Schema):
    """The public profile of a cluster organisation (no member, fee or funding data)."""

    id: int
    name: str
    acronym: str | None
    legal_form: str | None
    founded: int | None
    website: str | None
    description: str | None
    sector_group: str | None
    member_count: int
    territories: list[NamedCode]
    sectors: list[NamedCode]
    labels: list[PublicLabel]


class PlatformFigures(Schema):
    """Key figures of the public directory."""

    clusters: int
    members: int
    labelled: int
    regions: int


@lru_cache(maxsize=8)
def _territory_names(level: str) -> dict[str, str]:
    return territories.names(level)


def _sector(code: str) -> NamedCode:
    return NamedCode(level=naf.level(code), code=code, name=naf.label(code))


def cluster_profile(
    session: Session, actor: Actor, cluster_id: int, on: dt.date | None = None
) -> ClusterProfile:
    """The public profile of a cluster organisation.

    A non-public organisation answers "introuvable" to those who may not read it, as an
    unknown id does: its existence is not revealed.
    """
    policy.require_cluster(session, actor, cluster_id, policy.Access.SEE, "voir la fiche")
    cluster = service.load_cluster(session, cluster_id)
    day = on or dt.date.today()
    return ClusterProfile(
        id=cluster.id,
        name=cluster.name,
        acronym=cluster.acronym,
        legal_form=cluster.legal_form,
        founded=cluster.founded,
        website=cluster.website,
        description=cluster.description,
        sector_group=cluster.sector_group,
        member_count=cluster.member_count,
        territories=[
            NamedCode(level=t.level, code=t.code, name=_territory_names(t.level).get(t.code, t.code))
            for t in cluster.territories
        ],
        sectors=[_sector(s.naf) for s in cluster.sectors],
        labels=[
            PublicLabel(
                kind=LabelKind(label.kind),
                name=label.name,
                phase=label.phase,
                start=label.start,
                end=label.end_date,
                current=label.start <= day and (label.end_date is None or label.end_date >= day),
            )
            for label in sorted(cluster.labels, key=lambda item: item.start, reverse=True)
            if label.kind != LabelKind.NONE
        ],
    )


def platform_figures(session: Session, on: dt.date | None = None) -> PlatformFigures:
    """Public cluster organisations, their current members, how many hold a label, régions covered."""
    day = on or dt.date.today()
    public = select(Cluster.id).where(Cluster.public.is_(True))
    clusters, members = session.execute(
        select(func.count(), func.coalesce(func.sum(Cluster.member_count), 0)).where(Cluster.public.is_(True))
    ).one()
    labelled = session.scalar(
        select(func.count(distinct(ClusterLabel.cluster_id))).where(
            ClusterLabel.cluster_id.in_(public),
            ClusterLabel.kind != LabelKind.NONE.value,
            ClusterLabel.start <= day,
            ClusterLabel.end_date.is_(None) | (ClusterLabel.end_date >= day),
        )
    )
    regions = session.scalar(
        select(func.count(distinct(ClusterTerritory.region))).where(ClusterTerritory.cluster_id.in_(public))
    )
    return PlatformFigures(
        clusters=int(clusters), members=int(members), labelled=int(labelled or 0), regions=int(regions or 0)
    )


def region_names() -> dict[str, str]:
    """Code -> name of the régions (the directory's filter)."""
    return dict(sorted(_territory_names("region").items(), key=lambda item: item[1]))
