"""Links, projects and deals through the service, per role, on both backends."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from grappe.cooperation import service
from grappe.cooperation.models import LinkKind, Orientation, PartnerCategory, ProjectKind, ProjectStatus
from grappe.cooperation.schemas import DealIn, LinkAnswer, LinkEnd, LinkIn, PartnerIn, ProjectIn, StatusIn
from grappe.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from grappe.registry.accounts import service as accounts
from grappe.registry.accounts.schemas import UserCreate
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate
from grappe.registry.models import Role
from grappe.registry.policy import LOCAL_ADMIN, Actor


def _second_member(db: Session, world) -> Actor:  # type: ignore[no-untyped-def]
    """Make org_free a member of A with a member user; return that user."""
    memberships.add_membership(
        db, LOCAL_ADMIN, world.a, MembershipCreate(organisation_id=world.org_free, joined=dt.date(2022, 1, 1))
    )
    user = accounts.create_user(
        db, LOCAL_ADMIN, UserCreate(email="u@solo.fr", role=Role.MEMBER, organisation_id=world.org_free)
    )
    return accounts.actor_for(db, user.email)


def test_manager_records_confirmed_links_and_a_link_to_itself_is_refused(db: Session, world) -> None:  # type: ignore[no-untyped-def]
    manager = world.actors["manager"]
    link = service.declare_link(
        db,
        manager,
        world.a,
        LinkIn(
            organisation_a=world.org_a,
            organisation_b=world.org_free,
            kind=LinkKind.SUPPLIER_CUSTOMER,
            orientations=[Orientation.MEANS, Orientation.PRODUCTS_MARKETS, Orientation.MEANS],
        ),
    )
    assert (link.state, link.source, link.orientations) == (
        "confirmed",
        "manager",
        [Orientation.MEANS, Orientation.PRODUCTS_MARKETS],
    )
    with pytest.raises(InputError, match="elle-même"):
        service.declare_link(
            db,
            manager,
            world.a,
            LinkIn(organisation_a=world.org_a, organisation_b=world.org_a, kind="co_development"),
        )
    # another tenant's organisation is not found, as for a missing one
    with pytest.raises(NotFoundError):
        service.declare_link(
            db,
            manager,
            world.a,
            LinkIn(organisation_a=world.org_a, organisation_b=world.org_b, kind="co_development"),
        )
    assert service.list_links(db, world.actors["member"], world.a).total == 1
    with pytest.raises(PermissionDeniedError):
        service.list_links(db, world.actors["funder"], world.a)


def test_a_member_declares_and_the_other_side_confirms(db: Session, world) -> None:  # type: ignore[no-untyped-def]
    other = _second_member(db, world)
    member = world.actors["member"]
    link = service.declare_link(
        db,
        member,
        world.a,
        LinkIn(organisation_a=world.org_a, organisation_b=world.org_free, kind="co_development"),
    )
    assert (link.state, link.declared_by) == ("pending", world.org_a)
    with pytest.raises(PermissionDeniedError, match="autre partie"):
        service.answer_link(db, member, link.id, LinkAnswer(accept=True))
    with pytest.raises(NotFoundError):
        service.answer_link(db, world.actors["member_other"], link.id, LinkAnswer(accept=True))
    assert service.answer_link(db, other, link.id, LinkAnswer(accept=True)).state == "confirmed"
    with pytest.raises(ConflictError):
        service.answer_link(db, other, link.id, LinkAnswer(accept=False))
    # a member declares only for its own organisation, with a member of the same cluster
    with pytest.raises(NotFoundError):
        service.declare_link(
            db,
            member,
            world.a,
            LinkIn(organisation_a=world.org_a, organisation_b=world.org_b, kind="co_development"),
        )


def test_deals_volume_and_the_same_organisation_on_both_sides(db: Session, world) -> None:  # type: ignore[no-untyped-def]
    _second_member(db, world)
    manager = world.actors["manager"]
    for year, amount, brokered, kind in (
        (2024, "1000", True, "goods"),
        (2024, "500", False, "services"),
        (2025, "70", False, "goods"),
    ):
        service.declare_deal(
            db,
            manager,
            world.a,
            DealIn(
                buyer=world.org_a,
                seller=world.org_free,
                year=year,
                amount_eur=Decimal(amount),
                brokered=brokered,
                kind=kind,
            ),
        )
    with pytest.raises(InputError, match="même organisation"):
        service.declare_deal(
            db,
            manager,
            world.a,
            DealIn(buyer=world.org_a, seller=world.org_a, year=2024, amount_eur=Decimal(1)),
        )
    volume = service.business_volume(db, world.actors["funder"], world.a)  # DATAR funds A
    first = volume.years[0]
    assert (first.year, first.deals, first.amount_eur, first.brokered_eur) == (
        2024,
        2,
        Decimal(1500),
        Decimal(1000),
    )
    assert first.by_kind == {"goods": Decimal(1000), "services": Decimal(500)}
    assert [y.year for y in volume.years] == [2024, 2025]
    for role in ("member", "funder_other"):
        with pytest.raises(PermissionDeniedError):
            service.business_volume(db, world.actors[role], world.a)
    assert service.list_deals(db, world.actors["member"], world.a, year=2024).total == 2
    with pytest.raises(PermissionDeniedError):
        service.list_deals(db, world.actors["member_other"], world.a)


def test_project_pipeline_partners_and_confidentiality(db: Session, world) -> None:  # type: ignore[no-untyped-def]
    other = _second_member(db, world)
    manager = world.actors["manager"]
    project = service.create_project(
        db,
        manager,
        world.a,
        ProjectIn(
            title="Usinage propre",
            kind=ProjectKind.RD_INNOVATION,
            confidential=True,
            partners=[PartnerIn(organisation_id=world.org_a, coordinator=True, budget_eur=Decimal(100))],
        ),
    )
    assert (project.status, project.inter_cluster) == ("idea", False)
    service.change_status(db, manager, project.id, StatusIn(status=ProjectStatus.DRAFTING))
    with pytest.raises(InputError, match="impossible"):
        service.change_status(db, manager, project.id, StatusIn(status=ProjectStatus.FUNDED))
    with pytest.raises(InputError, match="antérieure"):
        service.change_status(
            db, manager, project.id, StatusIn(status=ProjectStatus.SUBMITTED, on=dt.date(2025, 1, 1))
        )
    # an unnamed partner and a partner of another cluster (inter-cluster project)
    service.add_partner(
        db, manager, project.id, PartnerIn(name="Non renseigné", category=PartnerCategory.PUBLIC_BODY)
    )
    with pytest.raises(NotFoundError):  # B's member: not readable by A's manager
        service.add_partner(db, manager, project.id, PartnerIn(organisation_id=world.org_b))
    out = service.add_partner(db, LOCAL_ADMIN, project.id, PartnerIn(organisation_id=world.org_b))
    assert out.inter_cluster is True
    assert [p.organisation_id for p in out.partners] == [world.org_a, None, world.org_b]
    assert [t.status for t in out.transitions] == ["idea", "drafting"]
    # confidential: its partners and the manager read it, the cluster's other members do not
    assert service.get_project(db, world.actors["member"], project.id).title == "Usinage propre"
    with pytest.raises(NotFoundError):
        service.get_project(db, other, project.id)
    assert service.list_projects(db, other).total == 0
    with pytest.raises(PermissionDeniedError):
        service.change_status(
            db, world.actors["member"], project.id, StatusIn(status=ProjectStatus.SUBMITTED)
        )
    with pytest.raises(NotFoundError):
        service.get_project(db, world.actors["manager_other"], project.id)
    # public ones are the cluster's public items
    public = service.create_project(db, manager, world.a, ProjectIn(title="Salon commun", kind="market"))
    assert [p.id for p in service.list_projects(db, other).items] == [public.id]
    assert service.list_projects(db, world.actors["funder"]).total == 0


def test_managers_end_links_and_remove_partners(db: Session, world) -> None:  # type: ignore[no-untyped-def]
    _second_member(db, world)
    manager = world.actors["manager"]
    link = service.declare_link(
        db,
        manager,
        world.a,
        LinkIn(organisation_a=world.org_a, organisation_b=world.org_free, kind="co_development",
               start=dt.date(2024, 1, 1)),
    )
    with pytest.raises(PermissionDeniedError):  # a side reads the link, its managers end it
        service.end_link(db, world.actors["member"], link.id, LinkEnd())
    with pytest.raises(NotFoundError):
        service.end_link(db, world.actors["manager_other"], link.id, LinkEnd())
    with pytest.raises(InputError, match="avant le début"):
        service.end_link(db, manager, link.id, LinkEnd(end=dt.date(2023, 12, 31)))
    ended = service.end_link(db, manager, link.id, LinkEnd(end=dt.date(2024, 6, 30)))
    assert ended.end == dt.date(2024, 6, 30)
    with pytest.raises(ConflictError, match="déjà terminé"):
        service.end_link(db, manager, link.id, LinkEnd())
    project = service.create_project(
        db,
        manager,
        world.a,
        ProjectIn(title="Usinage propre", kind="market", partners=[PartnerIn(organisation_id=world.org_a)]),
    )
    other = service.create_project(db, manager, world.a, ProjectIn(title="Autre", kind="market"))
    partner = project.partners[0].id
    with pytest.raises(PermissionDeniedError):
        service.remove_partner(db, world.actors["member"], project.id, partner)
    with pytest.raises(NotFoundError):
        service.remove_partner(db, world.actors["manager_other"], project.id, partner)
    with pytest.raises(NotFoundError, match=f"partenaire {partner} introuvable"):
        service.remove_partner(db, manager, other.id, partner)  # a row of another project
    assert service.remove_partner(db, manager, project.id, partner).partners == []


def test_an_organisation_known_by_name_merges_into_its_sirens(db: Session, world) -> None:  # type: ignore[no-untyped-def]
    admin = LOCAL_ADMIN
    project = service.create_project(
        db,
        admin,
        world.a,
        ProjectIn(
            title="Fusion",
            kind="market",
            partners=[PartnerIn(name="Décolletage Dupont SA", category=PartnerCategory.MEMBER_FIRM)],
        ),
    )
    known_by_name = project.partners[0].organisation_id
    assert known_by_name is not None
    assert known_by_name != world.org_a
    with pytest.raises(PermissionDeniedError):
        service.merge_organisation(db, world.actors["manager"], known_by_name, world.org_a)
    with pytest.raises(InputError, match="memberships"):  # the registry's member would lose its data
        service.merge_organisation(db, admin, world.org_a, known_by_name)
    assert service.merge_organisation(db, admin, known_by_name, world.org_a) == 1
    assert [p.organisation_id for p in service.get_project(db, admin, project.id).partners] == [world.org_a]
    with pytest.raises(NotFoundError):
        service.merge_organisation(db, admin, known_by_name, world.org_a)


def test_funders_read_figures_and_no_record(db: Session, world) -> None:  # type: ignore[no-untyped-def]
    _second_member(db, world)
    admin = LOCAL_ADMIN
    service.create_project(
        db,
        admin,
        world.a,
        ProjectIn(
            title="Deux grappes",
            kind="market",
            partners=[PartnerIn(organisation_id=world.org_a), PartnerIn(organisation_id=world.org_b)],
        ),
    )
    service.create_project(db, admin, world.a, ProjectIn(title="Seul", kind="training", status="drafting"))
    service.declare_link(
        db,
        admin,
        world.a,
        LinkIn(organisation_a=world.org_a, organisation_b=world.org_free, kind="co_development"),
    )
    figures = service.cooperation_figures(db, world.actors["funder"], world.a)
    assert figures.projects_by_status == {"idea": 1, "drafting": 1}
    assert figures.inter_cluster_projects == 1
    assert figures.links_by_state == {"confirmed": 1}
    with pytest.raises(PermissionDeniedError):
        service.list_links(db, world.actors["funder"], world.a)
    with pytest.raises(PermissionDeniedError):
        service.cooperation_figures(db, world.actors["member"], world.a)


def test_unknown_organisations_are_not_found_even_for_the_administrator(db: Session, world) -> None:  # type: ignore[no-untyped-def]
    admin = LOCAL_ADMIN
    with pytest.raises(NotFoundError, match="organisation 999999"):
        service.declare_link(
            db,
            admin,
            world.a,
            LinkIn(organisation_a=world.org_a, organisation_b=999999, kind="co_development"),
        )
    with pytest.raises(NotFoundError, match="organisation 999999"):
        service.declare_deal(
            db, admin, world.a, DealIn(buyer=999999, seller=world.org_a, year=2024, amount_eur=Decimal(1))
        )
    project = service.create_project(db, admin, world.a, ProjectIn(title="P", kind="market"))
    with pytest.raises(NotFoundError, match="organisation 999999"):
        service.add_partner(db, admin, project.id, PartnerIn(organisation_id=999999))
