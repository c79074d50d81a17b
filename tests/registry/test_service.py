"""Cluster organisations, organisations, memberships, directory and audit through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from dbkit import Database, World, siren, siret
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grappe.errors import ConflictError, InputError, NotFoundError, UnknownCodeError
from grappe.kit.unit import flush
from grappe.registry import LOCAL_ADMIN
from grappe.registry.accounts import service as accounts
from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import ClusterCreate, ClusterUpdate, LabelIn, TerritoryRef
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.repository import MembershipRepository
from grappe.registry.memberships.schemas import MembershipCreate, MembershipEnd
from grappe.registry.models import AuditEntry, Cluster, Membership
from grappe.registry.organisations import service as organisations
from grappe.registry.organisations.schemas import OrganisationCreate, OrganisationUpdate
from grappe.storage.sql import session_scope


def test_create_cluster_normalises_codes_and_derives_regions(db: Session) -> None:
    out = clusters.create_cluster(
        db,
        LOCAL_ADMIN,
        ClusterCreate(
            name="Vallée de l'Arve",
            territories=[
                TerritoryRef(level="commune", code="69381"),  # Lyon 1er -> Lyon
                TerritoryRef(level="departement", code="74"),
            ],
            sectors=["2562a", "25.62A", "C"],
        ),
    )
    assert [(t.level, t.code) for t in out.territories] == [
        ("commune", "69123"),
        ("departement", "74"),
    ]
    assert out.sectors == ["25.62A", "C"]
    assert out.version == 1
    stored = db.scalars(select(Cluster).where(Cluster.id == out.id)).one()
    assert {t.region for t in stored.territories} == {"84"}


@pytest.mark.parametrize(
    ("territory", "sectors", "error"),
    [
        (TerritoryRef(level="commune", code="99999"), ["25"], UnknownCodeError),
        (TerritoryRef(level="departement", code="00"), ["25"], UnknownCodeError),
        (TerritoryRef(level="region", code="84"), ["99.99Z"], UnknownCodeError),
    ],
)
def test_create_cluster_rejects_unknown_codes(
    db: Session, territory: TerritoryRef, sectors: list[str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        clusters.create_cluster(
            db, LOCAL_ADMIN, ClusterCreate(name="X", territories=[territory], sectors=sectors)
        )


def test_update_with_a_stale_version_is_a_conflict(db: Session, world: World) -> None:
    first = clusters.update_cluster(db, LOCAL_ADMIN, world.a, ClusterUpdate(version=1, name="A2"))
    assert first.version == 2
    assert first.name == "A2"
    with pytest.raises(ConflictError, match="version lue 1"):
        clusters.update_cluster(db, LOCAL_ADMIN, world.a, ClusterUpdate(version=1, name="A3"))


def test_two_sessions_editing_the_same_record_conflict(fresh: Database) -> None:
    with session_scope(fresh.engine, actor=LOCAL_ADMIN) as s:
        cid = clusters.create_cluster(s, LOCAL_ADMIN, ClusterCreate(name="C")).id
    one = Session(fresh.engine, expire_on_commit=False)
    two = Session(fresh.engine, expire_on_commit=False)
    try:
        a = one.get(Cluster, cid)
        b = two.get(Cluster, cid)
        assert a is not None
        assert b is not None
        one.commit()  # end the read transactions: the clash happens at write time
        two.commit()
        a.description = "première"
        one.commit()
        b.description = "seconde"
        with pytest.raises(ConflictError):
            flush(two)
        two.rollback()
    finally:
        one.close()
        two.close()
    with session_scope(fresh.engine) as s:
        kept = s.get(Cluster, cid)
        assert kept is not None
        assert kept.description == "première"
        assert kept.version == 2


def test_overlapping_membership_rejected_by_service(db: Session, world: World) -> None:
    with pytest.raises(InputError, match="chevauche"):
        memberships.add_membership(
            db,
            LOCAL_ADMIN,
            world.a,
            MembershipCreate(organisation_id=world.org_a, joined=dt.date(2023, 1, 1)),
        )
    # after the period, a new one is fine
    ended = memberships.end_membership(
        db,
        LOCAL_ADMIN,
        world.membership_a,
        MembershipEnd(version=1, left=dt.date(2022, 6, 30), reason="cessation"),
    )
    assert ended.left == dt.date(2022, 6, 30)
    again = memberships.add_membership(
        db,
        LOCAL_ADMIN,
        world.a,
        MembershipCreate(organisation_id=world.org_a, joined=dt.date(2022, 6, 30)),
    )
    assert again.joined == dt.date(2022, 6, 30)
    # and the organisation may belong to another cluster at the same time
    memberships.add_membership(
        db,
        LOCAL_ADMIN,
        world.b,
        MembershipCreate(organisation_id=world.org_a, joined=dt.date(2023, 1, 1)),
    )


def test_overlapping_membership_rejected_by_the_database(db: Session, world: World) -> None:
    """Bypassing the service, the constraint (PostgreSQL) or trigger (SQLite) still refuses."""
    nested = db.begin_nested()
    db.add(
        Membership(
            cluster_id=world.a,
            organisation_id=world.org_a,
            membership_type="x",
            joined=dt.date(2024, 1, 1),
        )
    )
    with pytest.raises(ConflictError, match="chevauchent"):
        MembershipRepository(db).flush()
    nested.rollback()


def test_member_count_follows_open_memberships(db: Session, world: World) -> None:
    assert clusters.get_cluster(db, LOCAL_ADMIN, world.a).member_count == 1
    memberships.add_membership(
        db,
        LOCAL_ADMIN,
        world.a,
        MembershipCreate(organisation_id=world.org_free, joined=dt.date(2024, 1, 1)),
    )
    db.expire_all()
    assert clusters.get_cluster(db, LOCAL_ADMIN, world.a).member_count == 2


def test_organisation_size_category_from_band_then_declared(db: Session) -> None:
    org = organisations.create_organisation(
        db, LOCAL_ADMIN, OrganisationCreate(name="Y", siren=siren(77), size_band="12")
    )
    assert org.size_category == "PME"
    org = organisations.update_organisation(
        db, LOCAL_ADMIN, org.id, OrganisationUpdate(version=org.version, declared_headcount=5)
    )
    assert org.size_category == "TPE"


def test_organisation_identifiers_are_checked(db: Session) -> None:
    with pytest.raises(InputError, match="Luhn"):
        organisations.create_organisation(db, LOCAL_ADMIN, OrganisationCreate(name="Z", siren="123456789"))
    with pytest.raises(InputError, match="n'appartient pas"):
        organisations.create_organisation(
            db, LOCAL_ADMIN, OrganisationCreate(name="Z", siren=siren(5), sirets=[siret(6)])
        )
    organisations.create_organisation(db, LOCAL_ADMIN, OrganisationCreate(name="Z", siren=siren(5)))
    with pytest.raises(ConflictError):
        organisations.create_organisation(db, LOCAL_ADMIN, OrganisationCreate(name="Z", siren=siren(5)))


def test_directory_filters(db: Session, world: World) -> None:
    def names(**kw: str) -> list[str]:
        return [e.acronym or "" for e in clusters.directory(db, LOCAL_ADMIN, **kw).items]

    assert names() == ["GRAN", "MECA"]
    assert names(region="84") == ["MECA"]
    assert names(region="53") == ["GRAN"]
    assert names(sector="25.62A") == ["MECA"]  # listed code
    assert names(sector="28.41Z") == ["MECA"]  # within division 28
    assert names(sector="C") == ["MECA"]  # section of the scope
    assert names(sector="B") == ["GRAN"]
    assert names(label="grappe") == ["MECA"]
    assert names(label="none") == ["GRAN"]
    assert names(size="petit") == ["GRAN", "MECA"]
    assert names(size="grand") == []
    entry = clusters.directory(db, LOCAL_ADMIN, region="84").items[0]
    assert entry.labels == ["Grappe d'entreprises"]
    assert entry.regions == ["84"]
    with pytest.raises(InputError):
        clusters.directory(db, LOCAL_ADMIN, size="énorme")
    with pytest.raises(UnknownCodeError):
        clusters.directory(db, LOCAL_ADMIN, region="99")


def test_directory_pages_label_names_periods_and_order(db: Session, world: World) -> None:
    clusters.add_label(
        db,
        LOCAL_ADMIN,
        world.b,
        LabelIn(
            kind="regional", name="Produit en Bretagne", start=dt.date(2015, 1, 1), end=dt.date(2019, 12, 31)
        ),
    )
    page = clusters.directory(db, LOCAL_ADMIN, limit=1, offset=1)
    assert (page.total, [e.acronym for e in page.items]) == (2, ["MECA"])
    beyond = clusters.directory(db, LOCAL_ADMIN, limit=1, offset=5)
    assert (beyond.total, beyond.items) == (2, [])
    assert clusters.directory(db, LOCAL_ADMIN, region="11").total == 0
    # a label by name, whatever the case; only while it is held
    assert [e.acronym for e in clusters.directory(db, LOCAL_ADMIN, label="produit EN bretagne").items] == []
    held = clusters.directory(db, LOCAL_ADMIN, label="Produit en Bretagne", on=dt.date(2018, 5, 1))
    assert [(e.acronym, e.labels) for e in held.items] == [("GRAN", ["Produit en Bretagne"])]
    assert [e.acronym for e in clusters.directory(db, LOCAL_ADMIN, label="regional").items] == []
    # sectors in the order the scope lists them; filters combine
    meca = clusters.directory(db, LOCAL_ADMIN, sector="28", region="84", size="petit", label="grappe")
    assert [(e.acronym, e.sectors) for e in meca.items] == [("MECA", ["25.62A", "28"])]


def test_member_list_pages_dates_and_former_members(db: Session, world: World) -> None:
    memberships.add_membership(
        db,
        LOCAL_ADMIN,
        world.a,
        MembershipCreate(
            organisation_id=world.org_free, joined=dt.date(2024, 1, 1), left=dt.date(2024, 7, 1)
        ),
    )
    names = lambda page: [m.name for m in page.items]  # noqa: E731
    now = memberships.list_members(db, LOCAL_ADMIN, world.a)
    assert (now.total, names(now)) == (1, ["Décolletage Dupont"])
    then = memberships.list_members(db, LOCAL_ADMIN, world.a, on=dt.date(2024, 3, 1))
    assert (then.total, names(then)) == (2, ["Décolletage Dupont", "Solo SARL"])
    every = memberships.list_members(db, LOCAL_ADMIN, world.a, include_former=True, limit=1, offset=1)
    assert (every.total, names(every)) == (2, ["Solo SARL"])
    assert every.items[0].left == dt.date(2024, 7, 1)
    beyond = memberships.list_members(db, LOCAL_ADMIN, world.a, include_former=True, offset=10)
    assert (beyond.total, beyond.items) == (2, [])
    member = now.items[0]
    # no SIRET named on joining; 12 declared staff make a PME
    assert (member.siret, member.kind.value, member.size_category) == (None, "firm", "PME")
    workshop = organisations.create_organisation(
        db, LOCAL_ADMIN, OrganisationCreate(name="Atelier", sirets=[siret(4004)], commune="69123")
    )
    memberships.add_membership(
        db,
        LOCAL_ADMIN,
        world.a,
        MembershipCreate(organisation_id=workshop.id, joined=dt.date(2024, 1, 1), siret=siret(4004)),
    )
    first = memberships.list_members(db, LOCAL_ADMIN, world.a).items[0]
    assert (first.name, first.siret, first.commune) == ("Atelier", siret(4004), "69123")
    with pytest.raises(NotFoundError):
        memberships.list_members(db, LOCAL_ADMIN, 999_999)


def test_member_directory_shows_only_consenting_contacts(db: Session, world: World) -> None:
    members = memberships.member_directory(db, world.actors["member"], world.a)
    assert [m.name for m in members] == ["Décolletage Dupont"]
    assert [c.full_name for c in members[0].contacts] == ["Anne Dupont"]


def test_every_write_is_audited(db: Session, world: World) -> None:
    db.info["actor"] = world.actors["manager"]  # the unit of work's actor is the one logged
    clusters.update_cluster(
        db,
        world.actors["manager"],
        world.a,
        ClusterUpdate(version=1, website="https://meca.example"),
    )
    entries = accounts.audit_log(db, LOCAL_ADMIN, cluster_id=world.a, entity="clusters").items
    last = entries[0]
    assert last.action == "update"
    assert last.actor == world.actors["manager"].label
    assert last.before == {"website": None}
    assert last.after == {"website": "https://meca.example"}
    created = db.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "create", AuditEntry.entity == "memberships")
    )
    assert created == 2
    tokens = accounts.issue_token(db, LOCAL_ADMIN, world.actors["manager"].user_id or 0)
    row = db.scalars(select(AuditEntry).where(AuditEntry.entity == "api_tokens")).one()
    assert row.after is not None
    assert row.after["token_hash"] == "***"
    assert tokens.token not in str(row.after)
    assert row.entity_id == str(row.after["id"])  # a created row names its own id


def test_not_found(db: Session) -> None:
    with pytest.raises(NotFoundError):
        clusters.get_cluster(db, LOCAL_ADMIN, 999_999)
    with pytest.raises(NotFoundError):
        clusters.resolve_cluster(db, "NOPE")
