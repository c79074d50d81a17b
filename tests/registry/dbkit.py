"""Registry test kit: migrated databases (SQLite and PostgreSQL), rolled-back sessions, a world."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from grappe.registry import migrate
from grappe.registry.accounts import service as accounts
from grappe.registry.accounts.schemas import UserCreate
from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import ClusterCreate, FundingIn, LabelIn, TerritoryRef
from grappe.registry.identifiers import luhn_ok
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate
from grappe.registry.models import Role
from grappe.registry.organisations import service as organisations
from grappe.registry.organisations.schemas import ContactIn, OrganisationCreate
from grappe.registry.policy import LOCAL_ADMIN, PUBLIC, Actor
from grappe.storage.sql import make_engine

PG_URL = os.environ.get("GRAPPE_TEST_POSTGRES_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not PG_URL, reason="GRAPPE_TEST_POSTGRES_URL not set"),
        ],
    ),
]


def complete_luhn(digits: str) -> str:
    """Append the check digit that makes ``digits`` pass the Luhn test."""
    return next(digits + str(d) for d in range(10) if luhn_ok(digits + str(d)))


def siren(n: int) -> str:
    """A valid SIREN built from a number (8 digits + key)."""
    return complete_luhn(f"{n:08d}")


def siret(n: int, nic: int = 1) -> str:
    """A valid SIRET of SIREN ``siren(n)`` (its SIREN passes Luhn too)."""
    return complete_luhn(siren(n) + f"{nic:04d}")


@dataclass
class Database:
    """A migrated database for a backend; ``drop`` removes it."""

    backend: str
    engine: Engine
    schema: str | None = None
    path: Path | None = None

    def twin(self) -> Engine:
        """Another engine on the same database, as another server process opens it."""
        return _engine(path=self.path, schema=self.schema)

    def drop(self) -> None:
        self.engine.dispose()
        if self.schema and PG_URL:
            admin = create_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            admin.dispose()


def _engine(*, path: Path | None = None, schema: str | None = None) -> Engine:
    if path is not None:
        return make_engine(f"sqlite:///{path}")
    assert PG_URL
    return create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema},public"})


def new_database(backend: str, folder: Path, *, migrated: bool = True) -> Database:
    """An empty database (SQLite file or PostgreSQL schema), migrated to head unless told."""
    if backend == "sqlite":
        path = folder / f"registry_{secrets.token_hex(4)}.sqlite3"
        db = Database(backend, _engine(path=path), path=path)
    else:
        assert PG_URL
        schema = f"grappe_test_{os.getpid()}_{secrets.token_hex(4)}"
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            # An extension lives in the schema it was created in: left in a test schema, the
            # DROP SCHEMA ... CASCADE of that test would drop it and, with it, the exclusion
            # constraints of every other test schema (parallel runs): keep it in public.
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public"))
            conn.execute(text("ALTER EXTENSION btree_gist SET SCHEMA public"))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        db = Database(backend, _engine(schema=schema), schema=schema)
    if migrated:
        migrate.upgrade(db.engine)
    return db


@pytest.fixture(scope="session", params=BACKENDS)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """One migrated database per backend for the whole session (tests roll back)."""
    db = new_database(request.param, tmp_path_factory.mktemp("registry"))
    yield db
    db.drop()


@pytest.fixture
def fresh(database: Database, tmp_path: Path) -> Iterator[Database]:
    """A fresh migrated database of the same backend, for tests that commit."""
    db = new_database(database.backend, tmp_path)
    yield db
    db.drop()


@pytest.fixture
def db(database: Database) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    with rolled_back(database) as session:
        yield session


@contextmanager
def rolled_back(database: Database) -> Iterator[Session]:
    """A session whose writes (commits included, as savepoints) vanish at the end."""
    connection = database.engine.connect()
    outer = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    session.info["actor"] = LOCAL_ADMIN
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@dataclass
class World:
    """Two cluster organisations with their funders, members and one user of every role."""

    a: int
    b: int
    org_a: int  # a member of cluster A
    org_b: int  # a member of cluster B
    org_free: int  # a member of nothing, owned by cluster A
    membership_a: int
    actors: dict[str, Actor] = field(default_factory=dict)


def build_world(session: Session) -> World:
    """Populate a session with the standard test world (through the services)."""
    admin = LOCAL_ADMIN
    a = clusters.create_cluster(
        session,
        admin,
        ClusterCreate(
            name="Mécanique Rhône",
            acronym="MECA",
            territories=[
                TerritoryRef(level="commune", code="69123"),
                TerritoryRef(level="commune", code="69266"),
            ],
            sectors=["25.62A", "28"],
            description="Décolletage et mécanique",
        ),
    ).id
    b = clusters.create_cluster(
        session,
        admin,
        ClusterCreate(
            name="Granit Bretagne",
            acronym="GRAN",
            territories=[TerritoryRef(level="departement", code="35")],
            sectors=["08.11Z"],
        ),
    ).id
    clusters.add_label(
        session,
        admin,
        a,
        LabelIn(
            kind="grappe", name="Grappe d'entreprises", funder="DATAR", start=dt.date(2011, 1, 1)
        ),
    )
    clusters.set_funding(
        session,
        admin,
        b,
        FundingIn(
            year=2024, source="public", funder="Région Bretagne", amount_eur=Decimal("50000")
        ),
    )
    org_a = organisations.create_organisation(
        session,
        admin,
        OrganisationCreate(name="Décolletage Dupont", sirets=[siret(1001)], declared_headcount=12),
    ).id
    org_b = organisations.create_organisation(
        session,
        admin,
        OrganisationCreate(name="Carrières Le Goff", siren=siren(2002), size_band="03"),
    ).id
    # Owned by cluster A (created for it): A's managers may attach it, nobody else reads it.
    org_free = organisations.create_organisation(
        session, admin, OrganisationCreate(name="Solo SARL", siren=siren(3003)), cluster_id=a
    ).id
    organisations.add_contact(
        session,
        admin,
        org_a,
        ContactIn(full_name="Anne Dupont", email="anne@dupont.fr", directory_consent=True),
    )
    organisations.add_contact(session, admin, org_a, ContactIn(full_name="Caché", email="x@y.fr"))
    m_a = memberships.add_membership(
        session, admin, a, MembershipCreate(organisation_id=org_a, joined=dt.date(2020, 3, 1))
    ).membership_id
    memberships.add_membership(
        session, admin, b, MembershipCreate(organisation_id=org_b, joined=dt.date(2021, 1, 1))
    )
    users = {
        "funder": UserCreate(email="f@datar.gouv.fr", role=Role.FUNDER, funder="DATAR"),
        "funder_other": UserCreate(
            email="f@bretagne.bzh", role=Role.FUNDER, funder="Région Bretagne"
        ),
        "manager": UserCreate(email="m@meca.fr", role=Role.MANAGER, clusters=[a]),
        "manager_other": UserCreate(email="m@gran.fr", role=Role.MANAGER, clusters=[b]),
        "member": UserCreate(email="u@dupont.fr", role=Role.MEMBER, organisation_id=org_a),
        "member_other": UserCreate(email="u@legoff.fr", role=Role.MEMBER, organisation_id=org_b),
    }
    actors: dict[str, Actor] = {"admin": admin, "public": PUBLIC}
    for key, data in users.items():
        user = accounts.create_user(session, admin, data)
        actors[key] = accounts.actor_for(session, user.email)
    return World(
        a=a, b=b, org_a=org_a, org_b=org_b, org_free=org_free, membership_a=m_a, actors=actors
    )


@pytest.fixture
def world(db: Session) -> World:
    """The standard world inside the rolled-back session."""
    return build_world(db)
