"""The network's ties and nodes per layer and scope (what `grappe cooperation network` reads)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from grappe.cooperation import service
from grappe.cooperation.models import Project, ProjectPartner
from grappe.cooperation.repository import Layer, Scope, network_nodes, network_ties
from grappe.cooperation.schemas import DealIn, LinkIn, PartnerIn, ProjectIn
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate
from grappe.registry.organisations import service as organisations
from grappe.registry.organisations.schemas import OrganisationCreate
from grappe.registry.policy import LOCAL_ADMIN


def _network(db: Session, world) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A: org_a and org_free members; a lab outside; B: org_b. One record of each layer."""
    admin = LOCAL_ADMIN
    memberships.add_membership(
        db, admin, world.a, MembershipCreate(organisation_id=world.org_free, joined=dt.date(2022, 1, 1))
    )
    lab = organisations.create_organisation(db, admin, OrganisationCreate(name="Laboratoire Libre")).id
    service.declare_link(
        db,
        admin,
        world.a,
        LinkIn(
            organisation_a=world.org_free,
            organisation_b=world.org_a,
            kind="co_development",
            intensity=4,
            start=dt.date(2023, 1, 1),
        ),
    )
    service.declare_deal(
        db, admin, world.a, DealIn(buyer=world.org_a, seller=world.org_free, year=2024, amount_eur=Decimal(9))
    )
    dated = service.create_project(
        db,
        admin,
        world.a,
        ProjectIn(
            title="Daté",
            kind="market",
            start=dt.date(2024, 3, 1),
            partners=[
                PartnerIn(organisation_id=world.org_a),
                PartnerIn(organisation_id=lab),
                PartnerIn(organisation_id=lab),
                PartnerIn(name="Non renseigné"),
            ],
        ),
    ).id
    # an open-data project without date between B's member and the lab
    undated = Project(
        title="Sans date",
        kind="rd_innovation",
        status="funded",
        partners=[ProjectPartner(organisation_id=world.org_b), ProjectPartner(organisation_id=lab)],
    )
    db.add(undated)
    db.flush()
    return {"lab": lab, "dated": dated, "undated": undated.id}


def _pairs(ties: list) -> set[tuple[int, int, str]]:  # type: ignore[type-arg]
    return {(t.organisation_a, t.organisation_b, t.layer) for t in ties}


def test_every_layer_gives_its_ties_once_per_record(db: Session, world) -> None:  # type: ignore[no-untyped-def]
    ids = _network(db, world)
    ties = network_ties(db, Scope())
    a, free, lab, b = world.org_a, world.org_free, ids["lab"], world.org_b
    low, high = min(a, free), max(a, free)
    assert sorted((t.organisation_a, t.organisation_b, t.layer, t.weight) for t in ties) == sorted(
        [
            (low, high, "links", 4.0),
            (low, high, "business", 1.0),
            (min(a, lab), max(a, lab), "projects", 1.0),  # the lab listed twice counts once
            (min(b, lab), max(b, lab), "projects", 1.0),  # undated: counts without a period
        ]
    )
    only = network_ties(db, Scope(), [Layer.BUSINESS])
    assert [(t.layer, t.date) for t in only] == [("business", dt.date(2024, 1, 1))]


def test_a_period_drops_undated_and_outside_records(db: Session, world) -> None:  # type: ignore[no-untyped-def]
    ids = _network(db, world)
    in_2024 = network_ties(db, Scope(start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31)))
    a, lab = world.org_a, ids["lab"]
    assert (min(a, lab), max(a, lab), "projects") in _pairs(in_2024)
    assert not any(world.org_b in (t.organisation_a, t.organisation_b) for t in in_2024)
    # the link runs from 2023 on (no end): it still counts in 2024; the deal too
    assert {t.layer for t in in_2024} == {"projects", "links", "business"}
    assert network_ties(db, Scope(end=dt.date(2022, 12, 31))) == []


def test_a_clusters_scope_holds_its_members_and_whom_they_reach(db: Session, world) -> None:  # type: ignore[no-untyped-def]
    ids = _network(db, world)
    scope = Scope(cluster_id=world.a)
    ties = network_ties(db, scope)
    nodes = {n.id: n for n in network_nodes(db, scope, ties)}
    assert set(nodes) == {world.org_a, world.org_free, ids["lab"]}
    assert (nodes[world.org_a].member, nodes[ids["lab"]].member) == (True, False)
    assert nodes[ids["lab"]].name == "Laboratoire Libre"
    everyone = network_nodes(db, Scope())
    assert {world.org_a, world.org_b, world.org_free, ids["lab"]} <= {n.id for n in everyone}
