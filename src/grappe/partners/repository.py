"""All SQL of the partner search: organisations, their projects' texts, memberships, value-chain links."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from grappe.cooperation.models import CooperationLink, LinkKind, LinkState, Project, ProjectPartner
from grappe.registry.models import Membership, Organisation


class OrganisationRow(NamedTuple):
    """What the search reads of one stored organisation."""

    id: int
    name: str
    kind: str
    naf: str | None
    commune: str | None
    town: str | None
    size_category: str | None
    name_key: str | None


class Participation(NamedTuple):
    """A named partner of a project, with the project's words."""

    organisation_id: int
    project_id: int
    edition: int | None
    acronym: str | None
    title: str
    summary: str | None
    cluster_id: int | None = None
    confidential: bool = False


def organisations(session: Session) -> Iterator[OrganisationRow]:
    """Every stored organisation, by id."""
    query = select(
        Organisation.id,
        Organisation.name,
        Organisation.kind,
        Organisation.naf,
        Organisation.commune,
        Organisation.town,
        Organisation.size_category,
        Organisation.name_key,
    ).order_by(Organisation.id)
    for row in session.execute(query):
        yield OrganisationRow(*row)


def participations(session: Session, until_edition: int | None = None) -> Iterator[Participation]:
    """Named partners of projects (once per project), of calls up to ``until_edition`` when given.

    With ``until_edition``, a project without an edition is left out: its year is unknown.
    """
    query = (
        select(
            ProjectPartner.organisation_id,
            Project.id,
            Project.edition,
            Project.acronym,
            Project.title,
            Project.summary,
            Project.cluster_id,
            Project.confidential,
        )
        .join(Project, Project.id == ProjectPartner.project_id)
        .where(ProjectPartner.organisation_id.is_not(None))
        .distinct()
        .order_by(Project.id, ProjectPartner.organisation_id)
    )
    if until_edition is not None:
        query = query.where(Project.edition <= until_edition)
    for row in session.execute(query):
        organisation_id = row[0]
        if organisation_id is not None:  # filtered above; the column stays nullable to the type checker
            yield Participation(organisation_id, *row[1:])


def memberships_on(session: Session, day: dt.date) -> list[tuple[int, int]]:
    """(organisation, cluster) of the memberships running on ``day``."""
    query = select(Membership.organisation_id, Membership.cluster_id).where(Membership.open_on(day))
    return [(organisation_id, cluster_id) for organisation_id, cluster_id in session.execute(query)]


def supplier_customer_sectors(session: Session) -> Iterator[tuple[str, str]]:
    """NAF codes (supplier, customer) of the confirmed supplier–customer links."""
    supplier, customer = aliased(Organisation), aliased(Organisation)
    query = (
        select(supplier.naf, customer.naf)
        .select_from(CooperationLink)
        .join(supplier, supplier.id == CooperationLink.organisation_a_id)
        .join(customer, customer.id == CooperationLink.organisation_b_id)
        .where(
            CooperationLink.kind == LinkKind.SUPPLIER_CUSTOMER.value,
            CooperationLink.state == LinkState.CONFIRMED.value,
            supplier.naf.is_not(None),
            customer.naf.is_not(None),
        )
        .distinct()
    )
    for a, b in session.execute(query):
        yield str(a), str(b)
