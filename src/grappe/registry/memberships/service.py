"""What users do with memberships: open and close periods, list members, the member directory.

Every function takes the session of the caller's unit of work and the acting user first;
roles are checked through :mod:`grappe.registry.policy`, the SQL is in
:mod:`grappe.registry.memberships.repository`, and nothing here commits. The functions
without an actor serve the other registry services, which checked the rights already.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Row
from sqlalchemy.orm import Session

from grappe.errors import InputError, NotFoundError
from grappe.kit.repository import check_page
from grappe.registry import policy
from grappe.registry.identifiers import normalize_siren, normalize_siret
from grappe.registry.memberships.repository import MEMBER_FIELDS, MembershipRepository
from grappe.registry.memberships.schemas import (
    DirectoryContact,
    DirectoryMember,
    MemberLeave,
    MemberOut,
    MemberPage,
    MembershipCreate,
    MembershipEnd,
)
from grappe.registry.models import Membership, Organisation, OrganisationKind
from grappe.registry.organisations import service as organisations
from grappe.registry.policy import Access, Actor


def _member_out(m: Membership) -> MemberOut:
    org = m.organisation
    return MemberOut(
        membership_id=m.id,
        organisation_id=org.id,
        siren=org.siren,
        siret=m.establishment.siret if m.establishment else None,
        name=org.name,
        kind=org.kind,  # type: ignore[arg-type]
        size_category=org.size_category,  # type: ignore[arg-type]
        commune=(m.establishment.commune if m.establishment and m.establishment.commune else org.commune),
        membership_type=m.membership_type,
        joined=m.joined,
        left=m.left_on,
        leaving_reason=m.leaving_reason,
        in_fabric=org.in_fabric,
        version=m.version,
    )


def check_period(joined: dt.date, left: dt.date | None) -> None:
    """A membership period ends after it starts."""
    if left is not None and left <= joined:
        raise InputError(f"date de départ {left} pas après l'adhésion {joined}")


def overlapping(
    session: Session, *, cluster_id: int, organisation_id: int, joined: dt.date, left: dt.date | None
) -> Membership | None:
    """An existing period of this organisation in this cluster overlapping [joined, left)."""
    return MembershipRepository(session).overlapping(
        cluster_id=cluster_id, organisation_id=organisation_id, joined=joined, left=left
    )


def open_membership(
    session: Session, cluster_id: int, org: Organisation, data: MembershipCreate
) -> Membership:
    """Open a membership period once the rights are checked (a direct one or an invitation).

    Raises
    ------
    InputError
        The period is empty, overlaps another period of the same organisation in this
        cluster, or names a SIRET that is not one of the organisation's establishments.
    """
    check_period(data.joined, data.left)
    repository = MembershipRepository(session)
    other = repository.overlapping(
        cluster_id=cluster_id, organisation_id=org.id, joined=data.joined, left=data.left
    )
    if other is not None:
        raise InputError(
            f"{org.name} : la période du {data.joined} chevauche l'adhésion du {other.joined}"
            + (f" au {other.left_on}" if other.left_on else " (en cours)")
        )
    establishment = None
    if data.siret:
        siret = normalize_siret(data.siret)
        establishment = next((e for e in org.establishments if e.siret == siret), None)
        if establishment is None:
            raise InputError(f"SIRET {siret} n'est pas un établissement de {org.name}")
    membership = repository.add(
        Membership(
            cluster_id=cluster_id,
            organisation=org,
            establishment=establishment,
            membership_type=data.membership_type.strip(),
            joined=data.joined,
            left_on=data.left,
        )
    )
    repository.flush()
    repository.refresh_member_count(cluster_id)
    return membership


def add_membership(session: Session, actor: Actor, cluster_id: int, data: MembershipCreate) -> MemberOut:
    """Open a membership period (administrators and the cluster's managers).

    The organisation must be one the actor already reads (see :mod:`grappe.registry.policy`):
    another tenant's organisation is "introuvable" here and is reached by an invitation.
    """
    policy.require_cluster(session, actor, cluster_id, Access.MANAGE, "ajouter un adhérent")
    org = organisations.load_for(session, actor, data.organisation_id, policy.ATTACH, "rattacher")
    return _member_out(open_membership(session, cluster_id, org, data))


def end_membership(session: Session, actor: Actor, membership_id: int, data: MembershipEnd) -> MemberOut:
    """Close a membership period with a date and a reason (administrators, the managers)."""
    repository = MembershipRepository(session)
    m = repository.get(membership_id)
    policy.require_cluster_object(
        session, actor, m.cluster_id, Access.MANAGE, f"adhésion {membership_id}", "clore"
    )
    repository.check_version(m, data.version)
    check_period(m.joined, data.left)
    m.left_on = data.left
    m.leaving_reason = data.reason
    repository.flush()
    repository.refresh_member_count(m.cluster_id)
    return _member_out(m)


def leave(session: Session, actor: Actor, cluster_id: int, siren: str, data: MemberLeave) -> MemberOut:
    """Record that a member leaves: close its period running on ``left`` (the manager's exit).

    The member is named by SIREN, as managers know it; the period closed is the one still
    running after ``left``, read in this transaction, so no version is asked for.
    """
    policy.require_cluster(session, actor, cluster_id, Access.MANAGE, "enregistrer un départ")
    key = normalize_siren(siren)
    org = organisations.of_siren(session, key)
    running = [
        m
        for m in MembershipRepository(session).of_organisations(cluster_id, [org.id] if org else [])
        if m.runs_after(data.left)
    ]
    if not running:
        raise NotFoundError(
            f"SIREN {key} : aucune adhésion en cours au {data.left:%d/%m/%Y} dans cette structure"
        )
    period = max(running, key=lambda m: m.joined)
    return end_membership(
        session, actor, period.id, MembershipEnd(version=period.version, left=data.left, reason=data.reason)
    )


def list_members(
    session: Session,
    actor: Actor,
    cluster_id: int,
    *,
    on: dt.date | None = None,
    include_former: bool = False,
    limit: int = 100,
    offset: int = 0,
    search: str | None = None,
) -> MemberPage:
    """Members of a cluster on a date, or every period (administrators, managers, funders).

    ``search``: only members whose name contains it or whose SIREN starts with it.

    One statement for the page and its total, reading columns only: no ORM object is built,
    the rows go straight into the output schema. The cluster's existence is looked up only
    when the page is empty (a page with rows proves it): one round trip less per request on
    a database server. The rows are read before the role check but returned only after it.
    """
    check_page(limit, offset)
    day = None if include_former else on or dt.date.today()
    total, rows = MembershipRepository(session).member_page(
        cluster_id, day, limit, offset, search
    )
    policy.require_cluster(
        session, actor, cluster_id, Access.READ, "consulter la liste des adhérents", exists=bool(rows)
    )
    return MemberPage.model_validate(
        {"total": total, "items": [dict(zip(MEMBER_FIELDS, row, strict=False)) for row in rows]}
    )


def all_members(
    session: Session, actor: Actor, cluster_id: int, *, include_former: bool = True, search: str | None = None
) -> list[MemberOut]:
    """Every membership of a cluster (exports), ordered by name; ``search`` as :func:`list_members`."""
    policy.require_cluster(session, actor, cluster_id, Access.READ, "exporter les adhérents")
    day = None if include_former else dt.date.today()
    rows = MembershipRepository(session).of_cluster(cluster_id, day, search=search)
    return [_member_out(m) for m in rows]


def member_directory(session: Session, actor: Actor, cluster_id: int) -> list[DirectoryMember]:
    """Current members with their consenting contacts, as the cluster's members see them."""
    policy.require_cluster(session, actor, cluster_id, Access.DIRECTORY, "consulter l'annuaire des adhérents")
    rows = MembershipRepository(session).of_cluster(cluster_id, dt.date.today(), contacts=True)
    seen: set[int] = set()
    result = []
    for m in rows:
        org = m.organisation
        if org.id in seen:
            continue
        seen.add(org.id)
        result.append(
            DirectoryMember(
                organisation_id=org.id,
                name=org.name,
                kind=OrganisationKind(org.kind),
                commune=org.commune,
                contacts=[
                    DirectoryContact(full_name=c.full_name, role=c.role, email=c.email, phone=c.phone)
                    for c in org.contacts
                    if c.directory_consent
                ],
            )
        )
    return result


# --- for the other registry services (rights already checked) ------------------------------


def meeting(session: Session, cluster_id: int, start: dt.date, end: dt.date) -> Sequence[Membership]:
    """Periods of a cluster meeting the days from ``start`` to ``end`` (fee calls of a year)."""
    return MembershipRepository(session).meeting(cluster_id, start, end)


def with_sites(session: Session, cluster_id: int) -> Sequence[Row[Membership, str, str | None, str]]:
    """Every period of a cluster as (membership, kind, size category, commune) (key figures)."""
    return MembershipRepository(session).with_sites(cluster_id)


def member_sirens(session: Session, cluster_id: int, day: dt.date) -> set[str]:
    """SIRENs of a cluster's members on a day (prospects leave them out)."""
    return MembershipRepository(session).member_sirens(cluster_id, day)
