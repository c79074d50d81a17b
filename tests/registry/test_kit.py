"""The domain kit on the registry, on both backends: repository base, unit of work, written-once rules."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from dbkit import Database, World, siren
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grappe.errors import ConflictError, InputError, NotFoundError
from grappe.kit.repository import MAX_PAGE, check_page
from grappe.kit.unit import actor_of, unit_of_work
from grappe.registry import LOCAL_ADMIN
from grappe.registry.clusters.repository import ClusterRepository
from grappe.registry.models import AuditEntry, Cluster, ClusterLabel, Funder, Membership, Organisation

DAYS = [dt.date(2020, 1, 1) + dt.timedelta(days=n) for n in (0, 1, 9, 10, 11, 19, 20, 21, 400)]
#: (joined, left) periods around the days above: open, ending, ended, starting later.
PERIODS = [
    (dt.date(2020, 1, 1), None),
    (dt.date(2020, 1, 2), dt.date(2020, 1, 11)),
    (dt.date(2020, 1, 11), dt.date(2020, 1, 12)),
    (dt.date(2020, 1, 21), None),
    (dt.date(2019, 6, 1), dt.date(2020, 1, 1)),
]


def _periods(db: Session, world: World) -> list[Membership]:
    """One organisation per period, each a member of cluster A over it."""
    rows = []
    for n, (joined, left) in enumerate(PERIODS):
        org = Organisation(siren=siren(7000 + n), name=f"Période {n}", kind="firm", in_fabric=False)
        db.add(org)
        rows.append(Membership(cluster_id=world.a, organisation=org, joined=joined, left_on=left))
    db.add_all(rows)
    db.flush()
    return rows


def test_membership_rules_read_the_same_in_python_and_in_sql(db: Session, world: World) -> None:
    rows = _periods(db, world)
    ids = [m.id for m in rows]

    def in_sql(condition: object) -> set[int]:
        return set(db.scalars(select(Membership.id).where(Membership.id.in_(ids), condition)))  # type: ignore[arg-type]

    for day in DAYS:
        assert in_sql(Membership.open_on(day)) == {m.id for m in rows if m.open_on(day)}, day
        assert in_sql(Membership.runs_after(day)) == {m.id for m in rows if m.runs_after(day)}, day
    for start, end in itertools.combinations(DAYS, 2):
        assert in_sql(Membership.meets(start, end)) == {m.id for m in rows if m.meets(start, end)}
    # the rule itself, on one period: [joined, left) with left excluded
    joined, left = PERIODS[1]
    assert left is not None
    period = Membership(joined=joined, left_on=left)
    assert period.open_on(joined)
    assert not period.open_on(left)
    assert not period.open_on(joined - dt.timedelta(1))


def test_label_rule_reads_the_same_in_python_and_in_sql(db: Session, world: World) -> None:
    label = db.scalars(select(ClusterLabel).where(ClusterLabel.cluster_id == world.a)).one()
    label.end_date = dt.date(2015, 12, 31)
    db.flush()
    for day in (dt.date(2010, 12, 31), dt.date(2011, 1, 1), dt.date(2015, 12, 31), dt.date(2016, 1, 1)):
        held = db.scalar(select(func.count()).where(ClusterLabel.id == label.id, ClusterLabel.held_on(day)))
        assert bool(held) is label.held_on(day), day


def test_repository_gets_or_says_introuvable(db: Session, world: World) -> None:
    clusters = ClusterRepository(db)
    assert clusters.get(world.a).id == world.a
    assert [t.code for t in clusters.load(world.a).territories] == ["69123", "69266"]
    with pytest.raises(NotFoundError, match=r"^structure 2147483647 introuvable$"):
        clusters.get(2_147_483_647)


def test_repository_pages_with_the_total(db: Session, world: World) -> None:
    clusters = ClusterRepository(db)
    total, first = clusters.page(select(Cluster).order_by(Cluster.id), 1, 0)
    _, second = clusters.page(select(Cluster).order_by(Cluster.id), 1, 1)
    assert total == 2
    assert [c.id for c in [*first, *second]] == sorted([world.a, world.b])
    with pytest.raises(InputError, match="limit=0"):
        check_page(0, 0)
    with pytest.raises(InputError, match=f"limit={MAX_PAGE + 1}"):
        check_page(MAX_PAGE + 1, 0)
    with pytest.raises(InputError, match="offset=-1"):
        check_page(1, -1)


def test_repository_checks_the_version_read(db: Session, world: World) -> None:
    clusters = ClusterRepository(db)
    cluster = clusters.get(world.a)
    clusters.check_version(cluster, cluster.version)
    with pytest.raises(ConflictError, match=r"structure \d+ modifié\(e\) entre-temps \(version lue 0"):
        clusters.check_version(cluster, 0)


def _write_then_fail(database: Database) -> None:
    with unit_of_work(database.engine, actor=LOCAL_ADMIN) as session:
        session.add(Funder(name="Région Bretagne"))
        session.flush()
        raise RuntimeError("abandon")


def test_unit_of_work_commits_or_rolls_back_and_audits_its_actor(fresh: Database) -> None:
    with unit_of_work(fresh.engine, actor=LOCAL_ADMIN) as session:
        session.add(Funder(name="Région Normandie"))
    with pytest.raises(RuntimeError):
        _write_then_fail(fresh)
    with unit_of_work(fresh.engine, write=False, resolve=lambda _session: LOCAL_ADMIN) as session:
        assert actor_of(session) is LOCAL_ADMIN
        assert session.scalars(select(Funder.name)).all() == ["Région Normandie"]
        entries = session.scalars(select(AuditEntry).where(AuditEntry.entity == "funders")).all()
        assert [(e.action, e.actor) for e in entries] == [("create", "cli:local-admin")]
