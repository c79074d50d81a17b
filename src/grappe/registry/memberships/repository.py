"""All SQL of memberships: periods, member lists and directories, the clusters' member counts.

Which period is open on a day is the model's rule (:meth:`Membership.open_on`,
:meth:`Membership.runs_after`, :meth:`Membership.meets`), used here in SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Date, Integer, Row, Select, bindparam, func, or_, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement, SQLCoreOperations

from grappe.kit.repository import Repository
from grappe.registry.models import Cluster, Establishment, Membership, Organisation


def _member_page_statement(current: bool) -> Select[*tuple[Any, ...]]:
    """The member-list page (columns only, with the window total); values are bound at run.

    Built once per variant at import: a statement built anew per request costs more Python
    time (construction, cache key) than the database spends answering it.
    """
    where: list[SQLCoreOperations[bool]] = [Membership.cluster_id == bindparam("cluster_id")]
    if current:
        where.append(Membership.open_on(bindparam("day", type_=Date())))
    return (
        select(
            Membership.id.label("membership_id"),
            Organisation.id.label("organisation_id"),
            Organisation.siren,
            Establishment.siret,
            Organisation.name,
            Organisation.kind,
            Organisation.size_category,
            func.coalesce(Establishment.commune, Organisation.commune).label("commune"),
            Membership.membership_type,
            Membership.joined,
            Membership.left_on.label("left"),
            Membership.leaving_reason,
            Organisation.in_fabric,
            Membership.version,
            func.count().over().label("total"),
        )
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .outerjoin(Establishment, Establishment.id == Membership.establishment_id)
        .where(*where)
        .order_by(Organisation.name, Membership.joined, Membership.id)
        .limit(bindparam("limit", type_=Integer()))
        .offset(bindparam("offset", type_=Integer()))
    )


_MEMBER_PAGE = {current: _member_page_statement(current) for current in (True, False)}
_MEMBER_COUNT = {
    current: select(func.count()).select_from(
        _member_page_statement(current).limit(None).offset(None).order_by(None).subquery()
    )
    for current in (True, False)
}
#: The fields of a member-list row (MemberOut), in the order of the page statement.
MEMBER_FIELDS = [c.key for c in _MEMBER_PAGE[True].selected_columns if c.key != "total"]


def matching(search: str) -> ColumnElement[bool]:
    """Members whose name contains ``search`` (any case) or, for digits, whose SIREN starts with them."""
    text = search.strip()
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    by_name = Organisation.name.ilike(f"%{escaped}%", escape="\\")
    digits = text.replace(" ", "")
    return or_(by_name, Organisation.siren.startswith(digits)) if digits.isdigit() else by_name


class MembershipRepository(Repository[Membership]):
    """Membership periods of organisations in cluster organisations."""

    model = Membership
    what = "adhésion"
    # PostgreSQL's exclusion constraint and SQLite's trigger both name the overlap
    refusals = {"overlap": "périodes d'adhésion qui se chevauchent"}  # noqa: RUF012

    def overlapping(
        self,
        *,
        cluster_id: int,
        organisation_id: int,
        joined: dt.date,
        left: dt.date | None,
        exclude: int | None = None,
    ) -> Membership | None:
        """An existing period of this organisation in this cluster overlapping [joined, left)."""
        query = select(Membership).where(
            Membership.cluster_id == cluster_id,
            Membership.organisation_id == organisation_id,
            Membership.runs_after(joined),
        )
        if left is not None:
            query = query.where(Membership.joined < left)
        if exclude is not None:
            query = query.where(Membership.id != exclude)
        return self.session.scalars(query.limit(1)).first()

    def refresh_member_count(self, cluster_id: int) -> None:
        """Store the number of unended memberships on the cluster (read by the directory).

        A Core UPDATE on purpose: a derived counter must not bump the cluster's version and
        make a concurrent edit of its profile fail.
        """
        count = (
            select(func.count())
            .select_from(Membership)
            .where(Membership.cluster_id == cluster_id, Membership.left_on.is_(None))
            .scalar_subquery()
        )
        self.session.execute(update(Cluster).where(Cluster.id == cluster_id).values(member_count=count))

    def member_page(
        self, cluster_id: int, day: dt.date | None, limit: int, offset: int, search: str | None = None
    ) -> tuple[int, Sequence[Row[Any]]]:
        """The total and the rows (:data:`MEMBER_FIELDS` and ``total``) of a member-list page.

        ``day``: members open on that day; None: every period. ``search``: only members
        :func:`matching` it. One statement gives the page and its total (window count); the
        count runs apart only for an empty page past the first.
        """
        connection = self.session.connection()
        current = day is not None
        params: dict[str, Any] = {"cluster_id": cluster_id, "limit": limit, "offset": offset}
        if current:
            params["day"] = day
        page, count = _MEMBER_PAGE[current], _MEMBER_COUNT[current]
        if search:
            page = page.where(matching(search))
            count = select(func.count()).select_from(page.limit(None).offset(None).order_by(None).subquery())
        rows = connection.execute(page, params).all()
        if rows:
            return rows[0].total, rows
        if not offset:
            return 0, rows
        return connection.execute(count, params).scalar() or 0, rows

    def of_cluster(
        self, cluster_id: int, day: dt.date | None, *, contacts: bool = False, search: str | None = None
    ) -> Sequence[Membership]:
        """Periods of a cluster (open on ``day``, or all for None) with their organisation, by name.

        ``search``: only members :func:`matching` it.
        """
        query = (
            select(Membership)
            .join(Membership.organisation)
            .where(Membership.cluster_id == cluster_id)
            .order_by(Organisation.name, Membership.joined, Membership.id)
        )
        if day is not None:
            query = query.where(Membership.open_on(day))
        if search:
            query = query.where(matching(search))
        if contacts:
            query = query.options(selectinload(Membership.organisation).selectinload(Organisation.contacts))
        else:
            query = query.options(
                selectinload(Membership.organisation), selectinload(Membership.establishment)
            )
        return self.session.scalars(query).all()

    def meeting(self, cluster_id: int, start: dt.date, end: dt.date) -> Sequence[Membership]:
        """Periods of a cluster that meet the days from ``start`` to ``end``, with their organisation."""
        return self.session.scalars(
            select(Membership)
            .where(Membership.cluster_id == cluster_id, Membership.meets(start, end))
            .options(selectinload(Membership.organisation))
            .order_by(Membership.id)
        ).all()

    def with_sites(self, cluster_id: int) -> Sequence[Row[Membership, str, str | None, str]]:
        """Every period of a cluster with its organisation's kind and size and its site's commune.

        Rows of (membership, kind, size_category, commune).
        """
        return self.session.execute(
            select(
                Membership,
                Organisation.kind,
                Organisation.size_category,
                func.coalesce(Establishment.commune, Organisation.commune).label("commune"),
            )
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .outerjoin(Establishment, Establishment.id == Membership.establishment_id)
            .where(Membership.cluster_id == cluster_id)
        ).all()

    def of_organisations(self, cluster_id: int, organisation_ids: Collection[int]) -> Sequence[Membership]:
        """Periods of these organisations in a cluster."""
        return self.session.scalars(
            select(Membership).where(
                Membership.cluster_id == cluster_id, Membership.organisation_id.in_(organisation_ids)
            )
        ).all()

    def clusters_open_on(self, organisation_id: int, day: dt.date) -> set[int]:
        """Cluster organisations an organisation is a member of on a day."""
        return set(
            self.session.scalars(
                select(Membership.cluster_id).where(
                    Membership.organisation_id == organisation_id, Membership.open_on(day)
                )
            )
        )

    def member_sirens(self, cluster_id: int, day: dt.date) -> set[str]:
        """SIRENs of the organisations that are members of a cluster on a day."""
        return {
            siren
            for siren in self.session.scalars(
                select(Organisation.siren)
                .join(Membership, Membership.organisation_id == Organisation.id)
                .where(Membership.cluster_id == cluster_id, Membership.open_on(day))
            )
            if siren
        }

    def periods_of(self, organisation_id: int, day: dt.date) -> list[tuple[int, bool]]:
        """(cluster, still running after ``day``) of every membership period of an organisation."""
        rows = self.session.execute(
            select(Membership.cluster_id, Membership.runs_after(day)).where(
                Membership.organisation_id == organisation_id
            )
        )
        return [(cluster_id, bool(running)) for cluster_id, running in rows]
