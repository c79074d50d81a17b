"""Tenancy: every route of the API x every role x an object of another tenant, on both backends.

The victim tenant is a *private* cluster organisation C (not in the public directory) with
its organisation, contact, membership, fee calls, payment and invitations. The actors are
those of cluster A in the standard world (its manager, a member user of its organisation,
its funder), the public, and the platform administrator. For every route of the app —
enumerated from ``app.routes``, so a new route without a case here fails the test — each
case is requested by every role:

* no non-administrator ever gets a 2xx on another tenant's object, and where the route
  names such an object (``HIDDEN``) the answer is exactly 404, as for a missing id;
* no answer to a non-administrator contains the victim's private strings (``CANARIES``);
* no answer is a 5xx;
* the administrator gets a 2xx for every case: the requests are well formed, so the
  refusals above come from the rights, not from a malformed body.

Non-administrators all act on one world (they must write nothing); the administrator acts on
a twin world, in route order, on objects chosen so that its writes do not collide.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from apikit import Api, build_api, dbkit

from grappe.calls import service as calls_service
from grappe.calls.schemas import ApplicationIn, BudgetLineIn, CallIn, CriterionIn
from grappe.cooperation import service as cooperation
from grappe.cooperation.actions import service as actions
from grappe.cooperation.actions.schemas import (
    EquipmentIn,
    EventIn,
    OfferIn,
    PurchaseIn,
    RegistrationIn,
    SaleIn,
)
from grappe.cooperation.models import CooperationLink, LinkKind, ProjectKind
from grappe.cooperation.schemas import DealIn, LinkIn, PartnerIn, ProjectIn
from grappe.evaluation import service as evaluation
from grappe.evaluation.repository import funder_by_name
from grappe.evaluation.schemas import ContractIn
from grappe.partners.meetings import service as meetings
from grappe.partners.meetings.schemas import B2BEventIn, ParticipantIn, PublishIn, ScheduleIn, WishIn
from grappe.partners.postings import service as postings
from grappe.partners.postings.schemas import PostingIn
from grappe.partners.profiles import service as profiles
from grappe.partners.profiles.schemas import ProfileIn
from grappe.registry import LOCAL_ADMIN
from grappe.registry.accounts import service as accounts
from grappe.registry.accounts.schemas import UserCreate
from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import ClusterCreate, FundingIn, TerritoryRef
from grappe.registry.fees import service as fees
from grappe.registry.fees.schemas import FeeRuleIn, FeeScheduleIn, PaymentIn
from grappe.registry.invitations import service as invitations
from grappe.registry.invitations.schemas import InvitationCreate
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate
from grappe.registry.models import Role
from grappe.registry.organisations import service as organisations
from grappe.registry.organisations.schemas import ContactIn, OrganisationCreate
from grappe.storage.sql import session_scope

siren, siret = dbkit.siren, dbkit.siret

ROLES = ["manager", "member", "funder", "public"]  # of cluster A: another tenant for C
CANARIES = [
    "Consortium Confidentiel",
    "Victime Confidentielle",
    "secret@victime.fr",
    "Cachée Contact",
    siren(6006),
    "Projet Confidentiel Victime",
    "Partenaire Caché",
    "Salon Secret Victime",
    "Rencontres Secrètes Victime",
    "Savoir Secret Victime",
    "Recherche Secrète Victime",
    "Contrat Secret Victime",
]


@dataclass
class Victim:
    """Ids of the victim tenant C (and of A, the actors' own cluster)."""

    a: int
    c: int
    org_c: int
    org_b: int
    membership_c: int
    call_2023: int
    call_2024: int
    invitation_to_b: int  # C invites B's organisation: answered by B's side only
    invitation_to_c: int  # B invites C's organisation: answered by C's side only
    manager_c: int
    token_c: int
    org_c2: int  # a second member of C: links and deals need two sides
    link_c: int  # a link a member of C declared, pending
    project_c: int  # a confidential project of C
    partner_c: int  # an unnamed partner row of it, for the administrator to remove
    event_c: int  # a public event of C, past, org_c registered
    equipment_c: int  # a shared equipment of C
    purchase_c: int  # a group purchase of C
    funder_c: int  # Région C, C's funder
    contract_c: int  # an objectives contract of C with Région C
    contract_c2: int  # another one, for the administrator to delete
    call_c: int  # a draft call for projects of C's funder
    application_c: int  # C's draft application to it
    application_c2: int  # another, complete: the one the administrator submits
    reviewer_user_c: int  # a reviewer user of C's organisation, outside the pool
    offer_c: int  # a service C sells to its members
    sale_c: int  # a sale of it to org_c2
    b2b_c: int  # a published B2B event of C, org_c and org_c2 meeting
    wish_c: int  # org_c's wish to meet org_c2 there
    posting_c: int  # an open call for partners of C (org_c seeks)
    posting_c2: int  # another one, that the administrator closes


def build_victim(session: Any, world: Any) -> Victim:
    """Add the private tenant C to the standard world (through the services)."""
    admin = LOCAL_ADMIN
    c = clusters.create_cluster(
        session,
        admin,
        ClusterCreate(
            name="Consortium Confidentiel",
            acronym="CONF",
            public=False,
            territories=[TerritoryRef(level="commune", code="35238")],
            sectors=["08.11Z"],
        ),
    ).id
    clusters.set_funding(
        session, admin, c, FundingIn(year=2024, source="public", funder="Région C", amount_eur=Decimal(1))
    )
    org_c = organisations.create_organisation(
        session,
        admin,
        OrganisationCreate(name="Victime Confidentielle SAS", sirets=[siret(6006)]),
        cluster_id=c,
    ).id
    organisations.add_contact(
        session, admin, org_c, ContactIn(full_name="Cachée Contact", email="secret@victime.fr")
    )
    membership_c = memberships.add_membership(
        session, admin, c, MembershipCreate(organisation_id=org_c, joined=dt.date(2020, 1, 1))
    ).membership_id
    for year in (2023, 2024):
        fees.set_schedule(
            session,
            admin,
            c,
            FeeScheduleIn(year=year, rules=[FeeRuleIn(membership_type="adherent", amount_eur=Decimal(100))]),
        )
        fees.issue_calls(session, admin, c, year, issued_on=dt.date(year, 1, 10))
    calls = {call.year: call.id for call in fees.list_calls(session, admin, c)}
    fees.record_payment(
        session, admin, calls[2024], PaymentIn(amount_eur=Decimal(10), paid_on=dt.date(2024, 2, 1))
    )
    manager_c = accounts.create_user(
        session, admin, UserCreate(email="m@conf.fr", role=Role.MANAGER, clusters=[c])
    ).id
    accounts.create_user(
        session, admin, UserCreate(email="u@victime.fr", role=Role.MEMBER, organisation_id=org_c)
    )
    accounts.create_user(session, admin, UserCreate(email="f@c.fr", role=Role.FUNDER, funder="Région C"))
    token_c = accounts.issue_token(session, admin, manager_c).id
    to_b = invitations.invite(
        session, admin, c, InvitationCreate(siren=siren(2002), joined=dt.date(2025, 1, 1))
    ).id
    to_c = invitations.invite(
        session, admin, world.b, InvitationCreate(siren=siren(6006), joined=dt.date(2025, 1, 1))
    ).id
    org_c2 = organisations.create_organisation(
        session, admin, OrganisationCreate(name="Partenaire Caché SARL", sirets=[siret(6116)]), cluster_id=c
    ).id
    memberships.add_membership(
        session, admin, c, MembershipCreate(organisation_id=org_c2, joined=dt.date(2020, 1, 1))
    )
    link_c = cooperation.declare_link(
        session, admin, c, LinkIn(organisation_a=org_c, organisation_b=org_c2, kind=LinkKind.CO_DEVELOPMENT)
    ).id
    # as if the member user of org_c2 had declared it: pending, for org_c's side to answer
    stored_link = session.get(CooperationLink, link_c)
    stored_link.state, stored_link.source, stored_link.declared_by_id = "pending", "member", org_c2
    project = cooperation.create_project(
        session,
        admin,
        c,
        ProjectIn(
            title="Projet Confidentiel Victime",
            kind=ProjectKind.RD_INNOVATION,
            confidential=True,
            partners=[
                PartnerIn(organisation_id=org_c, coordinator=True),
                PartnerIn(organisation_id=org_c2),
                PartnerIn(town="Rennes"),
            ],
        ),
    )
    project_c = project.id
    (partner_c,) = (p.id for p in project.partners if p.organisation_id is None)
    cooperation.declare_deal(
        session, admin, c, DealIn(buyer=org_c, seller=org_c2, year=2024, amount_eur=Decimal(1000))
    )
    start = dt.datetime(2024, 3, 1, 8, tzinfo=dt.UTC)
    event_c = actions.create_event(
        session,
        admin,
        c,
        EventIn(
            kind="trade_show", title="Salon Secret Victime", starts_at=start, ends_at=start + dt.timedelta(1)
        ),
    ).id
    actions.register(session, admin, event_c, RegistrationIn(organisation_id=org_c))
    equipment_c = actions.create_equipment(
        session, admin, c, EquipmentIn(name="Salle blanche", hourly_rate_eur=Decimal(50))
    ).id
    purchase_c = actions.create_purchase(
        session,
        admin,
        c,
        PurchaseIn(
            title="Électricité", unit="MWh", reference_price_eur=Decimal(150), closes_on=dt.date(2025, 1, 1)
        ),
    ).id
    b2b_c = meetings.create_event(
        session,
        admin,
        c,
        B2BEventIn(title="Rencontres Secrètes Victime", starts_at=start, slots=2, tables=1, max_meetings=1),
    ).id
    for organisation in (org_c, org_c2):
        meetings.register(session, admin, b2b_c, ParticipantIn(organisation_id=organisation))
    wish_c = meetings.add_wish(
        session, admin, b2b_c, WishIn(from_organisation_id=org_c, to_organisation_id=org_c2, priority=2)
    ).id
    meetings.schedule(session, admin, b2b_c, ScheduleIn())
    meetings.publish(session, admin, b2b_c, PublishIn())
    offer_c = actions.create_offer(
        session, admin, c, OfferIn(name="Diagnostic Secret Victime", unit_price_eur=Decimal(300))
    ).id
    sale_c = actions.record_sale(
        session, admin, offer_c, SaleIn(organisation_id=org_c2, sold_on=dt.date(2024, 5, 2))
    ).id
    call_c = calls_service.create_call(
        session,
        admin,
        CallIn(
            title="Appel Secret Victime",
            funder="Région C",
            budget_eur=Decimal(100000),
            opens_on=dt.date(2020, 1, 1),
            closes_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC),
            applicant_kind="cluster",
            criteria=[CriterionIn(name="Qualité", weight=Decimal(1))],
            required_documents=["plan"],
        ),
    ).id
    application_c = calls_service.create_application(
        session,
        admin,
        call_c,
        ApplicationIn(
            title="Candidature Confidentielle",
            cluster_id=c,
            budget=[BudgetLineIn(organisation_id=org_c, amount_eur=Decimal(1000))],
        ),
    ).id
    application_c2 = calls_service.create_application(
        session,
        admin,
        call_c,
        ApplicationIn(
            title="Seconde Candidature Confidentielle",
            cluster_id=c,
            budget=[BudgetLineIn(organisation_id=org_c, amount_eur=Decimal(500))],
        ),
    ).id
    for application in (application_c, application_c2):
        calls_service.attach_document(session, admin, application, "plan", "plan.pdf", b"%PDF-1.4 secret")
    reviewer_user_c = accounts.create_user(
        session, admin, UserCreate(email="r@c.fr", role=Role.REVIEWER, organisation_id=org_c)
    ).id
    profiles.update_profile(
        session,
        admin,
        org_c,
        ProfileIn(capabilities="Savoir Secret Victime", visibility={"capabilities": "public"}, consent=True),
    )
    calls_for_partners = [
        postings.create_posting(
            session,
            admin,
            c,
            PostingIn(
                title=f"Recherche Secrète Victime {n}",
                description="Confidentielle",
                deadline=dt.date.today() + dt.timedelta(days=60),
                organisation_id=org_c,
            ),
        ).result.id
        for n in (1, 2)
    ]
    funder_c = funder_by_name(session, "Région C")
    assert funder_c is not None
    contracts = [
        evaluation.create_contract(
            session,
            admin,
            ContractIn(
                cluster_id=c,
                funder_id=funder_c.id,
                title="Contrat Secret Victime",
                start_year=2024,
                end_year=2025,
                amount_eur=Decimal(1000),
                indicators=[{"indicator": "members", "targets": {2024: 2}}],
            ),
        ).id
        for _ in range(2)
    ]
    return Victim(
        posting_c=calls_for_partners[0],
        posting_c2=calls_for_partners[1],
        a=world.a,
        c=c,
        org_c=org_c,
        org_b=world.org_b,
        membership_c=membership_c,
        call_2023=calls[2023],
        call_2024=calls[2024],
        invitation_to_b=to_b,
        invitation_to_c=to_c,
        manager_c=manager_c,
        token_c=token_c,
        org_c2=org_c2,
        link_c=link_c,
        project_c=project_c,
        partner_c=partner_c,
        event_c=event_c,
        equipment_c=equipment_c,
        purchase_c=purchase_c,
        funder_c=funder_c.id,
        contract_c=contracts[0],
        contract_c2=contracts[1],
        call_c=call_c,
        application_c=application_c,
        application_c2=application_c2,
        reviewer_user_c=reviewer_user_c,
        offer_c=offer_c,
        sale_c=sale_c,
        b2b_c=b2b_c,
        wish_c=wish_c,
    )


@dataclass
class Tenants:
    api: Api
    victim: Victim


def _tenants(database: Any, folder: Path) -> Iterator[Tenants]:
    db = dbkit.new_database(database.backend, folder)
    try:
        api = build_api(db)
        with session_scope(db.engine, actor=LOCAL_ADMIN) as session:
            victim = build_victim(session, api.world)
        yield Tenants(api, victim)
    finally:
        db.drop()


@pytest.fixture(scope="module")
def attacked(database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenants]:
    """The world every non-administrator acts on (they must write nothing)."""
    yield from _tenants(database, tmp_path_factory.mktemp("attacked"))


@pytest.fixture(scope="module")
def administered(database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenants]:
    """The twin world the administrator acts on, route after route."""
    yield from _tenants(database, tmp_path_factory.mktemp("administered"))


# --- the cases: one or more requests per route ------------------------------------------------

HIDDEN, ADMIN_ONLY, OPEN = "hidden", "admin-only", "open"
Request = dict[str, Any]


@dataclass(frozen=True)
class Case:
    """A request on a route and what a non-administrator may get from it.

    ``kind``: HIDDEN (names another tenant's object: exactly 404), ADMIN_ONLY (no tenant
    object, an administrator's operation: never 2xx) or OPEN (a route every role may call:
    its answer must not show the victim's data).
    """

    kind: str
    build: Callable[[Victim], Request]
    admin_status: int | None = None  # when the administrator's 2xx cannot be had here
    # HIDDEN cases in the actors' own public cluster A: only its manager passes the cluster's
    # check and reaches the other tenant's object; the others are refused on A itself (403).
    hidden_for: frozenset[str] = frozenset(ROLES)


OWN = frozenset({"manager"})
MEMBER_CSV = f"siren;nom;date_adhesion\n{siren(7007)};Nouvelle;2024-01-02\n"
PERIOD = {"joined": "1990-01-01", "left": "1990-01-02"}
SOON = (dt.date.today() + dt.timedelta(days=30)).isoformat()
BOOKED = {"start": "2025-02-03T08:00", "end": "2025-02-03T12:00"}
YEAR = {"year": 2024}

CASES: dict[tuple[str, str], list[Case]] = {
    ("GET", "/health"): [Case(OPEN, lambda v: {})],
    ("GET", "/openapi.json"): [Case(OPEN, lambda v: {})],
    ("GET", "/docs"): [Case(OPEN, lambda v: {})],
    # The web application's pages (grappe.web) read no bearer token: every role here is the
    # public on them, the administrator too; signed-in roles are walked in tests/web.
    ("GET", "/"): [Case(OPEN, lambda v: {})],
    ("GET", "/annuaire"): [Case(OPEN, lambda v: {"params": {"q": "Le Goff"}})],
    ("GET", "/connexion"): [Case(OPEN, lambda v: {})],
    ("POST", "/connexion"): [Case(OPEN, lambda v: {"data": {"email": "x@x.fr"}}, admin_status=403)],
    ("POST", "/deconnexion"): [Case(OPEN, lambda v: {"data": {}}, admin_status=403)],
    ("GET", "/structures/{cluster_id:int}"): [Case(HIDDEN, lambda v: {"cluster_id": v.c}, admin_status=404)],
    # The observatory is public; this world saves no detection run, hence 404 on a run's pages.
    ("GET", "/observatoire"): [Case(OPEN, lambda v: {})],
    ("GET", "/contours/{level}.geojson"): [Case(OPEN, lambda v: {"level": "region"})],
    ("GET", "/observatoire/{name}"): [Case(OPEN, lambda v: {"name": "absent"}, admin_status=404)],
    ("GET", "/observatoire/{name}/carte.geojson"): [
        Case(OPEN, lambda v: {"name": "absent"}, admin_status=404)
    ],
    ("GET", "/observatoire/{name}/candidats.csv"): [
        Case(OPEN, lambda v: {"name": "absent"}, admin_status=404)
    ],
    ("GET", "/observatoire/{name}/candidats.xlsx"): [
        Case(OPEN, lambda v: {"name": "absent"}, admin_status=404)
    ],
    ("GET", "/observatoire/{name}/secteurs/{code}"): [
        Case(OPEN, lambda v: {"name": "absent", "code": "25.62A"}, admin_status=404)
    ],
    ("GET", "/observatoire/{name}/territoires/{level}/{code}"): [
        Case(OPEN, lambda v: {"name": "absent", "level": "ze", "code": "2815"}, admin_status=404)
    ],
    # The manager's pages send a visitor without a session to the sign-in form, before any
    # look-up (the redirect, followed here, ends on that form for every id); their roles and
    # other tenants' ids are walked with signed-in users in tests/web/test_manage.py.
    # The evaluation pages, the same way (signed-in roles in tests/web/test_evaluation_pages.py).
    ("GET", "/evaluation/{cluster_id:int}"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("POST", "/evaluation/{cluster_id:int}/auto-evaluation"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "data": {"area": "governance", "score": "3"}})
    ],
    ("GET", "/evaluation/{cluster_id:int}/comparaison"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("GET", "/evaluation/{cluster_id:int}/rapport.{suffix}"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "suffix": "html"})
    ],
    ("GET", "/evaluation/contrats"): [Case(OPEN, lambda v: {})],
    ("GET", "/evaluation/contrats/{contract_id:int}"): [Case(OPEN, lambda v: {"contract_id": v.contract_c})],
    ("GET", "/evaluation/portefeuille.{suffix}"): [Case(OPEN, lambda v: {"suffix": "html"})],
    ("GET", "/gestion"): [Case(OPEN, lambda v: {})],
    # The partners' pages (issue 18) send a visitor without a session to the sign-in form
    # too; their roles and other tenants' ids are walked in tests/web/test_partners_pages.py.
    ("GET", "/partenaires"): [Case(OPEN, lambda v: {"params": {"q": "Secret"}})],
    ("GET", "/partenaires/profils/{organisation_id:int}"): [
        Case(OPEN, lambda v: {"organisation_id": v.org_c})
    ],
    ("POST", "/partenaires/profils/{organisation_id:int}"): [
        Case(OPEN, lambda v: {"organisation_id": v.org_c, "data": {"keywords": "intrus"}})
    ],
    ("GET", "/partenaires/recherches"): [Case(OPEN, lambda v: {})],
    ("POST", "/partenaires/recherches"): [
        Case(OPEN, lambda v: {"data": {"cluster_id": str(v.c), "title": "Intrus", "description": "x",
                                       "deadline": SOON, "organisation_id": str(v.org_c2)}})
    ],
    ("GET", "/partenaires/recherches/{posting_id:int}"): [
        Case(OPEN, lambda v: {"posting_id": v.posting_c})
    ],
    ("POST", "/partenaires/recherches/{posting_id:int}/interet"): [
        Case(OPEN, lambda v: {"posting_id": v.posting_c, "data": {"organisation_id": str(v.org_c2)}})
    ],
    ("POST", "/partenaires/recherches/{posting_id:int}/cloture"): [
        Case(OPEN, lambda v: {"posting_id": v.posting_c, "data": {}})
    ],
    ("GET", "/gestion/{cluster_id:int}"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("GET", "/gestion/{cluster_id:int}/adherents"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("GET", "/gestion/{cluster_id:int}/adherents.{suffix}"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "suffix": "csv"})
    ],
    ("GET", "/gestion/{cluster_id:int}/adherents/nouveau"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("POST", "/gestion/{cluster_id:int}/adherents/nouveau"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "data": {"name": "Intruse", "joined": "2024-01-01"}})
    ],
    ("POST", "/gestion/{cluster_id:int}/adherents/import"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "files": {"file": ("m.csv", MEMBER_CSV, "text/csv")}})
    ],
    ("POST", "/gestion/adhesions/{membership_id:int}/depart"): [
        Case(OPEN, lambda v: {"membership_id": v.membership_c, "data": {"left": "2024-05-01"}})
    ],
    ("GET", "/gestion/{cluster_id:int}/cotisations"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("POST", "/gestion/appels/{fee_call_id:int}/paiement"): [
        Case(OPEN, lambda v: {"fee_call_id": v.call_2024, "data": {"amount": "1", "paid_on": "2024-03-01"}})
    ],
    ("GET", "/gestion/{cluster_id:int}/relances"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("GET", "/gestion/{cluster_id:int}/organisations/{organisation_id:int}"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "organisation_id": v.org_c})
    ],
    ("POST", "/gestion/{cluster_id:int}/organisations/{organisation_id:int}"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "organisation_id": v.org_c, "data": {"name": "Volée"}})
    ],
    # B2B pages (issue 18): signed-in roles and other tenants' events in tests/partners/test_meetings_web.py
    ("GET", "/rendez-vous"): [Case(OPEN, lambda v: {})],
    ("GET", "/rendez-vous/{event_id:int}"): [Case(OPEN, lambda v: {"event_id": v.b2b_c})],
    ("POST", "/rendez-vous/{event_id:int}/inscription"): [
        Case(OPEN, lambda v: {"event_id": v.b2b_c, "data": {"slot": "1"}})
    ],
    ("POST", "/rendez-vous/{event_id:int}/souhaits"): [
        Case(OPEN, lambda v: {"event_id": v.b2b_c, "data": {"to": str(v.org_c2), "priority": "2"}})
    ],
    ("POST", "/rendez-vous/{event_id:int}/souhaits/{wish_id:int}/reponse"): [
        Case(OPEN, lambda v: {"event_id": v.b2b_c, "wish_id": v.wish_c, "data": {"accept": "0"}})
    ],
    ("GET", "/rendez-vous/{event_id:int}/agenda"): [Case(OPEN, lambda v: {"event_id": v.b2b_c})],
    ("GET", "/rendez-vous/{event_id:int}/agenda.{suffix}"): [
        Case(OPEN, lambda v: {"event_id": v.b2b_c, "suffix": "ics"})
    ],
    ("GET", "/rendez-vous/{event_id:int}/plan"): [Case(OPEN, lambda v: {"event_id": v.b2b_c})],
    ("GET", "/rendez-vous/{event_id:int}/plan.{suffix}"): [
        Case(OPEN, lambda v: {"event_id": v.b2b_c, "suffix": "csv"})
    ],
    ("POST", "/rendez-vous/{event_id:int}/planification"): [
        Case(OPEN, lambda v: {"event_id": v.b2b_c, "data": {"method": "greedy"}})
    ],
    ("POST", "/rendez-vous/{event_id:int}/publication"): [
        Case(OPEN, lambda v: {"event_id": v.b2b_c, "data": {"published": "0"}})
    ],
    # Accounts by mail: the forms refuse a request without the visitor's CSRF token (403); a
    # link that does not exist is a 404 page. The administrator's pages and the invitation form
    # send a visitor without a session to the sign-in form, like the manager's pages; their
    # roles are walked with signed-in users in tests/web/test_admin.py.
    ("GET", "/compte/mot-de-passe-oublie"): [Case(OPEN, lambda v: {})],
    ("POST", "/compte/mot-de-passe-oublie"): [
        Case(OPEN, lambda v: {"data": {"email": "secret@victime.fr"}}, admin_status=403)
    ],
    ("GET", "/compte/{kind}/{token}"): [
        Case(OPEN, lambda v: {"kind": "invitation", "token": "x" * 43}, admin_status=404)
    ],
    ("POST", "/compte/{kind}/{token}"): [
        Case(
            OPEN,
            lambda v: {"kind": "mot-de-passe", "token": "x" * 43, "data": {"password": "p" * 20}},
            admin_status=403,
        )
    ],
    ("GET", "/compte"): [Case(OPEN, lambda v: {})],
    ("POST", "/compte/langue"): [Case(OPEN, lambda v: {"data": {"language": "en"}})],
    ("GET", "/compte/inviter"): [Case(OPEN, lambda v: {})],
    ("POST", "/compte/inviter"): [
        Case(OPEN, lambda v: {"data": {"email": "x@x.fr", "role": "manager", "cluster": str(v.c)}})
    ],
    ("GET", "/admin"): [Case(OPEN, lambda v: {})],
    ("GET", "/admin/utilisateurs"): [Case(OPEN, lambda v: {"params": {"q": "victime"}})],
    ("GET", "/admin/utilisateurs/{user_id:int}"): [Case(OPEN, lambda v: {"user_id": 1})],
    ("POST", "/admin/utilisateurs/{user_id:int}/role"): [
        Case(OPEN, lambda v: {"user_id": 1, "data": {"role": "admin"}})
    ],
    ("POST", "/admin/utilisateurs/{user_id:int}/{change}"): [
        Case(OPEN, lambda v: {"user_id": 1, "change": "desactiver", "data": {}})
    ],
    ("GET", "/admin/journal"): [Case(OPEN, lambda v: {"params": {"structure": str(v.c)}})],
    ("GET", "/admin/journal.{suffix}"): [Case(OPEN, lambda v: {"suffix": "csv"})],
    ("GET", "/admin/detection"): [Case(OPEN, lambda v: {})],
    ("POST", "/admin/detection"): [Case(OPEN, lambda v: {"data": {"name": "x", "level": "ze"}})],
    ("POST", "/admin/detection/{job_id:int}/relance"): [Case(OPEN, lambda v: {"job_id": 1, "data": {}})],
    # Issue 15's other manager pages, the member's and the funder's (their roles and other
    # tenants' ids are walked with signed-in users in tests/web/test_role_pages.py).
    ("GET", "/gestion/{cluster_id:int}/organisations/{organisation_id:int}/contacts"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "organisation_id": v.org_c})
    ],
    ("POST", "/gestion/{cluster_id:int}/organisations/{organisation_id:int}/contacts"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "organisation_id": v.org_c, "data": {"full_name": "Intrus"}})
    ],
    ("GET", "/gestion/{cluster_id:int}/contacts/{contact_id:int}"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "contact_id": 1})
    ],
    ("POST", "/gestion/{cluster_id:int}/contacts/{contact_id:int}"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "contact_id": 1, "data": {"full_name": "Volé"}})
    ],
    ("POST", "/gestion/{cluster_id:int}/contacts/{contact_id:int}/suppression"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "contact_id": 1, "data": {}})
    ],
    ("GET", "/gestion/{cluster_id:int}/gouvernance"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("POST", "/gestion/{cluster_id:int}/labels"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "data": {"kind": "regional", "start": "2024-01-01"}})
    ],
    ("POST", "/gestion/{cluster_id:int}/labels/{label_id:int}/fin"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "label_id": 1, "data": {"end": "2024-01-01"}})
    ],
    ("POST", "/gestion/{cluster_id:int}/instances/{kind}"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "kind": "board", "data": {"seats": "3"}})
    ],
    ("POST", "/gestion/{cluster_id:int}/instances/{kind}/titulaires"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "kind": "board", "data": {"person": "Intrus"}})
    ],
    ("POST", "/gestion/{cluster_id:int}/titulaires/{holder_id:int}/fin"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "holder_id": 1, "data": {"end": "2024-01-01"}})
    ],
    ("GET", "/gestion/{cluster_id:int}/cotisations/{kind}-{year:int}.pdf"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "kind": "appels", "year": 2024})
    ],
    ("GET", "/gestion/appels/{fee_call_id:int}/{kind}.pdf"): [
        Case(OPEN, lambda v: {"fee_call_id": v.call_2024, "kind": "relance"})
    ],
    ("GET", "/gestion/{cluster_id:int}/prospects"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("GET", "/gestion/{cluster_id:int}/prospects.{suffix}"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "suffix": "xlsx"})
    ],
    ("GET", "/gestion/{cluster_id:int}/prospects/carte.geojson"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("GET", "/membre"): [Case(OPEN, lambda v: {})],
    ("GET", "/membre/structures/{cluster_id:int}"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("GET", "/financeur"): [Case(OPEN, lambda v: {})],
    ("GET", "/financeur/structures/{cluster_id:int}"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    # the directory's map is public: the private cluster C is not on it
    ("GET", "/annuaire/carte.geojson"): [Case(OPEN, lambda v: {"params": {"label": "none"}})],
    # The cooperation pages (issue 17): a visitor without a session reads what the public may
    # (the victim's private cluster C: nothing) or is sent to sign in; roles and other tenants'
    # ids are walked with signed-in users in tests/web/test_cooperation_pages.py.
    ("GET", "/cooperation/{cluster_id:int}"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("GET", "/cooperation/{cluster_id:int}/projets"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("GET", "/cooperation/projets/{project_id:int}"): [Case(OPEN, lambda v: {"project_id": v.project_c})],
    ("POST", "/cooperation/projets/{project_id:int}/statut"): [
        Case(OPEN, lambda v: {"project_id": v.project_c, "data": {"status": "abandoned", "on": "2024-01-01"}})
    ],
    ("GET", "/cooperation/{cluster_id:int}/projets/nouveau"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("POST", "/cooperation/{cluster_id:int}/projets/nouveau"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "data": {"title": "Intrus", "kind": "rd"}})
    ],
    ("GET", "/cooperation/{cluster_id:int}/evenements"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("GET", "/cooperation/evenements/{event_id:int}"): [Case(OPEN, lambda v: {"event_id": v.event_c})],
    ("POST", "/cooperation/evenements/{event_id:int}/inscription"): [
        Case(OPEN, lambda v: {"event_id": v.event_c, "data": {"organisation_id": str(v.org_c2)}})
    ],
    ("GET", "/cooperation/evenements/{event_id:int}.ics"): [Case(OPEN, lambda v: {"event_id": v.event_c})],
    ("GET", "/cooperation/{cluster_id:int}/affaires"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("POST", "/cooperation/{cluster_id:int}/affaires"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "data": {"seller_id": str(v.org_c), "amount": "1"}})
    ],
    ("POST", "/cooperation/projets/{project_id:int}/partenaires"): [
        Case(OPEN, lambda v: {"project_id": v.project_c, "data": {"name": "Intruse"}})
    ],
    ("POST", "/cooperation/projets/{project_id:int}/partenaires/{partner_id:int}/retrait"): [
        Case(OPEN, lambda v: {"project_id": v.project_c, "partner_id": v.partner_c, "data": {}})
    ],
    ("POST", "/cooperation/{cluster_id:int}/evenements"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "data": {"title": "Intrus", "kind": "conference",
                                                         "starts_at": "2025-05-01T09:00",
                                                         "ends_at": "2025-05-01T12:00"}})
    ],
    ("GET", "/cooperation/{cluster_id:int}/liens"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("POST", "/cooperation/{cluster_id:int}/liens"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "data": {"organisation_a": str(v.org_c),
                                                         "organisation_b": str(v.org_c2),
                                                         "kind": "co_development"}})
    ],
    ("POST", "/cooperation/{cluster_id:int}/liens/{link_id:int}/fin"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "link_id": v.link_c, "data": {"end": "2025-01-01"}})
    ],
    ("GET", "/cooperation/{cluster_id:int}/equipements"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("POST", "/cooperation/{cluster_id:int}/equipements"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "data": {"name": "Intrus", "rate": "1"}})
    ],
    ("GET", "/cooperation/equipements/{equipment_id:int}"): [
        Case(OPEN, lambda v: {"equipment_id": v.equipment_c})
    ],
    ("POST", "/cooperation/equipements/{equipment_id:int}/reservation"): [
        Case(OPEN, lambda v: {"equipment_id": v.equipment_c,
                              "data": {"organisation": str(v.org_c), "starts_at": BOOKED["start"],
                                       "ends_at": BOOKED["end"]}})
    ],
    ("GET", "/cooperation/{cluster_id:int}/reseau"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("GET", "/cooperation/{cluster_id:int}/reseau.svg"): [Case(OPEN, lambda v: {"cluster_id": v.c})],
    ("GET", "/cooperation/{cluster_id:int}/reseau.{suffix}"): [
        Case(OPEN, lambda v: {"cluster_id": v.c, "suffix": "csv"})
    ],
    # the calls for projects pages: C's draft call is nobody's page; the others ask to sign in
    ("GET", "/appels"): [Case(OPEN, lambda v: {})],
    ("GET", "/appels/{call_id:int}"): [Case(HIDDEN, lambda v: {"call_id": v.call_c}, admin_status=404)],
    ("GET", "/appels/{call_id:int}/candidature"): [Case(OPEN, lambda v: {"call_id": v.call_c})],
    ("POST", "/appels/{call_id:int}/candidature"): [
        Case(OPEN, lambda v: {"call_id": v.call_c, "data": {"title": "Intruse", "applicant": str(v.c),
                                                           "partner": [str(v.org_c), str(v.org_c2)],
                                                           "amount": ["1", "2"]}})
    ],
    ("GET", "/candidatures/{application_id:int}"): [
        Case(OPEN, lambda v: {"application_id": v.application_c})
    ],
    ("POST", "/candidatures/{application_id:int}/documents"): [
        Case(
            OPEN,
            lambda v: {
                "application_id": v.application_c,
                "data": {"doc_type": "plan"},
                "files": {"file": ("plan.pdf", b"%PDF-1.4 x", "application/pdf")},
            },
        )
    ],
    ("POST", "/candidatures/{application_id:int}/depot"): [
        Case(OPEN, lambda v: {"application_id": v.application_c, "data": {}})
    ],
    ("GET", "/candidatures/{application_id:int}/evaluation"): [
        Case(OPEN, lambda v: {"application_id": v.application_c})
    ],
    ("POST", "/candidatures/{application_id:int}/evaluation"): [
        Case(OPEN, lambda v: {"application_id": v.application_c, "data": {"note_1": "3"}})
    ],
    ("GET", "/appels/{call_id:int}/comite"): [Case(OPEN, lambda v: {"call_id": v.call_c})],
    ("POST", "/appels/{call_id:int}/comite"): [
        Case(OPEN, lambda v: {"call_id": v.call_c, "data": {"justification": "x"}})
    ],
    ("GET", "/directory"): [Case(OPEN, lambda v: {"params": {"limit": 500}})],
    ("GET", "/clusters"): [Case(OPEN, lambda v: {"params": {"limit": 500}})],
    ("POST", "/clusters"): [Case(ADMIN_ONLY, lambda v: {"json": {"name": "Nouvelle structure"}})],
    ("GET", "/clusters/{cluster_id}"): [Case(HIDDEN, lambda v: {"cluster_id": v.c})],
    ("PATCH", "/clusters/{cluster_id}"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "json": {"version": 1, "website": "https://x.fr"}})
    ],
    ("POST", "/clusters/{cluster_id}/labels"): [
        Case(
            HIDDEN,
            lambda v: {"cluster_id": v.c, "json": {"kind": "regional", "name": "R", "start": "2024-01-01"}},
        )
    ],
    ("PUT", "/clusters/{cluster_id}/fundings"): [
        Case(
            HIDDEN,
            lambda v: {"cluster_id": v.c, "json": {"year": 2025, "source": "services", "amount_eur": "5"}},
        )
    ],
    ("PUT", "/clusters/{cluster_id}/governance"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "json": {"kind": "board", "seats": 3}}),
        # a seat in one's own cluster held by another tenant's organisation
        Case(
            HIDDEN,
            lambda v: {
                "cluster_id": v.a,
                "json": {
                    "kind": "bureau",
                    "seats": 1,
                    "holders": [{"person": "P", "organisation_id": v.org_c}],
                },
            },
            hidden_for=OWN,
        ),
    ],
    ("GET", "/clusters/{cluster_id}/figures"): [Case(HIDDEN, lambda v: {"cluster_id": v.c})],
    # no fabric store in this world: the administrator is told so (after the rights check)
    ("GET", "/clusters/{cluster_id}/prospects"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c}, admin_status=422)
    ],
    ("GET", "/clusters/{cluster_id}/members"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "params": {"include_former": True}})
    ],
    ("POST", "/clusters/{cluster_id}/members"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "json": {"organisation_id": v.org_c, **PERIOD}}),
        # the takeover of issue 12: one's own cluster, another tenant's organisation
        Case(
            HIDDEN,
            lambda v: {"cluster_id": v.a, "json": {"organisation_id": v.org_c, **PERIOD}},
            hidden_for=OWN,
        ),
    ],
    ("GET", "/clusters/{cluster_id}/directory"): [Case(HIDDEN, lambda v: {"cluster_id": v.c})],
    ("POST", "/clusters/{cluster_id}/members/import"): [
        Case(
            HIDDEN,
            lambda v: {"cluster_id": v.c, "files": {"file": ("m.csv", MEMBER_CSV.encode(), "text/csv")}},
        )
    ],
    ("GET", "/clusters/{cluster_id}/members/export"): [Case(HIDDEN, lambda v: {"cluster_id": v.c})],
    ("POST", "/memberships/{membership_id}/end"): [
        Case(
            HIDDEN, lambda v: {"membership_id": v.membership_c, "json": {"version": 1, "left": "2025-06-30"}}
        )
    ],
    ("POST", "/organisations"): [Case(OPEN, lambda v: {"json": {"name": "Créée", "siren": siren(8118)}})],
    ("POST", "/clusters/{cluster_id}/organisations"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "json": {"name": "Créée pour C", "siren": siren(8228)}})
    ],
    ("GET", "/organisations/{organisation_id}"): [Case(HIDDEN, lambda v: {"organisation_id": v.org_c})],
    ("PATCH", "/organisations/{organisation_id}"): [
        Case(HIDDEN, lambda v: {"organisation_id": v.org_c, "json": {"version": 1, "name": "Volée"}})
    ],
    ("POST", "/organisations/{organisation_id}/contacts"): [
        Case(HIDDEN, lambda v: {"organisation_id": v.org_c, "json": {"full_name": "Intrus"}})
    ],
    ("POST", "/clusters/{cluster_id}/invitations"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "json": {"siren": siren(1001), "joined": "2025-01-01"}})
    ],
    ("GET", "/invitations"): [Case(OPEN, lambda v: {"params": {"status": "all"}})],
    ("POST", "/invitations/{invitation_id}/accept"): [
        Case(HIDDEN, lambda v: {"invitation_id": v.invitation_to_b})
    ],
    ("POST", "/invitations/{invitation_id}/decline"): [
        Case(HIDDEN, lambda v: {"invitation_id": v.invitation_to_c})
    ],
    ("PUT", "/clusters/{cluster_id}/fee-schedules"): [
        Case(
            HIDDEN,
            lambda v: {
                "cluster_id": v.c,
                "json": {"year": 2025, "rules": [{"membership_type": "adherent", "amount_eur": "1"}]},
            },
        )
    ],
    ("GET", "/clusters/{cluster_id}/fee-schedules/{year}"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "year": 2024})
    ],
    ("POST", "/clusters/{cluster_id}/fee-calls"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "params": {"year": 2024}})
    ],
    ("GET", "/clusters/{cluster_id}/fee-calls"): [Case(HIDDEN, lambda v: {"cluster_id": v.c})],
    ("POST", "/fee-calls/{fee_call_id}/payments"): [
        Case(
            HIDDEN,
            lambda v: {"fee_call_id": v.call_2024, "json": {"amount_eur": "5", "paid_on": "2024-03-01"}},
        )
    ],
    ("POST", "/fee-calls/{fee_call_id}/waive"): [
        Case(HIDDEN, lambda v: {"fee_call_id": v.call_2023, "json": {"version": 1, "reason": "r"}})
    ],
    ("GET", "/clusters/{cluster_id}/dunning"): [Case(HIDDEN, lambda v: {"cluster_id": v.c})],
    ("GET", "/clusters/{cluster_id}/dunning/export"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "params": {"format": "xlsx"}})
    ],
    ("GET", "/clusters/{cluster_id}/fee-letters"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "params": {"year": 2024, "kind": "reminder"}})
    ],
    ("GET", "/fee-calls/{fee_call_id}/letter"): [
        Case(HIDDEN, lambda v: {"fee_call_id": v.call_2024, "params": {"kind": "call"}})
    ],
    ("POST", "/users"): [
        Case(ADMIN_ONLY, lambda v: {"json": {"email": "n@x.fr", "role": "manager", "clusters": [v.c]}})
    ],
    ("PUT", "/users/{user_id}/language"): [
        Case(ADMIN_ONLY, lambda v: {"user_id": v.manager_c, "json": {"language": "en"}})
    ],
    ("POST", "/users/{user_id}/tokens"): [Case(ADMIN_ONLY, lambda v: {"user_id": v.manager_c})],
    ("GET", "/audit"): [Case(ADMIN_ONLY, lambda v: {"params": {"cluster_id": v.c}})],
    ("DELETE", "/tokens/{token_id}"): [Case(ADMIN_ONLY, lambda v: {"token_id": v.token_c})],
    # cooperation (issue 17)
    ("GET", "/clusters/{cluster_id}/cooperation/links"): [Case(HIDDEN, lambda v: {"cluster_id": v.c})],
    ("POST", "/clusters/{cluster_id}/cooperation/links"): [
        Case(
            HIDDEN,
            lambda v: {
                "cluster_id": v.c,
                "json": {"organisation_a": v.org_c, "organisation_b": v.org_c2, "kind": "co_development"},
            },
        ),
        # one's own cluster's books, another tenant's organisation on one side
        Case(
            HIDDEN,
            lambda v: {
                "cluster_id": v.a,
                "json": {"organisation_a": v.org_b, "organisation_b": v.org_c, "kind": "supplier_customer"},
            },
            hidden_for=OWN,
        ),
    ],
    ("POST", "/cooperation/links/{link_id}/answer"): [
        Case(HIDDEN, lambda v: {"link_id": v.link_c, "json": {"accept": True}})
    ],
    ("POST", "/cooperation/links/{link_id}/end"): [
        Case(HIDDEN, lambda v: {"link_id": v.link_c, "json": {"end": "2025-01-01"}})
    ],
    ("GET", "/cooperation/projects"): [Case(OPEN, lambda v: {"params": {"limit": 500}})],
    ("POST", "/clusters/{cluster_id}/cooperation/projects"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "json": {"title": "Intrus", "kind": "market"}})
    ],
    ("GET", "/cooperation/projects/{project_id}"): [Case(HIDDEN, lambda v: {"project_id": v.project_c})],
    ("POST", "/cooperation/projects/{project_id}/status"): [
        Case(HIDDEN, lambda v: {"project_id": v.project_c, "json": {"status": "drafting"}})
    ],
    ("POST", "/cooperation/projects/{project_id}/partners"): [
        Case(
            HIDDEN,
            lambda v: {"project_id": v.project_c, "json": {"name": "Intrus", "category": "laboratory"}},
        )
    ],
    ("DELETE", "/cooperation/projects/{project_id}/partners/{partner_id}"): [
        Case(HIDDEN, lambda v: {"project_id": v.project_c, "partner_id": v.partner_c})
    ],
    ("GET", "/clusters/{cluster_id}/cooperation/deals"): [Case(HIDDEN, lambda v: {"cluster_id": v.c})],
    ("POST", "/clusters/{cluster_id}/cooperation/deals"): [
        Case(
            HIDDEN,
            lambda v: {
                "cluster_id": v.c,
                "json": {"buyer": v.org_c, "seller": v.org_c2, "year": 2024, "amount_eur": "10"},
            },
        ),
        Case(
            HIDDEN,
            lambda v: {
                "cluster_id": v.a,
                "json": {"buyer": v.org_b, "seller": v.org_c, "year": 2024, "amount_eur": "10"},
            },
            hidden_for=OWN,
        ),
    ],
    ("GET", "/clusters/{cluster_id}/cooperation/business"): [Case(HIDDEN, lambda v: {"cluster_id": v.c})],
    ("GET", "/clusters/{cluster_id}/cooperation/figures"): [Case(HIDDEN, lambda v: {"cluster_id": v.c})],
    # collective actions (issue 17)
    ("GET", "/clusters/{cluster_id}/events"): [Case(HIDDEN, lambda v: {"cluster_id": v.c})],
    ("POST", "/clusters/{cluster_id}/events"): [
        Case(
            HIDDEN,
            lambda v: {
                "cluster_id": v.c,
                "json": {"kind": "training", "title": "Intrus", "starts_at": "2025-01-01T09:00",
                         "ends_at": "2025-01-01T12:00"},
            },
        )
    ],
    ("GET", "/events/{event_id}"): [Case(HIDDEN, lambda v: {"event_id": v.event_c})],
    ("GET", "/events/{event_id}/calendar.ics"): [Case(HIDDEN, lambda v: {"event_id": v.event_c})],
    ("GET", "/events/{event_id}/registrations"): [Case(HIDDEN, lambda v: {"event_id": v.event_c})],
    ("POST", "/events/{event_id}/registrations"): [
        Case(HIDDEN, lambda v: {"event_id": v.event_c, "json": {"organisation_id": v.org_c2}})
    ],
    ("PUT", "/events/{event_id}/registrations/{organisation_id}/attendance"): [
        Case(
            HIDDEN,
            lambda v: {"event_id": v.event_c, "organisation_id": v.org_c, "json": {"attended": True}},
        )
    ],
    ("GET", "/clusters/{cluster_id}/equipment"): [Case(HIDDEN, lambda v: {"cluster_id": v.c})],
    ("POST", "/clusters/{cluster_id}/equipment"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "json": {"name": "Intrus", "hourly_rate_eur": "1"}})
    ],
    ("GET", "/equipment/{equipment_id}/bookings"): [
        Case(HIDDEN, lambda v: {"equipment_id": v.equipment_c, "params": BOOKED})
    ],
    ("POST", "/equipment/{equipment_id}/bookings"): [
        Case(HIDDEN, lambda v: {"equipment_id": v.equipment_c, "json": {
            "starts_at": BOOKED["start"], "ends_at": BOOKED["end"], "organisation_id": v.org_c}})
    ],
    ("GET", "/clusters/{cluster_id}/positions"): [Case(HIDDEN, lambda v: {"cluster_id": v.c})],
    ("POST", "/clusters/{cluster_id}/positions"): [
        Case(
            HIDDEN,
            lambda v: {
                "cluster_id": v.c,
                "json": {"title": "Intrus", "start": "2025-01-01", "yearly_cost_eur": "1",
                         "shares": [{"organisation_id": v.org_c, "percent": "100"}]},
            },
        )
    ],
    ("GET", "/clusters/{cluster_id}/purchases"): [Case(HIDDEN, lambda v: {"cluster_id": v.c})],
    ("POST", "/clusters/{cluster_id}/purchases"): [
        Case(
            HIDDEN,
            lambda v: {
                "cluster_id": v.c,
                "json": {"title": "Intrus", "unit": "t", "reference_price_eur": "1",
                         "closes_on": "2025-01-01"},
            },
        )
    ],
    ("POST", "/purchases/{purchase_id}/needs"): [
        Case(
            HIDDEN,
            # org_c2: the administrator's earlier cases end org_c's membership
            lambda v: {"purchase_id": v.purchase_c, "json": {"quantity": "5", "organisation_id": v.org_c2}},
        )
    ],
    ("PUT", "/purchases/{purchase_id}/deal"): [
        Case(
            HIDDEN,
            lambda v: {
                "purchase_id": v.purchase_c,
                "json": {"supplier": "Intrus", "negotiated_price_eur": "1"},
            },
        )
    ],
    ("GET", "/equipment/{equipment_id}/usage"): [
        Case(HIDDEN, lambda v: {"equipment_id": v.equipment_c, "params": BOOKED})
    ],
    # B2B meetings (issue 18)
    ("GET", "/b2b-events"): [Case(HIDDEN, lambda v: {"params": {"cluster_id": v.c}})],
    ("POST", "/clusters/{cluster_id}/b2b-events"): [
        Case(
            HIDDEN,
            lambda v: {
                "cluster_id": v.c,
                "json": {"title": "Intrus", "starts_at": "2025-01-01T09:00", "slots": 2, "tables": 1,
                         "max_meetings": 1},
            },
        )
    ],
    ("GET", "/b2b-events/{event_id}"): [Case(HIDDEN, lambda v: {"event_id": v.b2b_c})],
    ("POST", "/b2b-events/{event_id}/guests"): [
        Case(HIDDEN, lambda v: {"event_id": v.b2b_c, "json": {"cluster_id": v.a}})
    ],
    ("GET", "/b2b-events/{event_id}/participants"): [Case(HIDDEN, lambda v: {"event_id": v.b2b_c})],
    ("POST", "/b2b-events/{event_id}/participants"): [
        Case(HIDDEN, lambda v: {"event_id": v.b2b_c, "json": {"organisation_id": v.org_b}})
    ],
    ("PUT", "/b2b-events/{event_id}/participants/{organisation_id}/unavailable"): [
        Case(
            HIDDEN,
            lambda v: {"event_id": v.b2b_c, "organisation_id": v.org_c, "json": {"unavailable_slots": [2]}},
        )
    ],
    ("GET", "/b2b-events/{event_id}/wishes"): [Case(HIDDEN, lambda v: {"event_id": v.b2b_c})],
    ("POST", "/b2b-events/{event_id}/wishes"): [
        Case(
            HIDDEN,
            lambda v: {
                "event_id": v.b2b_c,
                "json": {"from_organisation_id": v.org_c2, "to_organisation_id": v.org_c, "priority": 3},
            },
        )
    ],
    ("POST", "/b2b-events/{event_id}/wishes/{wish_id}/answer"): [
        Case(HIDDEN, lambda v: {"event_id": v.b2b_c, "wish_id": v.wish_c, "json": {"accept": True}})
    ],
    ("GET", "/b2b-events/{event_id}/suggestions"): [
        Case(HIDDEN, lambda v: {"event_id": v.b2b_c, "params": {"organisation_id": v.org_c}})
    ],
    ("POST", "/b2b-events/{event_id}/schedule"): [
        Case(HIDDEN, lambda v: {"event_id": v.b2b_c, "json": {"time_limit": 5}})
    ],
    ("PUT", "/b2b-events/{event_id}/publication"): [
        Case(HIDDEN, lambda v: {"event_id": v.b2b_c, "json": {"published": True}})
    ],
    ("GET", "/b2b-events/{event_id}/meetings"): [Case(HIDDEN, lambda v: {"event_id": v.b2b_c})],
    ("GET", "/b2b-events/{event_id}/agenda"): [
        Case(HIDDEN, lambda v: {"event_id": v.b2b_c, "params": {"organisation_id": v.org_c}})
    ],
    ("GET", "/b2b-events/{event_id}/agenda.pdf"): [
        Case(HIDDEN, lambda v: {"event_id": v.b2b_c, "params": {"organisation_id": v.org_c}})
    ],
    ("GET", "/b2b-events/{event_id}/agenda.ics"): [
        Case(HIDDEN, lambda v: {"event_id": v.b2b_c, "params": {"organisation_id": v.org_c}})
    ],
    ("GET", "/b2b-events/{event_id}/agendas.pdf"): [Case(HIDDEN, lambda v: {"event_id": v.b2b_c})],
    ("GET", "/b2b-events/{event_id}/table-plan.{suffix}"): [
        Case(HIDDEN, lambda v: {"event_id": v.b2b_c, "suffix": "csv"}),
        Case(HIDDEN, lambda v: {"event_id": v.b2b_c, "suffix": "pdf"}),
    ],
    # partners: profiles, interclustering, search, calls for partners (issue 18)
    ("GET", "/organisations/{organisation_id}/profile"): [
        Case(HIDDEN, lambda v: {"organisation_id": v.org_c})
    ],
    ("PATCH", "/organisations/{organisation_id}/profile"): [
        Case(HIDDEN, lambda v: {"organisation_id": v.org_c, "json": {"keywords": "intrus"}})
    ],
    # the empty fabric store of the test does not know org_c: the administrator reads 422
    ("POST", "/organisations/{organisation_id}/profile/fabric"): [
        Case(HIDDEN, lambda v: {"organisation_id": v.org_c}, admin_status=422)
    ],
    ("GET", "/clusters/{cluster_id}/sharing"): [Case(HIDDEN, lambda v: {"cluster_id": v.c})],
    ("PUT", "/clusters/{cluster_id}/sharing"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "json": {"all_clusters": True}}),
        # A's manager names C (private): C is "introuvable"; the others are refused on A
        Case(HIDDEN, lambda v: {"cluster_id": v.a, "json": {"clusters": [v.c]}}, hidden_for=OWN),
    ],
    ("GET", "/clusters/{cluster_id}/intercluster"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "params": {"year": 2024}})
    ],
    ("POST", "/partners/search"): [
        Case(OPEN, lambda v: {"json": {"text": "Savoir Secret Victime Confidentielle", "scope": "all"}}),
        # searching from C's organisation: members and managers find it "introuvable"
        Case(
            HIDDEN,
            lambda v: {"json": {"organisation_id": v.org_c, "scope": "all"}},
            hidden_for=frozenset({"manager", "member"}),
        ),
    ],
    ("GET", "/postings"): [
        Case(OPEN, lambda v: {"params": {"include_closed": True}}),
        Case(HIDDEN, lambda v: {"params": {"cluster_id": v.c}}, hidden_for=frozenset({"manager", "member"})),
    ],
    ("POST", "/clusters/{cluster_id}/postings"): [
        Case(
            HIDDEN,
            lambda v: {
                "cluster_id": v.c,
                "json": {"title": "Intrus", "description": "x", "deadline": SOON,
                         "organisation_id": v.org_c2},
            },
        )
    ],
    ("GET", "/postings/{posting_id}"): [Case(HIDDEN, lambda v: {"posting_id": v.posting_c})],
    ("POST", "/postings/{posting_id}/close"): [Case(HIDDEN, lambda v: {"posting_id": v.posting_c2})],
    ("GET", "/postings/{posting_id}/interests"): [Case(HIDDEN, lambda v: {"posting_id": v.posting_c})],
    ("POST", "/postings/{posting_id}/interests"): [
        Case(HIDDEN, lambda v: {"posting_id": v.posting_c, "json": {"organisation_id": v.org_c2}})
    ],
    ("GET", "/clusters/{cluster_id}/cooperation/network"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c}),
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "params": {"from": "2024-01-01", "to": "2024-12-31",
                                                               "compare_to": 2023, "order": "betweenness"}}),
    ],
    ("GET", "/clusters/{cluster_id}/cooperation/network/{file_format}"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "file_format": "svg"}),
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "file_format": "graphml", "params": {"layers": "links"}}),
    ],
    # services sold to members (issue 17)
    ("GET", "/clusters/{cluster_id}/services"): [Case(HIDDEN, lambda v: {"cluster_id": v.c})],
    ("POST", "/clusters/{cluster_id}/services"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "json": {"name": "Intrus", "unit_price_eur": "1"}})
    ],
    ("GET", "/clusters/{cluster_id}/services/revenue"): [Case(HIDDEN, lambda v: {"cluster_id": v.c})],
    ("GET", "/clusters/{cluster_id}/sales"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c}),
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "params": {"year": 2024}}),
    ],
    ("POST", "/services/{offer_id}/sales"): [
        Case(
            HIDDEN,
            lambda v: {"offer_id": v.offer_c, "json": {"organisation_id": v.org_c2, "sold_on": "2024-06-01"}},
        )
    ],
    ("POST", "/services/{offer_id}/withdraw"): [Case(HIDDEN, lambda v: {"offer_id": v.offer_c})],
    ("DELETE", "/sales/{sale_id}"): [Case(HIDDEN, lambda v: {"sale_id": v.sale_c})],
    # calls for projects: C's funder's draft call and C's application exist for nobody else
    ("GET", "/calls"): [Case(OPEN, lambda v: {"params": {"limit": 500}})],
    ("POST", "/calls"): [
        Case(
            OPEN,
            lambda v: {
                "json": {
                    "title": "Appel ouvert",
                    "funder": "DATAR",
                    "budget_eur": "1000",
                    "opens_on": "2020-01-01",
                    "closes_at": "2099-01-01T00:00:00+00:00",
                    "applicant_kind": "cluster",
                    "criteria": [{"name": "Qualité", "weight": "1"}],
                }
            },
            admin_status=201,
        )
    ],
    ("GET", "/calls/{call_id}"): [Case(HIDDEN, lambda v: {"call_id": v.call_c})],
    ("POST", "/calls/{call_id}/publish"): [Case(HIDDEN, lambda v: {"call_id": v.call_c})],
    ("GET", "/calls/{call_id}/applications"): [Case(HIDDEN, lambda v: {"call_id": v.call_c})],
    ("POST", "/calls/{call_id}/applications"): [
        Case(
            HIDDEN,
            lambda v: {"call_id": v.call_c, "json": {"title": "Intrus", "cluster_id": v.c}},
            admin_status=201,
        )
    ],
    ("GET", "/calls/applications/{application_id}"): [
        Case(HIDDEN, lambda v: {"application_id": v.application_c})
    ],
    ("PUT", "/calls/applications/{application_id}/budget"): [
        Case(
            HIDDEN,
            lambda v: {
                "application_id": v.application_c,
                "json": [{"organisation_id": v.org_c, "amount_eur": "900"}],
            },
        )
    ],
    ("POST", "/calls/applications/{application_id}/documents/{doc_type}"): [
        Case(
            HIDDEN,
            lambda v: {
                "application_id": v.application_c,
                "doc_type": "plan",
                "files": {"file": ("plan.pdf", b"%PDF-1.4 plan", "application/pdf")},
            },
            admin_status=409,  # the plan is joined already
        )
    ],
    ("GET", "/calls/applications/{application_id}/documents/{doc_type}"): [
        # the world outlives the test's GRAPPE_HOME, where the plan was written: its file is gone
        Case(HIDDEN, lambda v: {"application_id": v.application_c, "doc_type": "plan"}, admin_status=404)
    ],
    ("POST", "/calls/applications/{application_id}/submit"): [
        Case(HIDDEN, lambda v: {"application_id": v.application_c2})
    ],
    ("POST", "/calls/applications/{application_id}/conflicts"): [
        Case(
            HIDDEN,
            lambda v: {"application_id": v.application_c, "json": {"reason": "x", "reviewer_id": 999999}},
            admin_status=404,
        )
    ],
    ("GET", "/calls/applications/{application_id}/reviews"): [
        Case(HIDDEN, lambda v: {"application_id": v.application_c})
    ],
    ("POST", "/calls/applications/{application_id}/review"): [
        Case(
            HIDDEN,
            lambda v: {
                "application_id": v.application_c,
                "json": {"marks": [{"criterion_id": 1, "value": "1"}]},
            },
            admin_status=403,  # the administrator is no reviewer
        )
    ],
    ("GET", "/reviewers"): [Case(OPEN, lambda v: {})],
    ("POST", "/reviewers"): [Case(OPEN, lambda v: {"json": {"user_id": v.reviewer_user_c, "tags": ["08"]}})],
    ("GET", "/reviews/mine"): [Case(OPEN, lambda v: {}, admin_status=403)],
    # nobody in the pool may review C's applications (its reviewer is of C's organisation): 422
    ("POST", "/calls/{call_id}/assignment"): [
        Case(HIDDEN, lambda v: {"call_id": v.call_c}, admin_status=422)
    ],
    ("GET", "/calls/{call_id}/scores"): [Case(HIDDEN, lambda v: {"call_id": v.call_c})],
    ("POST", "/calls/{call_id}/selection"): [
        Case(HIDDEN, lambda v: {"call_id": v.call_c, "json": {}}, admin_status=422)
    ],
    ("POST", "/calls/{call_id}/decision"): [
        Case(HIDDEN, lambda v: {"call_id": v.call_c, "json": {"justification": "Comité"}}, admin_status=422)
    ],
    ("GET", "/calls/{call_id}/letters"): [Case(HIDDEN, lambda v: {"call_id": v.call_c}, admin_status=409)],
    # evaluation (issue 19)
    ("GET", "/evaluation/indicators"): [Case(OPEN, lambda v: {})],
    ("GET", "/clusters/{cluster_id}/evaluation/indicators"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "params": YEAR})
    ],
    ("POST", "/clusters/{cluster_id}/evaluation/declarations"): [
        Case(
            HIDDEN,
            lambda v: {
                "cluster_id": v.c,
                "data": {"indicator": "services_revenue", "year": "2024", "value": "1"},
                "files": {"evidence": ("bilan.pdf", b"%PDF-1.4", "application/pdf")},
            },
        )
    ],
    ("POST", "/clusters/{cluster_id}/evaluation/self-assessment"): [
        Case(
            HIDDEN,
            lambda v: {"cluster_id": v.c, "data": {"area": "governance", "year": "2024", "score": "3"}},
        )
    ],
    ("GET", "/clusters/{cluster_id}/evaluation/scorecard"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "params": YEAR})
    ],
    ("GET", "/clusters/{cluster_id}/evaluation/benchmark/{indicator}"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "indicator": "members", "params": YEAR})
    ],
    ("GET", "/clusters/{cluster_id}/evaluation/report"): [
        Case(HIDDEN, lambda v: {"cluster_id": v.c, "params": YEAR})
    ],
    ("GET", "/evaluation/portfolio"): [Case(OPEN, lambda v: {"params": {**YEAR, "funder_id": v.funder_c}})],
    ("GET", "/evaluation/contracts"): [Case(OPEN, lambda v: {})],
    ("POST", "/evaluation/contracts"): [
        Case(
            HIDDEN,
            lambda v: {
                "json": {
                    "cluster_id": v.c, "funder_id": v.funder_c, "title": "Intrus", "start_year": 2024,
                    "end_year": 2024, "amount_eur": "1",
                    "indicators": [{"indicator": "members", "targets": {"2024": 1}}],
                }
            },
        )
    ],
    ("GET", "/evaluation/contracts/{contract_id}"): [Case(HIDDEN, lambda v: {"contract_id": v.contract_c})],
    ("DELETE", "/evaluation/contracts/{contract_id}"): [
        Case(HIDDEN, lambda v: {"contract_id": v.contract_c2})
    ],
    ("GET", "/evaluation/contracts/{contract_id}/years/{year}"): [
        Case(HIDDEN, lambda v: {"contract_id": v.contract_c, "year": 2024})
    ],
}


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of routes, into included routers (FastAPI keeps them as one entry)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _walk(included.routes, prefix + route.include_context.prefix)
            continue
        for method in (getattr(route, "methods", None) or set()) - {"HEAD", "OPTIONS"}:
            yield method, prefix + route.path


def _routes(api: Api) -> set[tuple[str, str]]:
    """Every (method, path) the application answers, documentation pages included."""
    return set(_walk(api.app.routes))


def _send(api: Api, method: str, path: str, case: Case, victim: Victim, role: str) -> Any:
    request = dict(case.build(victim))
    path = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)  # Starlette's converters: {id:int}
    url = path.format(**{k: request.pop(k) for k in list(request) if "{" + k + "}" in path})
    return api.client.request(method, url, headers=api.headers(role), **request)


def _cases() -> list[Any]:
    return [
        pytest.param(method, path, i, id=f"{method} {path} #{i}")
        for (method, path), cases in sorted(CASES.items())
        for i in range(len(cases))
    ]


def test_every_route_has_a_case(attacked: Tenants) -> None:
    """A new route must be added to CASES, so that its tenancy is tested."""
    routes = _routes(attacked.api)
    assert not routes - set(CASES), (
        f"routes sans cas de test de cloisonnement : {sorted(routes - set(CASES))}"
    )
    assert not set(CASES) - routes, f"cas pour des routes disparues : {sorted(set(CASES) - routes)}"
    # the OpenAPI document, a second witness of the same set
    documented = {
        (method.upper(), path)
        for path, operations in attacked.api.app.openapi()["paths"].items()
        for method in operations
    }
    assert documented <= routes


@pytest.mark.parametrize(("method", "path", "index"), _cases())
def test_no_role_reaches_another_tenants_object(
    attacked: Tenants, method: str, path: str, index: int
) -> None:
    case = CASES[(method, path)][index]
    for role in ROLES:
        response = _send(attacked.api, method, path, case, attacked.victim, role)
        where = f"{method} {path} #{index} as {role}"
        assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:200]}"
        if case.kind != OPEN:
            assert not 200 <= response.status_code < 300, (
                f"{where}: {response.status_code} {response.text[:300]}"
            )
        if case.kind == HIDDEN and role in case.hidden_for:
            assert response.status_code == 404, f"{where}: {response.status_code} {response.text[:300]}"
        for canary in CANARIES:
            assert canary not in response.text, f"{where}: the answer shows {canary!r}"


@pytest.mark.parametrize(("method", "path", "index"), _cases())
def test_the_administrator_reaches_every_case(
    administered: Tenants, method: str, path: str, index: int
) -> None:
    """The same requests are well formed: the administrator's succeed."""
    case = CASES[(method, path)][index]
    response = _send(administered.api, method, path, case, administered.victim, "admin")
    if case.admin_status is None:
        assert 200 <= response.status_code < 300, f"{response.status_code} {response.text[:300]}"
    else:
        assert response.status_code == case.admin_status, response.text[:300]


# --- the reproduction of issue 12 and the invitation that replaces it ------------------------


@pytest.fixture
def api(database: Any, tmp_path: Path) -> Iterator[Api]:
    db = dbkit.new_database(database.backend, tmp_path)
    try:
        yield build_api(db)
    finally:
        db.drop()


def test_issue_12_manager_cannot_take_over_another_clusters_organisation(api: Api) -> None:
    """Manager of A attaches B's organisation with a past period, then reads and renames it."""
    w: Any = api.world
    admin, manager = api.headers("admin"), api.headers("manager")
    hidden = api.client.post(
        f"/organisations/{w.org_b}/contacts",
        headers=admin,
        json={"full_name": "Yann Le Goff", "email": "yann@legoff.bzh", "directory_consent": False},
    )
    assert hidden.status_code == 201
    attach = api.client.post(
        f"/clusters/{w.a}/members",
        headers=manager,
        json={"organisation_id": w.org_b, "joined": "1990-01-01", "left": "1990-01-02"},
    )
    assert attach.status_code == 404, attach.text
    assert attach.json()["detail"] == f"organisation {w.org_b} introuvable"
    read = api.client.get(f"/organisations/{w.org_b}", headers=manager)
    assert read.status_code == 404
    assert "yann@legoff.bzh" not in read.text
    rename = api.client.patch(
        f"/organisations/{w.org_b}", headers=manager, json={"version": 1, "name": "Volée"}
    )
    assert rename.status_code == 404
    # the same answer as for an id that does not exist: nothing to probe
    missing = api.client.get("/organisations/999999", headers=manager)
    assert (missing.status_code, missing.json()["detail"]) == (404, "organisation 999999 introuvable")
    assert read.json()["detail"] == f"organisation {w.org_b} introuvable"
    members = api.client.get(f"/clusters/{w.b}/members", headers=admin).json()["items"]
    assert [m["name"] for m in members] == ["Carrières Le Goff"]
    assert api.client.get(f"/clusters/{w.a}/members", headers=admin).json()["total"] == 1


def test_the_administrator_attaches_any_organisation(api: Api) -> None:
    w: Any = api.world
    added = api.client.post(
        f"/clusters/{w.a}/members",
        headers=api.headers("admin"),
        json={"organisation_id": w.org_b, "joined": "2024-01-01"},
    )
    assert added.status_code == 201


def test_an_unowned_organisation_is_not_attachable_by_a_manager(api: Api) -> None:
    """Created by the administrator for no cluster: the managers do not know it."""
    created = api.client.post(
        "/organisations", headers=api.headers("admin"), json={"name": "Sans maître", "siren": siren(5115)}
    ).json()
    w: Any = api.world
    attach = api.client.post(
        f"/clusters/{w.a}/members",
        headers=api.headers("manager"),
        json={"organisation_id": created["id"], "joined": "2024-01-01"},
    )
    assert attach.status_code == 404


def test_a_manager_owns_what_it_creates(api: Api) -> None:
    w: Any = api.world
    created = api.client.post(
        "/organisations", headers=api.headers("manager"), json={"name": "Jeune pousse", "siren": siren(5225)}
    )
    assert created.status_code == 201
    org = created.json()["id"]
    assert api.client.get(f"/organisations/{org}", headers=api.headers("manager")).status_code == 200
    assert api.client.get(f"/organisations/{org}", headers=api.headers("manager_other")).status_code == 404
    attach = api.client.post(
        f"/clusters/{w.a}/members",
        headers=api.headers("manager"),
        json={"organisation_id": org, "joined": "2024-01-01"},
    )
    assert attach.status_code == 201
    again = api.client.post(
        "/organisations", headers=api.headers("manager_other"), json={"name": "Doublon", "siren": siren(5225)}
    )
    assert again.status_code == 409
    assert "invitez-la" in again.json()["detail"]
    assert "Jeune pousse" not in again.text


def test_invitation_accepted_by_the_organisation(api: Api) -> None:
    w: Any = api.world
    manager, owner = api.headers("manager"), api.headers("member_other")
    sent = api.client.post(
        f"/clusters/{w.a}/invitations",
        headers=manager,
        json={"siren": siren(2002), "joined": "2025-01-01", "membership_type": "associe"},
    )
    assert sent.status_code == 201, sent.text
    invitation = sent.json()
    assert (invitation["status"], invitation["organisation"]) == ("pending", None)
    assert "Carrières" not in sent.text
    # nothing of the organisation is readable before it answers
    assert api.client.get(f"/organisations/{w.org_b}", headers=manager).status_code == 404
    listed = api.client.get("/invitations", headers=manager).json()
    assert listed["total"] == 1
    assert listed["items"][0]["organisation"] is None
    assert api.client.post(f"/invitations/{invitation['id']}/accept", headers=manager).status_code == 403
    assert (
        api.client.post(f"/invitations/{invitation['id']}/accept", headers=api.headers("member")).status_code
        == 404
    )
    # the organisation's side sees it, with its name, and accepts
    received = api.client.get("/invitations", headers=owner).json()
    assert [(i["id"], i["cluster"], i["organisation"]) for i in received["items"]] == [
        (invitation["id"], "Mécanique Rhône", "Carrières Le Goff")
    ]
    accepted = api.client.post(f"/invitations/{invitation['id']}/accept", headers=owner)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["membership_id"] is not None
    assert api.client.get(f"/organisations/{w.org_b}", headers=manager).status_code == 200
    members = api.client.get(f"/clusters/{w.a}/members", headers=manager, params={"on": "2025-02-01"}).json()
    assert {(m["name"], m["membership_type"]) for m in members["items"]} >= {("Carrières Le Goff", "associe")}
    assert api.client.post(f"/invitations/{invitation['id']}/decline", headers=owner).status_code == 409
    audit = api.client.get("/audit", headers=api.headers("admin"), params={"entity": "invitations"}).json()
    assert [e["action"] for e in audit["items"]] == ["update", "create"]
    assert audit["items"][0]["after"]["status"] == "accepted"


def test_invitation_declined_leaves_the_organisation_hidden(api: Api) -> None:
    w: Any = api.world
    manager = api.headers("manager")
    sent = api.client.post(
        f"/clusters/{w.a}/invitations", headers=manager, json={"siren": siren(2002), "joined": "2025-01-01"}
    ).json()
    duplicate = api.client.post(
        f"/clusters/{w.a}/invitations", headers=manager, json={"siren": siren(2002), "joined": "2025-01-01"}
    )
    assert duplicate.status_code == 409
    # a manager of a cluster the organisation belongs to answers for it too
    declined = api.client.post(f"/invitations/{sent['id']}/decline", headers=api.headers("manager_other"))
    assert declined.status_code == 200
    assert declined.json()["status"] == "declined"
    assert api.client.get(f"/organisations/{w.org_b}", headers=manager).status_code == 404
    assert api.client.get("/invitations", headers=manager).json() == {"total": 0, "items": []}
    every = api.client.get("/invitations", headers=manager, params={"status": "all"}).json()
    assert [i["status"] for i in every["items"]] == ["declined"]
    unknown = api.client.post(
        f"/clusters/{w.a}/invitations", headers=manager, json={"siren": siren(4994), "joined": "2025-01-01"}
    )
    assert unknown.status_code == 404
    assert api.client.get("/invitations", headers=api.headers("public")).status_code == 403
