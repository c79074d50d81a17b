"""Operation × role × tenant: who reads and writes which cluster's evaluation, on both backends.

Cluster A (public) is the world's: its manager, its member's user and its funder (DATAR) are
its own; the same roles of cluster B are another tenant's, and so is the public. A private
cluster P exists for nobody but the administrator: everything of it answers 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from grappe.errors import NotFoundError, PermissionDeniedError
from grappe.evaluation import service
from grappe.evaluation.schemas import ContractIn, DeclareIn, SelfAssessmentIn
from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import ClusterCreate, FundingIn
from grappe.registry.policy import LOCAL_ADMIN

ROLES = ["admin", "funder", "manager", "member", "funder_other", "manager_other", "member_other", "public"]
OK, DENIED, HIDDEN = "ok", 403, 404


def _contract(cluster_id: int, funder_id: int | None = None) -> ContractIn:
    return ContractIn(
        cluster_id=cluster_id,
        funder_id=funder_id,
        title="Contrat de performance",
        start_year=2024,
        end_year=2025,
        amount_eur=200_000,
        indicators=[{"indicator": "members", "baseline": 1, "targets": {2024: 3, 2025: 4}}],
    )


def _datar(db: Session) -> int:
    from grappe.evaluation.repository import funder_by_name

    funder = funder_by_name(db, "DATAR")
    assert funder is not None
    return funder.id


OPERATIONS: dict[str, Callable[[Session, Any, int], object]] = {
    "indicators": lambda db, actor, c: service.cluster_indicators(db, actor, c, 2024),
    "scorecard": lambda db, actor, c: service.scorecard(db, actor, c, 2024),
    "benchmark": lambda db, actor, c: service.benchmark(db, actor, c, "members", 2024),
    "report": lambda db, actor, c: service.activity_report(db, actor, c, 2024),
    "declare": lambda db, actor, c: service.declare_value(
        db, actor, c, DeclareIn(indicator="services_revenue", year=2024, value=1)
    ),
    "self_assess": lambda db, actor, c: service.self_assess(
        db, actor, c, SelfAssessmentIn(area="governance", year=2024, score=3)
    ),
    "contract": lambda db, actor, c: service.create_contract(db, actor, _contract(c, _datar(db))),
}
# On the public cluster A: who may (OK), who knows A but may not (403).
ON_A = {
    "indicators": {"admin", "funder", "manager"},
    "scorecard": {"admin", "funder", "manager", "member"},
    "benchmark": {"admin", "funder", "manager"},
    "report": {"admin", "funder", "manager", "member"},
    "declare": {"admin", "manager"},
    "self_assess": {"admin", "manager"},
    "contract": {"admin", "funder"},
}


def _outcome(call: Callable[[], object]) -> object:
    try:
        call()
    except NotFoundError:
        return HIDDEN
    except PermissionDeniedError:
        return DENIED
    return OK


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_on_the_actors_public_cluster(db: Session, world: Any, operation: str) -> None:
    for role in ROLES:
        got = _outcome(lambda role=role: OPERATIONS[operation](db, world.actors[role], world.a))
        expected = OK if role in ON_A[operation] else DENIED
        assert got == expected, (operation, role)


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_private_cluster_of_another_tenant_does_not_exist(db: Session, world: Any, operation: str) -> None:
    private = clusters.create_cluster(db, LOCAL_ADMIN, ClusterCreate(name="Secret", public=False)).id
    for role in ROLES[1:]:
        got = _outcome(lambda role=role: OPERATIONS[operation](db, world.actors[role], private))
        assert got == HIDDEN, (operation, role)


def test_contracts_per_object(db: Session, world: Any) -> None:
    contract = service.create_contract(db, world.actors["funder"], _contract(world.a)).id
    reads = {"admin", "funder", "manager"}
    for role in ROLES:
        actor = world.actors[role]
        expected = OK if role in reads else HIDDEN
        assert _outcome(lambda actor=actor: service.get_contract(db, actor, contract)) == expected, role
        assert _outcome(lambda actor=actor: service.contract_year(db, actor, contract, 2024)) == expected, (
            role
        )
    assert _outcome(lambda: service.delete_contract(db, world.actors["manager"], contract)) == DENIED
    for role in ("funder_other", "manager_other", "member", "member_other", "public"):
        assert _outcome(lambda role=role: service.delete_contract(db, world.actors[role], contract)) == HIDDEN
    listed = {role: service.list_contracts(db, world.actors[role]).total for role in ROLES[:3]}
    assert listed == {"admin": 1, "funder": 1, "manager": 1}
    for role in ("funder_other", "manager_other"):
        assert service.list_contracts(db, world.actors[role]).total == 0
    for role in ("member", "member_other", "public"):
        assert _outcome(lambda role=role: service.list_contracts(db, world.actors[role])) == DENIED
    assert _outcome(lambda: service.delete_contract(db, world.actors["funder"], contract)) == OK


def test_a_funder_writes_contracts_only_as_itself(db: Session, world: Any) -> None:
    other = _datar(db) + 1000
    assert (
        _outcome(lambda: service.create_contract(db, world.actors["funder"], _contract(world.a, other)))
        == HIDDEN
    )
    bretagne = world.actors["funder_other"].funder_id
    assert (
        _outcome(lambda: service.create_contract(db, world.actors["funder"], _contract(world.a, bretagne)))
        == DENIED
    )


def test_peers_are_named_for_the_admin_and_a_funder_of_both(db: Session, world: Any) -> None:
    def names(role: str) -> set[str]:
        out = service.benchmark(db, world.actors[role], world.a, "members", 2024, criteria=[])
        return {p.name for p in out.items}

    assert names("admin") == {"Mécanique Rhône", "Granit Bretagne"}
    assert names("manager") == {"Mécanique Rhône", "Pair 1"}
    assert names("funder") == {"Mécanique Rhône", "Pair 1"}
    clusters.set_funding(
        db, LOCAL_ADMIN, world.b, FundingIn(year=2024, source="public", funder="DATAR", amount_eur=1)
    )
    assert names("funder") == {"Mécanique Rhône", "Granit Bretagne"}


def test_portfolios(db: Session, world: Any) -> None:
    own = service.portfolio(db, world.actors["funder"], 2024)
    assert [r.scorecard.cluster_id for r in own.rows] == [world.a]
    bretagne = world.actors["funder_other"].funder_id
    assert _outcome(lambda: service.portfolio(db, world.actors["funder"], 2024, bretagne)) == HIDDEN
    admin_view = service.portfolio(db, LOCAL_ADMIN, 2024, bretagne)
    assert [r.scorecard.cluster_id for r in admin_view.rows] == [world.b]
    for role in ("manager", "member", "public"):
        assert _outcome(lambda role=role: service.portfolio(db, world.actors[role], 2024)) == DENIED
