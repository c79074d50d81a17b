"""Concurrent writers over real HTTP: every write is stored or answered 409, never a 5xx.

The API runs under uvicorn on a loopback port (in this process, its own thread pool and
connection pool, as a worker of ``grappe serve``), and 20 client threads write at once
against a real database file (SQLite) or server (PostgreSQL). Before the writers took
SQLite's write lock at ``BEGIN``, 14 to 17 of 20 concurrent payments answered 500
("database is locked").
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
from apikit import Api, serving
from sqlalchemy import select

from grappe.registry.models import Organisation, Payment
from grappe.storage.sql import session_scope

WRITERS = 20


def _at_once(count: int, send: object) -> list[httpx.Response]:
    """``send(i)`` from ``count`` threads released together."""
    barrier = threading.Barrier(count)

    def one(i: int) -> httpx.Response:
        barrier.wait()
        return send(i)  # type: ignore[operator, no-any-return]

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def _fee_call(api: Api, base: str) -> int:
    h, a = api.headers("manager"), api.world.a  # type: ignore[attr-defined]
    schedule = {"year": 2024, "rules": [{"membership_type": "adherent", "amount_eur": "1000"}]}
    assert httpx.put(f"{base}/clusters/{a}/fee-schedules", headers=h, json=schedule).status_code == 200
    issued = httpx.post(f"{base}/clusters/{a}/fee-calls", headers=h, params={"year": 2024})
    assert issued.status_code == 200
    return int(httpx.get(f"{base}/clusters/{a}/fee-calls", headers=h).json()["items"][0]["id"])


def test_concurrent_payments_are_all_stored(api: Api) -> None:
    h = api.headers("manager")
    with serving(api.app) as base:
        call = _fee_call(api, base)

        def pay(i: int) -> httpx.Response:
            body = {"amount_eur": "1.00", "paid_on": "2024-02-01", "reference": f"concurrent-{i}"}
            return httpx.post(f"{base}/fee-calls/{call}/payments", headers=h, json=body, timeout=60)

        answers = _at_once(WRITERS, pay)
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {200: WRITERS}, [r.text for r in answers if r.status_code != 200][:3]
    with session_scope(api.app.state.engine, write=False) as session:
        stored = session.scalars(select(Payment.reference).where(Payment.fee_call_id == call)).all()
        total = sum(
            session.scalars(select(Payment.amount_eur).where(Payment.fee_call_id == call)), Decimal(0)
        )
    assert sorted(stored) == sorted(f"concurrent-{i}" for i in range(WRITERS))
    assert total == WRITERS


def test_concurrent_edits_of_one_version_one_wins_the_others_409(api: Api) -> None:
    h, org = api.headers("admin"), api.world.org_a  # type: ignore[attr-defined]
    with serving(api.app) as base:
        version = httpx.get(f"{base}/organisations/{org}", headers=h).json()["version"]

        def rename(i: int) -> httpx.Response:
            body = {"version": version, "name": f"Décolletage Dupont {i}"}
            return httpx.patch(f"{base}/organisations/{org}", headers=h, json=body, timeout=60)

        answers = _at_once(WRITERS, rename)
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {200: 1, 409: WRITERS - 1}, statuses
    assert all(r.json()["error"] == "ConflictError" for r in answers if r.status_code == 409)
    winner = next(r.json()["name"] for r in answers if r.status_code == 200)
    with session_scope(api.app.state.engine, write=False) as session:
        stored = session.scalar(select(Organisation.name).where(Organisation.id == org))
    assert stored == winner


@pytest.mark.parametrize("write", [True, False])
def test_reads_run_beside_a_writer_that_holds_the_lock(api: Api, write: bool) -> None:
    """A read request is answered while a writer holds SQLite's write lock; a write waits."""
    engine = api.app.state.engine
    h, a = api.headers("manager"), api.world.a  # type: ignore[attr-defined]
    with serving(api.app) as base, session_scope(engine) as holder:
        holder.connection()  # the write lock, held until the block ends (PostgreSQL: nothing)
        if write:
            body = {"kind": "grappe", "name": "Label test", "start": "2024-01-01"}
            pending = ThreadPoolExecutor(1).submit(
                httpx.post, f"{base}/clusters/{a}/labels", headers=h, json=body, timeout=60
            )
            time.sleep(0.5)
            waits = engine.dialect.name == "sqlite"
            assert pending.done() is not waits
        else:
            read = httpx.get(f"{base}/clusters/{a}/members", headers=h, timeout=60)
            assert read.status_code == 200
    if write:
        assert pending.result().status_code == 201
