"""What users do with organisations: create (from the fabric), read, change, their contacts.

Every function takes the session of the caller's unit of work and the acting user first;
roles are checked through :mod:`grappe.registry.policy`, the SQL is in
:mod:`grappe.registry.organisations.repository`, and nothing here commits. The functions
without an actor serve the other registry services, which checked the rights already.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from typing import Any

from sqlalchemy.orm import Session

from grappe.errors import ConflictError, InputError, NotFoundError
from grappe.registry import policy, refs
from grappe.registry.identifiers import normalize_siren, normalize_siret
from grappe.registry.models import Contact, Establishment, Organisation, OrganisationOwner
from grappe.registry.organisations.repository import ContactRepository, OrganisationRepository
from grappe.registry.organisations.schemas import (
    ContactIn,
    ContactOut,
    ContactUpdate,
    OrganisationCreate,
    OrganisationOut,
    OrganisationUpdate,
)
from grappe.registry.policy import Access, Actor

#: What the fabric knows of SIRETs and SIRENs: identifier -> name, naf, commune, size_band.
FabricLookup = Callable[[list[str], list[str]], dict[str, dict[str, object]]]


def _org_out(org: Organisation) -> OrganisationOut:
    return OrganisationOut.model_validate(
        {
            **{
                k: getattr(org, k)
                for k in (
                    "id",
                    "siren",
                    "name",
                    "kind",
                    "naf",
                    "commune",
                    "size_band",
                    "declared_headcount",
                    "declared_turnover_eur",
                    "size_category",
                    "in_fabric",
                    "website",
                    "version",
                )
            },
            "establishments": list(org.establishments),
            "contacts": list(org.contacts),
        }
    )


def refresh_size(org: Organisation) -> None:
    """Recompute the size category (declared headcount/turnover first, else the SIRENE band)."""
    turnover = float(org.declared_turnover_eur) if org.declared_turnover_eur is not None else None
    org.size_category = refs.size_category(org.size_band, org.declared_headcount, turnover)


def _establishment(siret: str, info: Mapping[str, Any]) -> Establishment:
    """A new establishment, with what the fabric knows of it."""
    return Establishment(
        siret=siret,
        name=info.get("name"),
        naf=info.get("naf"),
        commune=info.get("commune"),
        size_band=info.get("size_band"),
        in_fabric=bool(info),
    )


def create_organisation(
    session: Session,
    actor: Actor,
    data: OrganisationCreate,
    fabric: FabricLookup | None = None,
    *,
    cluster_id: int | None = None,
) -> OrganisationOut:
    """Create an organisation (administrators and cluster managers).

    ``fabric`` looks SIRETs and SIRENs up in the productive fabric (see
    :func:`grappe.registry.fabric_link.lookup`); what it finds fills the blanks.
    ``cluster_id`` is the cluster organisation that owns the new record (default: a
    manager's only cluster; none for an administrator), so that it is nobody else's to read.
    An organisation already on the platform is not created twice: invite it
    (:func:`grappe.registry.invitations.service.invite`).
    """
    owner = policy.owner_of_new_organisation(
        session, actor, cluster_id
    )  # first: a hidden cluster is "introuvable"
    policy.require_manager(actor, "créer une organisation")
    repository = OrganisationRepository(session)
    sirets = [normalize_siret(s) for s in data.sirets]
    siren = normalize_siren(data.siren) if data.siren else (sirets[0][:9] if sirets else None)
    for siret in sirets:
        if siren and siret[:9] != siren:
            raise InputError(f"SIRET {siret} n'appartient pas au SIREN {siren}")
    if siren and repository.id_of_siren(siren):
        raise ConflictError(
            f"une organisation de SIREN {siren} existe déjà sur la plateforme : "
            "invitez-la dans votre structure (invitation)"
        )
    found = fabric(sirets, [siren] if siren else []) if fabric else {}
    unit = found.get(siren or "", {})
    org = Organisation(
        siren=siren,
        name=data.name.strip(),
        kind=data.kind.value,
        naf=refs.normalize_sector(data.naf)[0] if data.naf else unit.get("naf"),
        commune=refs.normalize_territory("commune", data.commune)[0] if data.commune else unit.get("commune"),
        size_band=refs.check_size_band(data.size_band) if data.size_band else unit.get("size_band"),
        declared_headcount=data.declared_headcount,
        declared_turnover_eur=data.declared_turnover_eur,
        website=data.website,
        in_fabric=bool(unit),
    )
    for siret in sirets:
        org.establishments.append(_establishment(siret, found.get(siret, {})))
    refresh_size(org)
    repository.add(org)
    repository.flush()
    if owner is not None:
        session.add(OrganisationOwner(organisation_id=org.id, cluster_id=owner))
        repository.flush()
    return _org_out(org)


def load_for(session: Session, actor: Actor, organisation_id: int, need: Access, action: str) -> Organisation:
    """An organisation the actor has ``need`` on (else "introuvable" or "refusé", see policy)."""
    org = OrganisationRepository(session).load(organisation_id)
    policy.require_organisation(session, actor, organisation_id, need, action)
    return org


def get_organisation(session: Session, actor: Actor, organisation_id: int) -> OrganisationOut:
    """An organisation (administrators; its own member users; managers and funders of a cluster
    it belongs or belonged to; managers of the cluster that owns it)."""
    return _org_out(load_for(session, actor, organisation_id, Access.READ, "consulter"))


def editable_organisation(session: Session, actor: Actor, organisation_id: int) -> OrganisationOut:
    """An organisation the actor may change (as :func:`update_organisation`), for its edit form."""
    return _org_out(load_for(session, actor, organisation_id, Access.MANAGE, "modifier"))


def update_organisation(
    session: Session, actor: Actor, organisation_id: int, data: OrganisationUpdate
) -> OrganisationOut:
    """Change an organisation (administrators, managers of a cluster it belongs to or that owns it)."""
    repository = OrganisationRepository(session)
    org = load_for(session, actor, organisation_id, Access.MANAGE, "modifier")
    repository.check_version(org, data.version)
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    if "name" in changes and not changes["name"]:
        raise InputError("name ne peut pas être vide")
    if changes.get("naf"):
        changes["naf"] = refs.normalize_sector(changes["naf"])[0]
    if changes.get("commune"):
        changes["commune"] = refs.normalize_territory("commune", changes["commune"])[0]
    if "kind" in changes and changes["kind"] is not None:
        changes["kind"] = changes["kind"].value
    for key, value in changes.items():
        setattr(org, key, value)
    refresh_size(org)
    repository.flush()
    return _org_out(org)


def add_contact(session: Session, actor: Actor, organisation_id: int, data: ContactIn) -> ContactOut:
    """Add a contact person to an organisation (administrators, managers of its clusters)."""
    org = load_for(session, actor, organisation_id, Access.MANAGE, "ajouter un contact")
    contact = Contact(
        organisation=org,
        full_name=data.full_name,
        role=data.role,
        email=data.email,
        phone=data.phone,
        directory_consent=data.directory_consent,
        consent_date=dt.date.today() if data.directory_consent else None,
    )
    session.add(contact)
    OrganisationRepository(session).flush()
    return ContactOut.model_validate(contact)


def resolve_organisation(session: Session, ref: str) -> int:
    """An organisation id from its number or its SIREN (command-line arguments)."""
    text = "".join(ref.split())
    if text.isdigit() and len(text) != 9:
        return OrganisationRepository(session).get(int(text)).id
    siren = normalize_siren(text)
    found = OrganisationRepository(session).id_of_siren(siren)
    if found is None:
        raise NotFoundError(f"organisation de SIREN {siren} introuvable")
    return found


def list_contacts(session: Session, actor: Actor, organisation_id: int) -> list[ContactOut]:
    """The contacts of an organisation, by name (whoever reads the organisation)."""
    org = load_for(session, actor, organisation_id, Access.READ, "consulter les contacts")
    return [ContactOut.model_validate(c) for c in sorted(org.contacts, key=lambda c: (c.full_name, c.id))]


def _contact_for(session: Session, actor: Actor, contact_id: int, need: Access, action: str) -> Contact:
    """A contact whose organisation the actor has ``need`` on (else "introuvable" or "refusé")."""
    contact = ContactRepository(session).get(contact_id)
    policy.require_organisation(session, actor, contact.organisation_id, need, action)
    return contact


def get_contact(session: Session, actor: Actor, contact_id: int) -> ContactOut:
    """One contact (whoever reads its organisation)."""
    return ContactOut.model_validate(_contact_for(session, actor, contact_id, Access.READ, "consulter"))


def editable_contact(session: Session, actor: Actor, contact_id: int) -> ContactOut:
    """A contact the actor may change (as :func:`update_contact`), for its edit form."""
    return ContactOut.model_validate(_contact_for(session, actor, contact_id, Access.MANAGE, "modifier"))


def update_contact(session: Session, actor: Actor, contact_id: int, data: ContactUpdate) -> ContactOut:
    """Change a contact (administrators, managers of its organisation's clusters).

    Giving the directory consent dates it today; withdrawing it clears the date.
    """
    repository = ContactRepository(session)
    contact = _contact_for(session, actor, contact_id, Access.MANAGE, "modifier")
    repository.check_version(contact, data.version)
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    if changes.get("full_name", "") is None:
        raise InputError("full_name ne peut pas être vide")
    consent = changes.pop("directory_consent", None)
    if consent is not None and consent != contact.directory_consent:
        contact.directory_consent = consent
        contact.consent_date = dt.date.today() if consent else None
    for key, value in changes.items():
        setattr(contact, key, value)
    repository.flush()
    return ContactOut.model_validate(contact)


def remove_contact(session: Session, actor: Actor, contact_id: int) -> None:
    """Delete a contact (administrators, managers of its organisation's clusters)."""
    repository = ContactRepository(session)
    repository.remove(_contact_for(session, actor, contact_id, Access.MANAGE, "supprimer"))


# --- for the other registry services (rights already checked) ------------------------------


def check_exists(session: Session, organisation_id: int) -> None:
    """Raise NotFoundError unless the organisation exists (no role checked: for other services)."""
    OrganisationRepository(session).get(organisation_id)


def of_siren(session: Session, siren: str) -> Organisation | None:
    """The organisation of a SIREN on the platform, if any."""
    return OrganisationRepository(session).of_siren(siren)


def of_sirens(session: Session, sirens: Collection[str]) -> dict[str, Organisation]:
    """SIREN -> organisation (with its establishments) for those of these SIRENs on the platform."""
    return {o.siren or "": o for o in OrganisationRepository(session).of_sirens(sirens)}


def create_owned(
    session: Session,
    owner: int,
    *,
    siren: str,
    name: str,
    kind: str,
    found: Mapping[str, Any],
    in_fabric: bool,
) -> Organisation:
    """A new organisation owned by the cluster that records it, with what the fabric found."""
    org = Organisation(
        siren=siren,
        name=name,
        kind=kind,
        naf=found.get("naf"),
        commune=found.get("commune"),
        size_band=found.get("size_band"),
        in_fabric=in_fabric,
    )
    refresh_size(org)
    session.add(org)
    session.add(OrganisationOwner(organisation=org, cluster_id=owner))
    return org


def site(session: Session, org: Organisation, siret: str, info: Mapping[str, Any]) -> Establishment:
    """The establishment of a SIRET: the organisation's, one already stored, or a new one of it."""
    establishment = next((e for e in org.establishments if e.siret == siret), None)
    if establishment is None:
        establishment = OrganisationRepository(session).establishment(siret)
    if establishment is None:
        establishment = _establishment(siret, info)
        org.establishments.append(establishment)
    return establishment
