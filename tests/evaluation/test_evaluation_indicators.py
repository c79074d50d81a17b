"""The indicators of a cluster for a year, checked by hand against records made for them."""

from __future__ import annotations

import math
from typing import Any

import pytest
from sqlalchemy.orm import Session

from grappe.evaluation import service
from grappe.evaluation.compute import _commune_points, evaluate
from grappe.evaluation.indicators import AREAS, BY_CODE, CATALOGUE, ENGLISH, FRENCH, MARKS, named
from grappe.evaluation.schemas import DeclareIn
from grappe.registry.policy import LOCAL_ADMIN


def test_every_indicator_is_documented_and_every_mark_measured() -> None:
    for indicator in CATALOGUE:
        assert indicator.name
        assert indicator.definition
        assert indicator.source
    marks = {name for _, name, _, _ in MARKS}
    assert marks == {
        "PME en réseau",
        "Activité dominante",
        "Territoire de proximité",
        "Coopérations",
        "Liens avec le territoire",
        "Masse critique",
        "Intérêt commun",
        "Engagement volontaire",
        "Collaborations",
        "Pérennité",
        "Compétitivité",
        "Valeur ajoutée régionale",
    }
    for _, _, _, codes in MARKS:
        assert codes
        assert all(code in BY_CODE for code in codes)
    assert [code for code, _, _ in AREAS] == [
        "structure",
        "governance",
        "financing",
        "services",
        "interaction",
        "achievements",
    ]


def test_every_indicator_mark_and_area_has_an_english_name() -> None:
    codes = {i.code for i in CATALOGUE} | {m.value for m, _, _, _ in MARKS} | {c for c, _, _ in AREAS}
    assert set(ENGLISH) == codes == set(FRENCH)
    assert len(codes) == len(CATALOGUE) + len(MARKS) + len(AREAS)  # no code shared by two kinds
    assert named("sme_share") == "Part de PME"
    assert named("sme_share", "en") == "Share of SMEs"
    assert named("critical_mass", "en") == "Critical mass"
    assert named("unknown", "en") == "unknown"


def test_the_2024_indicators_of_a_cluster(db: Session, rich: Any) -> None:
    a = rich.world.a
    values = evaluate(db, 2024, [a]).of(a)
    lyon, bordeaux = _commune_points()["69123"], _commune_points()["33063"]
    expected = {
        "members": 3,  # org_a, org2, org3 on 31 December
        "entries": 1,  # org3
        "exits": 1,  # org4
        "retention": 2 / 3,  # of org_a, org2, org4 on 1 January
        "sme_share": 2 / 3,  # org_a (12 staff), org3 (band 03); org2 has 300
        "sector_share": 1 / 2,  # org2 in 25.62A; org3 trades (46.90Z); org_a has no NAF
        "territory_share": 1 / 2,  # Lyon in, Bordeaux out
        "member_distance_km": math.dist(lyon, bordeaux) / 2 / 1000,
        "fee_income": 100,
        "fee_payment_rate": 1 / 4,  # four members of 2024 called, one paid
        "services_revenue": 30_000,
        "self_financing": 0.5,
        "projects_submitted": 1,
        "projects_funded": 1,
        "inter_cluster_projects": 1,  # org_b belongs to B
        "business_between_members": 5000,
        "network_density": 1 / 3,  # one link among three members
        "orientations": 2,
        "event_attendance": 1 / 3,
        "territory_coverage": None,  # no fabric store here
    }
    for code, value in expected.items():
        assert values[code] == pytest.approx(value), code
    seniority = values["seniority"]
    assert seniority is not None
    assert 1 < seniority < 6


def test_the_batch_is_the_sum_of_single_clusters(db: Session, rich: Any) -> None:
    every = evaluate(db, 2024)
    for cluster_id in every.values:
        assert evaluate(db, 2024, [cluster_id]).of(cluster_id) == every.of(cluster_id)


def test_a_declared_value_replaces_the_computed_one(db: Session, rich: Any) -> None:
    a = rich.world.a
    service.declare_value(
        db, LOCAL_ADMIN, a, DeclareIn(indicator="services_revenue", year=2024, value=41_000)
    )
    out = service.cluster_indicators(db, LOCAL_ADMIN, a, 2024)
    row = next(i for i in out.items if i.indicator == "services_revenue")
    assert row.value == 41_000
    assert row.declared
    service.declare_value(
        db, LOCAL_ADMIN, a, DeclareIn(indicator="services_revenue", year=2024, value=42_000)
    )
    assert evaluate(db, 2024, [a]).of(a)["services_revenue"] == 42_000


def test_benchmarks_of_all_clusters_are_each_clusters(db: Session, rich: Any) -> None:
    for role in ("admin", "funder"):
        actor = rich.world.actors[role]
        every = service.benchmarks(db, actor, "members", 2024, criteria=[])
        assert every
        for one in every:
            assert one == service.benchmark(db, actor, one.cluster_id, "members", 2024, criteria=[])
    cards = service.scorecards(db, LOCAL_ADMIN, 2024)
    single = service.scorecard(db, LOCAL_ADMIN, rich.world.a, 2024)
    batch = next(c for c in cards if c.cluster_id == rich.world.a)
    assert batch.marks == single.marks


def test_the_coverage_of_the_productive_fabric(db: Session, world: Any, tmp_path: Any) -> None:
    from fabric_kit import write_fabric

    store = write_fabric(tmp_path / "fabric")
    values = evaluate(db, 2024, [world.a], store=store).of(world.a)
    # In A's communes (Lyon, Villeurbanne) and sectors (25.62A, division 28), open at the end
    # of 2024: Décolletage Dupont (a member's), Usinage Récent, Machines-outils Lyon, Taille
    # inconnue; out: 25.62B, a bakery, Paris, the closed one.
    assert values["territory_coverage"] == pytest.approx(1 / 4)
    assert evaluate(db, 2024, [world.b], store=store).of(world.b)["territory_coverage"] is None


def test_the_detection_evidence_of_the_latest_saved_run(db: Session, world: Any, grappe_home: Any) -> None:
    import json

    import pandas as pd

    from grappe.detection import runs

    assert evaluate(db, 2024, [world.a]).of(world.a)["detection_evidence"] is None  # no run saved
    version = grappe_home / runs.RUNS_FOLDER / ".versions" / "v1"
    version.mkdir(parents=True)
    parameters = {
        "name": "rhone",
        "saved_at": "2026-01-01T00:00:00+00:00",
        "grappe_version": "test",
        "store": "/s",
        "level": "departement",
        "sectors": "sous-classe",
        "reference": "store",
        "include_local": False,
        "date": "2024-12-31",
        "basis": "employment",
        "permutations": 0,
        "seed": 0,
        "alpha": 0.05,
        "min_establishments": 15,
        "min_employment": 0,
        "candidates": 3,
    }
    (version / runs.PARAMETERS_FILE).write_text(json.dumps(parameters), encoding="utf-8")
    pd.DataFrame(
        {
            "territory_code": ["69", "69", "35"],
            "sector": ["25.62A", "10.71C", "08.11Z"],
            "score": [0.7, 0.9, 0.4],
        }
    ).to_parquet(version / runs.CANDIDATES_FILE)
    (grappe_home / runs.RUNS_FOLDER / "rhone").symlink_to(version)
    every = evaluate(db, 2024)
    # A (Lyon, Villeurbanne: département 69; 25.62A and 28): the 25.62A cell, not the bakery's.
    assert every.of(world.a)["detection_evidence"] == pytest.approx(0.7)
    # B (département 35, 08.11Z)
    assert every.of(world.b)["detection_evidence"] == pytest.approx(0.4)
