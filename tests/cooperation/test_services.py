"""Services sold to members: offers, sales, the registry's funding line, and who may do what."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from grappe.cooperation import service as cooperation
from grappe.cooperation.actions import service
from grappe.cooperation.actions.schemas import OfferIn, SaleIn
from grappe.errors import InputError, NotFoundError, PermissionDeniedError
from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import FundingIn
from grappe.registry.models import FundingSource

DAY = dt.date(2025, 3, 14)
OUTSIDERS = ("manager_other", "member_other", "funder", "funder_other", "public")


def _offer(db: Session, world: Any, price: str = "450") -> int:
    data = OfferIn(name="Diagnostic export", unit="jour", unit_price_eur=Decimal(price))
    return service.create_offer(db, world.actors["manager"], world.a, data).id


def _services_line(db: Session, world: Any, year: int) -> Decimal | None:
    # the registry's reading, as a next request reads it (this test's session loaded the
    # cluster and its funding lines before the sales wrote theirs)
    db.expire_all()
    cluster = clusters.get_cluster(db, world.actors["manager"], world.a)
    lines = [f.amount_eur for f in cluster.fundings if f.source is FundingSource.SERVICES and f.year == year]
    assert len(lines) <= 1
    return lines[0] if lines else None


def test_sales_become_the_services_line_of_the_funding_mix(db: Session, world: Any) -> None:
    manager = world.actors["manager"]
    clusters.set_funding(
        db, manager, world.a, FundingIn(year=2025, source=FundingSource.PUBLIC, amount_eur=Decimal(80000))
    )
    offer = _offer(db, world)
    first = service.record_sale(
        db, manager, offer, SaleIn(organisation_id=world.org_a, sold_on=DAY, quantity=Decimal(2))
    )
    assert (first.amount_eur, first.organisation_name, first.offer_name) == (
        Decimal("900.00"),
        "Décolletage Dupont",
        "Diagnostic export",
    )
    discounted = service.record_sale(
        db,
        manager,
        offer,
        SaleIn(organisation_id=world.org_a, sold_on=DAY.replace(month=9), amount_eur=Decimal("300")),
    )
    service.record_sale(db, manager, offer, SaleIn(organisation_id=world.org_a, sold_on=dt.date(2024, 6, 1)))
    assert _services_line(db, world, 2025) == Decimal("1200.00")
    assert _services_line(db, world, 2024) == Decimal("450.00")
    # the registry's other lines stay as the manager set them
    cluster = clusters.get_cluster(db, manager, world.a)
    assert {(f.year, f.source.value, f.amount_eur) for f in cluster.fundings} >= {
        (2025, "public", Decimal(80000))
    }

    revenue = service.services_revenue(db, world.actors["funder"], world.a)
    assert [(y.year, y.sales, y.buyers, y.amount_eur) for y in revenue.years] == [
        (2024, 1, 1, Decimal("450.00")),
        (2025, 2, 1, Decimal("1200.00")),
    ]
    assert revenue.years[1].by_offer == {"Diagnostic export": Decimal("1200.00")}

    service.cancel_sale(db, manager, discounted.id)
    assert _services_line(db, world, 2025) == Decimal("900.00")
    offers = service.list_offers(db, manager, world.a)
    assert (offers.total, offers.items[0].sales, offers.items[0].revenue_eur) == (1, 2, Decimal("1350.00"))


def test_a_sale_to_a_non_member_or_of_a_withdrawn_offer_is_refused(db: Session, world: Any) -> None:
    manager = world.actors["manager"]
    offer = _offer(db, world)
    with pytest.raises(InputError, match=r"n'était pas adhérente de la structure .* le 14/03/2025"):
        service.record_sale(db, manager, offer, SaleIn(organisation_id=world.org_free, sold_on=DAY))
    with pytest.raises(InputError, match="pas adhérente"):  # member since 2020-03-01 only
        service.record_sale(
            db, manager, offer, SaleIn(organisation_id=world.org_a, sold_on=dt.date(2019, 1, 1))
        )
    # an organisation of another tenant: not found, as for any object the manager cannot read
    with pytest.raises(NotFoundError):
        service.record_sale(db, manager, offer, SaleIn(organisation_id=world.org_b, sold_on=DAY))
    service.withdraw_offer(db, manager, offer)
    with pytest.raises(InputError, match="est retirée"):
        service.record_sale(db, manager, offer, SaleIn(organisation_id=world.org_a, sold_on=DAY))
    assert _services_line(db, world, 2025) is None
    with pytest.raises(ValidationError):
        SaleIn(organisation_id=world.org_a, sold_on=DAY, quantity=Decimal(0))
    with pytest.raises(ValidationError):
        OfferIn(name="Veille", unit_price_eur=Decimal(-1))


def test_members_see_offers_on_sale_and_their_own_purchases(db: Session, world: Any) -> None:
    manager, member = world.actors["manager"], world.actors["member"]
    offer, withdrawn = _offer(db, world), _offer(db, world, "10")
    service.withdraw_offer(db, manager, withdrawn)
    service.record_sale(db, manager, offer, SaleIn(organisation_id=world.org_a, sold_on=DAY))
    assert [o.id for o in service.list_offers(db, member, world.a).items] == [offer]
    assert service.list_offers(db, manager, world.a).total == 2
    assert [s.organisation_id for s in service.list_sales(db, member, world.a).items] == [world.org_a]
    assert service.list_sales(db, manager, world.a, year=2024).total == 0
    with pytest.raises(PermissionDeniedError):
        service.create_offer(db, member, world.a, OfferIn(name="X", unit_price_eur=Decimal(1)))
    with pytest.raises(PermissionDeniedError):
        service.record_sale(db, member, offer, SaleIn(organisation_id=world.org_a, sold_on=DAY))
    with pytest.raises(NotFoundError):  # a withdrawn offer is the managers' only
        service.withdraw_offer(db, member, withdrawn)
    with pytest.raises(PermissionDeniedError):
        service.services_revenue(db, member, world.a)


@pytest.mark.parametrize("role", OUTSIDERS)
def test_other_tenants_find_no_offer_and_no_sale(db: Session, world: Any, role: str) -> None:
    manager, actor = world.actors["manager"], world.actors[role]
    offer = _offer(db, world)
    sale = service.record_sale(db, manager, offer, SaleIn(organisation_id=world.org_a, sold_on=DAY))
    with pytest.raises(NotFoundError):
        service.list_offers(db, actor, world.a)
    with pytest.raises(NotFoundError):
        service.list_sales(db, actor, world.a)
    with pytest.raises(NotFoundError):
        service.create_offer(db, actor, world.a, OfferIn(name="X", unit_price_eur=Decimal(1)))
    with pytest.raises(NotFoundError):
        service.record_sale(db, actor, offer, SaleIn(organisation_id=world.org_a, sold_on=DAY))
    with pytest.raises(NotFoundError):
        service.withdraw_offer(db, actor, offer)
    with pytest.raises(NotFoundError):
        service.cancel_sale(db, actor, sale.id)
    if role == "funder":  # DATAR funds cluster A: its figures, never a record
        assert service.services_revenue(db, actor, world.a).years[0].amount_eur == Decimal("450.00")
    else:  # 403 where the cluster shows in the directory (cooperation's figures rule), else 404
        with pytest.raises((NotFoundError, PermissionDeniedError)):
            service.services_revenue(db, actor, world.a)


def test_a_funder_reads_aggregated_cooperation_figures_of_the_clusters_it_funds(
    db: Session, world: Any
) -> None:
    from grappe.cooperation.actions.schemas import AttendanceIn, EventIn, RegistrationIn
    from grappe.cooperation.schemas import DealIn, PartnerIn, ProjectIn
    from grappe.cooperation.schemas import FundingIn as ProjectFundingIn

    manager = world.actors["manager"]
    cooperation.create_project(
        db,
        manager,
        world.a,
        ProjectIn(
            title="Usinage propre",
            kind="rd_innovation",
            status="submitted",
            partners=[PartnerIn(organisation_id=world.org_a)],
            fundings=[
                ProjectFundingIn(funder="Bpifrance", programme="fui", amount_eur=Decimal(120000)),
                ProjectFundingIn(funder="Région", programme="region", amount_eur=Decimal(30000)),
            ],
        ),
    )
    cooperation.create_project(db, manager, world.a, ProjectIn(title="Club achats", kind="market"))
    cooperation.declare_deal(
        db,
        manager,
        world.a,
        DealIn(buyer=world.org_a, seller=world.org_free, year=2025, amount_eur=Decimal(5000)),
    )
    start = dt.datetime(2025, 5, 20, 8, tzinfo=dt.UTC)
    event = service.create_event(
        db,
        manager,
        world.a,
        EventIn(
            kind="breakfast", title="Petit déjeuner", starts_at=start, ends_at=start + dt.timedelta(hours=2)
        ),
    ).id
    service.register(db, manager, event, RegistrationIn(organisation_id=world.org_a, seats=2))
    service.record_attendance(db, manager, event, world.org_a, AttendanceIn(attended=True))
    offer = _offer(db, world)
    service.record_sale(db, manager, offer, SaleIn(organisation_id=world.org_a, sold_on=DAY))

    figures = cooperation.cooperation_figures(db, world.actors["funder"], world.a)
    assert figures.projects_by_status == {"submitted": 1, "idea": 1}
    assert figures.project_funding_eur == Decimal(150000)
    assert figures.funding_by_programme == {"fui": Decimal(120000), "region": Decimal(30000)}
    assert [(b.year, b.amount_eur) for b in figures.business] == [(2025, Decimal(5000))]
    assert [(e.year, e.events, e.registrations, e.seats, e.attended, e.absent) for e in figures.events] == [
        (2025, 1, 1, 2, 1, 0)
    ]
    assert [(s.year, s.amount_eur) for s in figures.services] == [(2025, Decimal("450.00"))]
    # aggregated figures only: no name of an organisation, a project or an offer's buyer
    dumped = figures.model_dump_json()
    for name in ("Décolletage Dupont", "Solo SARL", "Usinage propre"):
        assert name not in dumped
    # the funder of another cluster, and a member, do not read them; the funder reads no record
    with pytest.raises(PermissionDeniedError):  # it sees A in the directory, no more
        cooperation.cooperation_figures(db, world.actors["funder_other"], world.a)
    with pytest.raises(PermissionDeniedError):
        cooperation.cooperation_figures(db, world.actors["member"], world.a)
    with pytest.raises(PermissionDeniedError):
        cooperation.list_deals(db, world.actors["funder"], world.a)
    with pytest.raises(NotFoundError):
        service.list_sales(db, world.actors["funder"], world.a)
