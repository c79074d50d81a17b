"""Reads answer what is stored, also rows outside today's input bounds (older versions, SQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apikit import Api, build_api, dbkit
from sqlalchemy import text
from sqlalchemy.engine import Engine


@pytest.fixture
def stored(database: object, tmp_path: Path) -> Iterator[tuple[Api, Engine]]:
    db = dbkit.new_database(database.backend, tmp_path)  # type: ignore[attr-defined]
    try:
        yield build_api(db), db.engine  # type: ignore[attr-defined]
    finally:
        db.drop()


def _sql(engine: Engine, statement: str, **params: Any) -> None:
    with engine.begin() as conn:
        assert conn.execute(text(statement), params).rowcount >= 1, statement  # type: ignore[attr-defined]


def test_rows_outside_the_bounds_are_read_back_as_stored(stored: tuple[Api, Engine]) -> None:
    api, engine = stored
    h = api.headers("admin")
    w: Any = api.world
    # Valid objects through the API, then made what an earlier version let in, with SQL.
    assert api.client.put(f"/clusters/{w.a}/governance", headers=h, json={
        "kind": "bureau", "seats": 3, "holders": [{"person": "Jean Dupont", "start": "2020-01-01"}],
    }).status_code == 200
    assert api.client.put(f"/clusters/{w.a}/fee-schedules", headers=h, json={
        "year": 2024, "rules": [{"membership_type": "adherent", "mode": "headcount",
                                 "brackets": [{"min_headcount": 0, "amount_eur": "100"}]}],
    }).status_code == 200
    sqlite = engine.dialect.name == "sqlite"
    # SQLite keeps a text beyond VARCHAR(n); PostgreSQL refuses it, so it never stored one.
    long_name = "N" * 250 if sqlite else "Nom\x01ancien"
    _sql(engine, "UPDATE seat_holders SET person = :p, start = :d", p="Jean\x07Dupont", d="1850-06-01")
    _sql(engine, "UPDATE contacts SET full_name = :n, email = :e WHERE organisation_id = :o",
         n=long_name, e="pas un courriel", o=w.org_a)
    _sql(engine, "UPDATE cluster_fundings SET year = 1850 WHERE cluster_id = :c", c=w.b)
    _sql(engine, "UPDATE cluster_territories SET code = :code WHERE cluster_id = :c AND code = '69266'",
         code="69\x1f266", c=w.a)
    # (a year outside the bounds cannot be asked for: the path parameter is bounded)
    _sql(engine, "UPDATE fee_schedules SET due_days = 99999 WHERE cluster_id = :c", c=w.a)
    _sql(engine, "UPDATE fee_rules SET membership_type = :t, brackets = :b",
         t="adhérent\x0b", b='[[20000000, "100"]]')

    cluster = api.client.get(f"/clusters/{w.a}", headers=h)
    assert cluster.status_code == 200, cluster.text
    holder = cluster.json()["bodies"][0]["holders"][0]
    assert (holder["person"], holder["start"]) == ("Jean\x07Dupont", "1850-06-01")
    assert {"level": "commune", "code": "69\x1f266"} in cluster.json()["territories"]

    funded = api.client.get(f"/clusters/{w.b}", headers=h)
    assert funded.status_code == 200, funded.text
    assert funded.json()["fundings"][0]["year"] == 1850

    organisation = api.client.get(f"/organisations/{w.org_a}", headers=h)
    assert organisation.status_code == 200, organisation.text
    contacts = organisation.json()["contacts"]
    assert {(c["full_name"], c["email"]) for c in contacts} == {(long_name, "pas un courriel")}

    schedule = api.client.get(f"/clusters/{w.a}/fee-schedules/2024", headers=h)
    assert schedule.status_code == 200, schedule.text
    body = schedule.json()
    assert (body["year"], body["due_days"]) == (2024, 99999)
    assert body["rules"][0]["membership_type"] == "adhérent\x0b"
    assert body["rules"][0]["brackets"][0]["min_headcount"] == 20_000_000
