"""All SQL of cluster organisations: profiles, labels, funding, governance and the public directory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Date,
    Integer,
    Row,
    Select,
    bindparam,
    distinct,
    func,
    literal,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import selectinload

from grappe.kit.repository import Repository
from grappe.registry.models import (
    Cluster,
    ClusterFunding,
    ClusterLabel,
    ClusterSector,
    ClusterTerritory,
    Funder,
    GovernanceBody,
    LabelKind,
    SeatHolder,
)

#: Everything the full view of a cluster organisation reads, loaded with it.
FULL = (
    selectinload(Cluster.territories),
    selectinload(Cluster.sectors),
    selectinload(Cluster.labels).selectinload(ClusterLabel.funder),
    selectinload(Cluster.bodies).selectinload(GovernanceBody.holders),
    selectinload(Cluster.fundings).selectinload(ClusterFunding.funder),
)

#: The directory's filters and order as one statement shape: (label filter, région, sector,
#: size bounds, sort key).
DirectoryShape = tuple[str | None, bool, str | None, str | None, str]

#: Orders of the directory (a leading ``-`` reverses one); ties broken by id for stable pages.
DIRECTORY_SORTS: dict[str, tuple[Any, ...]] = {
    "name": (Cluster.name, Cluster.id),
    "-name": (Cluster.name.desc(), Cluster.id.desc()),
    "members": (Cluster.member_count, Cluster.name, Cluster.id),
    "-members": (Cluster.member_count.desc(), Cluster.name, Cluster.id),
}


@lru_cache(maxsize=512)
def _directory_statements(
    shape: DirectoryShape,
) -> tuple[Select[*tuple[Any, ...]], Select[int], Select[*tuple[Any, ...]]]:
    """The page statement (with its window total), the count statement and the places statement
    (every kept cluster with its territories, for the map) of a filter shape.

    Values are bound at run time; the statements are built once per shape (at most 288), so
    a directory page costs the database work, not the building of SQLAlchemy constructs.
    """
    label, region, sector, size, sort = shape
    day = bindparam("day", type_=Date())
    where: list[ColumnElement[bool]] = [Cluster.public.is_(True)]
    if label == "none":
        held = select(ClusterLabel.cluster_id).where(ClusterLabel.held_on(day), ClusterLabel.kind != "none")
        where.append(Cluster.id.not_in(held))
    elif label is not None:
        match = (
            ClusterLabel.kind == bindparam("label")
            if label == "kind"
            else func.lower(ClusterLabel.name) == bindparam("label")
        )
        where.append(Cluster.id.in_(select(ClusterLabel.cluster_id).where(ClusterLabel.held_on(day), match)))
    if region:
        # IN (subquery) rather than EXISTS: evaluated once, not once per cluster organisation
        where.append(
            Cluster.id.in_(
                select(ClusterTerritory.cluster_id).where(ClusterTerritory.region == bindparam("region"))
            )
        )
    if sector is not None:
        within = (
            ClusterSector.section == bindparam("sector")
            if sector == "section"
            else ClusterSector.naf.like(bindparam("sector_prefix"))
        )
        chain = ClusterSector.naf.in_(bindparam("chain", expanding=True))
        where.append(Cluster.id.in_(select(ClusterSector.cluster_id).where(or_(chain, within))))
    if size is not None:
        where.append(Cluster.member_count >= bindparam("low", type_=Integer()))
        if size == "bounded":
            where.append(Cluster.member_count < bindparam("high", type_=Integer()))
    page = (
        select(
            Cluster.id,
            Cluster.name,
            Cluster.acronym,
            Cluster.website,
            Cluster.description,
            Cluster.member_count,
            func.count().over().label("total"),
        )
        .where(*where)
        .order_by(*DIRECTORY_SORTS[sort])
        .limit(bindparam("limit", type_=Integer()))
        .offset(bindparam("offset", type_=Integer()))
    )
    count = select(func.count()).select_from(Cluster).where(*where)
    places = (
        select(
            Cluster.id,
            Cluster.name,
            Cluster.acronym,
            Cluster.member_count,
            ClusterTerritory.level,
            ClusterTerritory.code,
        )
        .join(ClusterTerritory, ClusterTerritory.cluster_id == Cluster.id)
        .where(*where)
        .order_by(*DIRECTORY_SORTS[sort], ClusterTerritory.id)
    )
    return page, count, places


_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
#: Labels held, régions and sectors of the clusters of a page, in one round trip.
_DIRECTORY_DETAILS: CompoundSelect[*tuple[Any, ...]] = union_all(
    select(
        literal("label").label("what"),
        ClusterLabel.cluster_id,
        func.coalesce(ClusterLabel.name, ClusterLabel.kind).label("value"),
        literal(0).label("rank"),
    ).where(
        ClusterLabel.cluster_id.in_(_IDS),
        ClusterLabel.kind != "none",
        ClusterLabel.held_on(bindparam("day", type_=Date())),
    ),
    select(literal("region"), ClusterTerritory.cluster_id, ClusterTerritory.region, literal(0)).where(
        ClusterTerritory.cluster_id.in_(_IDS), ClusterTerritory.region.is_not(None)
    ),
    select(literal("sector"), ClusterSector.cluster_id, ClusterSector.naf, ClusterSector.id).where(
        ClusterSector.cluster_id.in_(_IDS)
    ),
)


class ClusterRepository(Repository[Cluster]):
    """Cluster organisations and what hangs from them (labels, funding, governance)."""

    model = Cluster
    what = "structure"

    def load(self, cluster_id: int) -> Cluster:
        """A cluster organisation with everything its full view shows."""
        return self.get(cluster_id, *FULL)

    def summaries(
        self, scope: Collection[int] | None, limit: int, offset: int
    ) -> tuple[int, Sequence[Cluster]]:
        """How many cluster organisations in all and one page of them by name (``scope``: those ids only)."""
        query = select(Cluster).order_by(Cluster.name, Cluster.id)
        if scope is not None:
            query = query.where(Cluster.id.in_(scope))
        return self.page(query, limit, offset)

    def ids_named(self, text: str) -> list[int]:
        """Ids of the cluster organisations whose acronym or name is ``text`` (ignoring case)."""
        lowered = text.lower()
        return list(
            self.session.scalars(
                select(Cluster.id).where(
                    or_(func.lower(Cluster.acronym) == lowered, func.lower(Cluster.name) == lowered)
                )
            )
        )

    def is_public(self, cluster_id: int) -> bool | None:
        """Whether a cluster organisation is listed publicly; None when it does not exist."""
        return self.session.scalar(select(Cluster.public).where(Cluster.id == cluster_id))

    def funded_by(self, funder_id: int) -> set[int]:
        """Cluster organisations a funder funds: a label it grants or a funding line from it."""
        query = union(
            select(ClusterLabel.cluster_id).where(ClusterLabel.funder_id == funder_id),
            select(ClusterFunding.cluster_id).where(ClusterFunding.funder_id == funder_id),
        )
        return set(self.session.scalars(select(query.subquery().c[0])))

    def funder(self, name: str) -> Funder | None:
        return self.session.scalar(select(Funder).where(Funder.name == name))

    def funding_line(
        self, cluster_id: int, year: int, source: str, funder_id: int | None
    ) -> ClusterFunding | None:
        return self.session.scalar(
            select(ClusterFunding).where(
                ClusterFunding.cluster_id == cluster_id,
                ClusterFunding.year == year,
                ClusterFunding.source == source,
                ClusterFunding.funder_id.is_(None)
                if funder_id is None
                else ClusterFunding.funder_id == funder_id,
            )
        )

    def body(self, cluster_id: int, kind: str) -> GovernanceBody | None:
        return self.session.scalar(
            select(GovernanceBody).where(GovernanceBody.cluster_id == cluster_id, GovernanceBody.kind == kind)
        )

    # --- the public directory ----------------------------------------------------------------

    def directory_page(self, shape: DirectoryShape, params: dict[str, Any]) -> tuple[int, Sequence[Row[Any]]]:
        """The total and the rows of a directory page (columns only, no ORM object).

        The directory is the busiest public read: plain column reads on the session's
        connection, the total by a window count in the same statement as the page (counted
        apart only for an empty page past the first).
        """
        page_statement, count_statement, _ = _directory_statements(shape)
        connection = self.session.connection()
        page = connection.execute(page_statement, params).all()
        if page:
            return page[0].total, page
        total = connection.execute(count_statement, params).scalar_one() if params["offset"] else 0
        return total, page

    def directory_places(
        self, shape: DirectoryShape, params: dict[str, Any]
    ) -> Sequence[Row[int, str, str | None, int, str, str]]:
        """(id, name, acronym, members, territory level, territory code) of every cluster
        organisation a directory filter keeps, in the directory's order: one statement."""
        _, _, places = _directory_statements(shape)
        return self.session.connection().execute(places, params).all()

    def directory_details(self, ids: list[int], day: dt.date) -> Sequence[Row[str, int, str, int]]:
        """(what, cluster id, value, rank) rows: labels held on ``day``, régions and sectors."""
        return self.session.connection().execute(_DIRECTORY_DETAILS, {"ids": ids, "day": day}).all()

    def platform_figures(self, day: dt.date) -> tuple[int, int, int, int]:
        """Public cluster organisations, their current members, how many hold a label, régions."""
        public = select(Cluster.id).where(Cluster.public.is_(True))
        clusters, members = self.session.execute(
            select(func.count(), func.coalesce(func.sum(Cluster.member_count), 0)).where(
                Cluster.public.is_(True)
            )
        ).one()
        labelled = self.session.scalar(
            select(func.count(distinct(ClusterLabel.cluster_id))).where(
                ClusterLabel.cluster_id.in_(public),
                ClusterLabel.kind != LabelKind.NONE.value,
                ClusterLabel.held_on(day),
            )
        )
        regions = self.session.scalar(
            select(func.count(distinct(ClusterTerritory.region))).where(
                ClusterTerritory.cluster_id.in_(public)
            )
        )
        return int(clusters), int(members), int(labelled or 0), int(regions or 0)


class LabelRepository(Repository[ClusterLabel]):
    """Label periods of cluster organisations."""

    model = ClusterLabel
    what = "label"


class SeatHolderRepository(Repository[SeatHolder]):
    """Seat holders of governance bodies."""

    model = SeatHolder
    what = "mandat"
