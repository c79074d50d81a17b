"""Profiles, interclustering and the search over profiles, per role, on SQLite and PostgreSQL.

The standard world: cluster A (MECA) has org_a (user "member"), managed by "manager", funded by
"funder"; cluster B (GRAN) has org_b (user "member_other"), managed by "manager_other", funded
by "funder_other". A second member of A (org_free, user u@solo.fr) reads as a cluster-mate.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from grappe.cooperation import service as cooperation
from grappe.cooperation.models import ProjectKind
from grappe.cooperation.schemas import PartnerIn, ProjectIn
from grappe.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from grappe.partners.models import ProfileTag, Visibility
from grappe.partners.profiles import service
from grappe.partners.profiles.schemas import ProfileIn, SearchIn, SearchScope, SharingIn
from grappe.registry.accounts import service as accounts
from grappe.registry.accounts.schemas import UserCreate
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate
from grappe.registry.models import Role
from grappe.registry.policy import LOCAL_ADMIN, Actor

PROFILE = ProfileIn(
    capabilities="Usinage cinq axes de pièces aéronautiques",
    products="Vis et écrous décolletés",
    technologies="Commande numérique",
    needs="Traitement de surface anodisation",
    markets="Aéronautique, médical",
    keywords="titane",
    tags=[ProfileTag.MACHINING, ProfileTag.SUBCONTRACTING],
    visibility={"capabilities": "public", "products": "cluster", "needs": "manager", "tags": "public"},
)


def mate(db: Session, world: Any) -> Actor:
    """org_free joins A with a member user: a cluster-mate of org_a."""
    memberships.add_membership(
        db, LOCAL_ADMIN, world.a, MembershipCreate(organisation_id=world.org_free, joined=dt.date(2022, 1, 1))
    )
    user = accounts.create_user(
        db, LOCAL_ADMIN, UserCreate(email="u@solo.fr", role=Role.MEMBER, organisation_id=world.org_free)
    )
    return accounts.actor_for(db, user.email)


def fields(out: Any) -> dict[str, Any]:
    names = ("capabilities", "products", "technologies", "needs", "markets", "keywords", "tags")
    return {name: getattr(out, name) for name in names if getattr(out, name) is not None}


def test_member_fills_its_profile_and_each_reader_reads_its_level(db: Session, world: Any) -> None:
    actors = world.actors
    friend = mate(db, world)
    out = service.update_profile(db, actors["member"], world.org_a, PROFILE)
    assert out.editable
    assert out.consent is False
    assert out.level is Visibility.MANAGER
    assert out.visibility is not None
    assert out.visibility["needs"] is Visibility.MANAGER
    assert out.visibility["markets"] is Visibility.CLUSTER  # unset: the cluster reads it
    # without consent: beyond the organisation and its managers, nobody reads it
    assert service.get_profile(db, actors["manager"], world.org_a).needs == PROFILE.needs
    for name in ("manager_other", "member_other", "funder", "funder_other", "public"):
        with pytest.raises(NotFoundError, match="introuvable"):
            service.get_profile(db, actors[name], world.org_a)
    with pytest.raises(NotFoundError):
        service.get_profile(db, friend, world.org_a)
    # the member consents: cluster-mates read cluster and public fields, not the manager's
    service.update_profile(db, actors["member"], world.org_a, ProfileIn(consent=True))
    seen = service.get_profile(db, friend, world.org_a)
    assert seen.level is Visibility.CLUSTER
    assert not seen.editable
    assert seen.consent is None
    assert seen.needs is None
    assert seen.products == PROFILE.products
    assert seen.visibility is None
    assert seen.tags == [ProfileTag.MACHINING, ProfileTag.SUBCONTRACTING]
    # A's funder reads the public fields; other tenants still nothing until A shares with B
    assert fields(service.get_profile(db, actors["funder"], world.org_a)) == {
        "capabilities": PROFILE.capabilities,
        "tags": PROFILE.tags,
    }
    for name in ("manager_other", "member_other", "funder_other", "public"):
        with pytest.raises(NotFoundError):
            service.get_profile(db, actors[name], world.org_a)
    service.set_sharing(db, actors["manager"], world.a, SharingIn(clusters=[world.b]))
    for name in ("manager_other", "member_other"):
        assert set(fields(service.get_profile(db, actors[name], world.org_a))) == {"capabilities", "tags"}
    for name in ("funder_other", "public"):
        with pytest.raises(NotFoundError):
            service.get_profile(db, actors[name], world.org_a)
    # sharing goes one way: B shares nothing with A
    service.update_profile(
        db, actors["member_other"], world.org_b, ProfileIn(consent=True, keywords="granit")
    )
    with pytest.raises(NotFoundError):
        service.get_profile(db, actors["member"], world.org_b)


def test_who_edits_and_who_consents(db: Session, world: Any) -> None:
    actors = world.actors
    out = service.update_profile(db, actors["manager"], world.org_a, ProfileIn(capabilities="Décolletage"))
    assert out.capabilities == "Décolletage"
    assert out.version == 1
    # a manager fills the profile in, the organisation consents
    with pytest.raises(PermissionDeniedError, match="adhérent lui-même"):
        service.update_profile(db, actors["manager"], world.org_a, ProfileIn(consent=True))
    # another tenant: not found, with or without consent
    for name in ("manager_other", "member_other", "funder", "public"):
        with pytest.raises(NotFoundError):
            service.update_profile(db, actors[name], world.org_a, ProfileIn(keywords="x"))
    service.update_profile(db, actors["member"], world.org_a, ProfileIn(consent=True))
    service.set_sharing(db, actors["manager"], world.a, SharingIn(all_clusters=True))
    # now B's manager reads it, but may not change it
    with pytest.raises(PermissionDeniedError):
        service.update_profile(db, actors["manager_other"], world.org_a, ProfileIn(keywords="x"))
    with pytest.raises(PermissionDeniedError):
        service.update_profile(db, actors["funder"], world.org_a, ProfileIn(keywords="x"))
    # optimistic locking: the version read must be the current one
    current = service.get_profile(db, actors["member"], world.org_a).version
    assert current is not None
    assert current >= 2
    with pytest.raises(ConflictError, match="relisez"):
        service.update_profile(
            db, actors["member"], world.org_a, ProfileIn(keywords="y", version=current - 1)
        )
    after = service.update_profile(
        db, actors["member"], world.org_a, ProfileIn(keywords="y", version=current)
    )
    assert after.keywords == "y"
    assert after.capabilities == "Décolletage"
    # an empty text empties a field
    assert (
        service.update_profile(db, actors["member"], world.org_a, ProfileIn(keywords="  ")).keywords is None
    )
    with pytest.raises(NotFoundError):
        service.get_profile(db, LOCAL_ADMIN, 999_999)


def test_bad_profile_input_is_refused_in_french() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="trop long"):
        ProfileIn(capabilities="x" * 5000)
    with pytest.raises(ValidationError):
        ProfileIn(visibility={"capabilities": "everyone"})
    with pytest.raises(ValidationError):
        ProfileIn(tags=["juggling"])


def test_enrichment_from_registry_history_and_fabric(db: Session, world: Any) -> None:
    actors = world.actors
    cooperation.create_project(
        db,
        LOCAL_ADMIN,
        world.a,
        ProjectIn(
            title="Usinage composite",
            acronym="USICOMP",
            kind=ProjectKind.RD_INNOVATION,
            start=dt.date(2024, 1, 1),
            partners=[PartnerIn(organisation_id=world.org_a), PartnerIn(organisation_id=world.org_b)],
        ),
    )
    from grappe.cooperation.actions import service as actions
    from grappe.cooperation.actions.schemas import AttendanceIn, EventIn, RegistrationIn

    start = dt.datetime(2024, 3, 1, 8, tzinfo=dt.UTC)
    event = actions.create_event(
        db,
        LOCAL_ADMIN,
        world.a,
        EventIn(
            kind="breakfast", title="Petit déjeuner", starts_at=start, ends_at=start + dt.timedelta(hours=2)
        ),
    ).id
    actions.register(db, LOCAL_ADMIN, event, RegistrationIn(organisation_id=world.org_a))
    actions.record_attendance(db, LOCAL_ADMIN, event, world.org_a, AttendanceIn(attended=True))
    full = service.get_profile(db, actors["member"], world.org_a)
    assert (full.enrichment.projects, full.enrichment.project_partners, full.enrichment.events) == (1, 1, 1)
    assert full.enrichment.recent_projects == ["USICOMP — Usinage composite"]
    assert not full.stored
    assert full.consent is False

    def fabric(sirets: Any, sirens: Any, store: Any) -> dict[str, dict[str, Any]]:
        return {s: {"naf": "25.62A", "commune": "69123", "size_band": "11"} for s in sirets}

    out = service.enrich_from_fabric(db, actors["member"], world.org_a, lookup=fabric)
    assert out.enrichment.fabric_checked_on == dt.date.today()
    assert out.enrichment.naf_label is not None
    assert out.enrichment.departement == "69"
    with pytest.raises(InputError, match="inconnue du tissu productif"):
        service.enrich_from_fabric(db, actors["member"], world.org_a, lookup=lambda *_: {})
    with pytest.raises(NotFoundError):
        service.enrich_from_fabric(db, actors["manager_other"], world.org_a, lookup=fabric)
    # a reader outside the organisation's side counts the public projects only (this one is A's)
    service.update_profile(db, actors["member"], world.org_a, ProfileIn(consent=True))
    friend = mate(db, world)
    seen = service.get_profile(db, friend, world.org_a).enrichment
    assert (seen.projects, seen.events) == (0, 0)


def test_sharing_rights_and_intercluster_figures(db: Session, world: Any) -> None:
    actors = world.actors
    assert service.get_sharing(db, actors["manager"], world.a).clusters == []
    with pytest.raises(InputError, match="elle-même"):
        service.set_sharing(db, actors["manager"], world.a, SharingIn(clusters=[world.a]))
    with pytest.raises(NotFoundError):
        service.set_sharing(db, actors["manager"], world.a, SharingIn(clusters=[999_999]))
    for name in ("member", "funder"):
        with pytest.raises(PermissionDeniedError):
            service.set_sharing(db, actors[name], world.a, SharingIn(all_clusters=True))
    with pytest.raises(PermissionDeniedError):  # A is public: B's manager knows it, may not change it
        service.set_sharing(db, actors["manager_other"], world.a, SharingIn(all_clusters=True))
    out = service.set_sharing(db, actors["manager"], world.a, SharingIn(clusters=[world.b, world.b]))
    assert out.clusters == [world.b]
    assert not out.all_clusters
    assert service.get_sharing(db, actors["manager_other"], world.b).shared_with_us == [world.a]
    out = service.set_sharing(db, actors["manager"], world.a, SharingIn())
    assert out.clusters == []
    assert service.get_sharing(db, LOCAL_ADMIN, world.b).shared_with_us == []

    cooperation.create_project(
        db,
        LOCAL_ADMIN,
        world.a,
        ProjectIn(
            title="Granit usiné",
            kind=ProjectKind.RD_INNOVATION,
            start=dt.date(2024, 3, 1),
            end=dt.date(2025, 6, 30),
            partners=[PartnerIn(organisation_id=world.org_a), PartnerIn(organisation_id=world.org_b)],
        ),
    )
    cooperation.create_project(  # A's members only: not inter-cluster
        db,
        LOCAL_ADMIN,
        world.a,
        ProjectIn(
            title="Solo",
            kind=ProjectKind.RD_INNOVATION,
            start=dt.date(2024, 3, 1),
            partners=[PartnerIn(organisation_id=world.org_a), PartnerIn(organisation_id=world.org_free)],
        ),
    )
    figures = service.intercluster_figures(db, world.a, 2024)
    assert (figures.projects, figures.partner_clusters, figures.shares_with) == (1, [world.b], [])
    assert service.intercluster_figures(db, world.b, 2025).partner_clusters == [world.a]
    assert service.intercluster_figures(db, world.a, 2023).projects == 0
    assert service.cluster_intercluster(db, actors["funder"], world.a, 2024).projects == 1
    with pytest.raises(NotFoundError):  # a cluster nobody knows
        service.cluster_intercluster(db, actors["funder"], 999_999, 2024)
    with pytest.raises(PermissionDeniedError):
        service.cluster_intercluster(db, actors["member_other"], world.a, 2024)


def test_search_reads_only_what_the_searcher_may_read(db: Session, world: Any) -> None:
    actors = world.actors
    friend = mate(db, world)
    service.update_profile(
        db,
        friend,
        world.org_free,
        ProfileIn(
            capabilities="anodisation et traitement de surface",
            needs="robotique collaborative",
            visibility={"needs": "manager"},
            consent=True,
        ),
    )
    # a cluster-mate finds it by a cluster-level word, with its reason
    found = service.search(db, actors["member"], SearchIn(text="anodisation", scope=SearchScope.CLUSTER))
    assert [s.name for s in found.items] == ["Solo SARL"]
    assert any("anodisation" in reason for reason in found.items[0].reasons)
    # a manager-level word: the manager finds it, the cluster-mate does not
    assert service.search(db, actors["member"], SearchIn(text="robotique")).items == []
    assert [s.name for s in service.search(db, actors["manager"], SearchIn(text="robotique")).items] == [
        "Solo SARL"
    ]
    # another cluster: nothing until A shares, then the public fields only
    assert service.search(db, actors["member_other"], SearchIn(text="anodisation")).items == []
    service.set_sharing(db, actors["manager"], world.a, SharingIn(clusters=[world.b]))
    assert service.search(db, actors["member_other"], SearchIn(text="anodisation")).items == []
    service.update_profile(db, friend, world.org_free, ProfileIn(visibility={"capabilities": "public"}))
    found = service.search(
        db, actors["member_other"], SearchIn(text="anodisation", scope=SearchScope.CLUSTERS)
    )
    assert [s.name for s in found.items] == ["Solo SARL"]
    assert (
        service.search(db, actors["member_other"], SearchIn(text="anodisation", scope="cluster")).items == []
    )
    # from an organisation: a member searches from its own, not from another tenant's
    assert (
        service.search(db, actors["member"], SearchIn(organisation_id=world.org_a, scope="cluster")).total
        == 1
    )
    with pytest.raises(NotFoundError):
        service.search(db, actors["member"], SearchIn(organisation_id=world.org_b))
    for name in ("funder", "public"):
        with pytest.raises(PermissionDeniedError):
            service.search(db, actors[name], SearchIn(text="anodisation"))
    with pytest.raises(InputError, match="recherche vide"):
        service.search(db, actors["member"], SearchIn(text="  "))
    # the administrator searches everyone
    assert service.search(db, LOCAL_ADMIN, SearchIn(text="anodisation", scope=SearchScope.ALL)).total == 1


def test_a_search_with_nobody_to_suggest_answers_empty(db: Session) -> None:
    assert service.search(db, LOCAL_ADMIN, SearchIn(text="usinage")).total == 0


def test_a_member_alone_in_its_cluster_gets_no_suggestion(db: Session, world: Any) -> None:
    found = service.search(db, world.actors["member"], SearchIn(text="usinage", scope=SearchScope.CLUSTER))
    assert found.items == []
