"""All SQL of organisations: legal units, their establishments, contacts and owning cluster."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import Select, false, select, union
from sqlalchemy.orm import selectinload

from grappe.kit.repository import Repository
from grappe.registry.models import Contact, Establishment, Membership, Organisation, OrganisationOwner


class OrganisationRepository(Repository[Organisation]):
    """Organisations (legal units), loaded with their establishments and contacts."""

    model = Organisation
    what = "organisation"

    def load(self, organisation_id: int) -> Organisation:
        """An organisation with its establishments and contacts."""
        return self.get(
            organisation_id, selectinload(Organisation.establishments), selectinload(Organisation.contacts)
        )

    def id_of_siren(self, siren: str) -> int | None:
        return self.session.scalar(select(Organisation.id).where(Organisation.siren == siren))

    def of_siren(self, siren: str) -> Organisation | None:
        return self.session.scalar(select(Organisation).where(Organisation.siren == siren))

    def of_sirens(self, sirens: Collection[str]) -> Sequence[Organisation]:
        """The organisations of these SIRENs, with their establishments."""
        return self.session.scalars(
            select(Organisation)
            .where(Organisation.siren.in_(sirens))
            .options(selectinload(Organisation.establishments))
        ).all()

    def establishment(self, siret: str) -> Establishment | None:
        return self.session.scalar(select(Establishment).where(Establishment.siret == siret))

    def owner(self, organisation_id: int) -> int | None:
        """The cluster organisation that owns an organisation (created it), if any."""
        return self.session.scalar(
            select(OrganisationOwner.cluster_id).where(OrganisationOwner.organisation_id == organisation_id)
        )


class ContactRepository(Repository[Contact]):
    """Contact persons of organisations."""

    model = Contact
    what = "contact"

    def remove(self, contact: Contact) -> None:
        """Delete a contact; its organisation's loaded list of contacts is read again."""
        organisation = contact.organisation
        self.session.delete(contact)
        self.flush()
        self.session.expire(organisation, ["contacts"])


def owned_or_running(clusters: Collection[int], day: dt.date) -> Select[int]:
    """Ids of the organisations these clusters own or have as members after ``day`` (a subquery)."""
    if not clusters:
        return select(Organisation.id).where(false())
    owned = select(OrganisationOwner.organisation_id).where(OrganisationOwner.cluster_id.in_(clusters))
    current = select(Membership.organisation_id).where(
        Membership.cluster_id.in_(clusters), Membership.runs_after(day)
    )
    return select(union(owned, current).subquery().c[0])


def the_organisation(organisation_id: int | None) -> Select[int]:
    """The id of one organisation as a subquery (a member user's own)."""
    return select(Organisation.id).where(Organisation.id == organisation_id)
