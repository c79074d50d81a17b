"""Prospects under load: concurrent requests on a real fabric store while an import writes to it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from apikit import Api, build_api, dbkit, serving

from grappe.config import get_settings
from grappe.fabric.store import FabricStore

_FABRIC_KIT = Path(__file__).resolve().parents[1] / "fabric"
sys.path.insert(0, str(_FABRIC_KIT))
from fabrickit import SIRENE_COLUMNS, sirene_row, write_csv  # noqa: E402

CONCURRENCY = 8


def _rows(start: int, count: int) -> list[dict[str, str]]:
    """SIRENE rows in the test world's cluster A (Lyon, 25.62A)."""
    return [sirene_row(n, codeCommuneEtablissement="69123") for n in range(start, start + count)]


@pytest.fixture
def store_api(
    database: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Api, Path]]:
    store = tmp_path / "store"
    monkeypatch.setenv("GRAPPE_STORE", str(store))
    get_settings.cache_clear()
    FabricStore.open(store).import_files([write_csv(tmp_path / "first.csv", _rows(0, 200))])
    db = dbkit.new_database(database.backend, tmp_path)  # type: ignore[attr-defined]
    try:
        yield build_api(db), store
    finally:
        get_settings.cache_clear()
        db.drop()


def test_concurrent_prospects_during_an_import(store_api: tuple[Api, Path], tmp_path: Path) -> None:
    api, store = store_api
    cluster = api.world.a  # type: ignore[attr-defined]
    headers = api.headers("admin")
    # Several files so that the import commits to the catalogue many times while we read.
    files = [write_csv(tmp_path / f"more{i}.csv", _rows(1000 + 5000 * i, 5000), SIRENE_COLUMNS)
             for i in range(4)]
    env = {**os.environ, "GRAPPE_STORE": str(store)}
    answers: list[httpx.Response] = []
    with serving(api.app) as base, httpx.Client(base_url=base, timeout=60) as client:
        importer = subprocess.Popen(
            [sys.executable, "-m", "grappe", "fabric", "import", *map(str, files)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 120
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                # Rounds of 8 concurrent requests until the import is over (and one after).
                while True:
                    running = importer.poll() is None
                    answers += pool.map(
                        lambda _: client.get(f"/clusters/{cluster}/prospects", headers=headers),
                        range(CONCURRENCY),
                    )
                    if not running or time.monotonic() > deadline:
                        break
            _, err = importer.communicate(timeout=120)
        finally:
            if importer.poll() is None:
                importer.kill()
    assert importer.returncode == 0, err.decode()
    assert len(answers) >= 2 * CONCURRENCY
    statuses = [r.status_code for r in answers]
    assert statuses == [200] * len(statuses), {r.status_code: r.text for r in answers}
    for r in answers:
        assert str(tmp_path) not in r.text
    # The last round ran after the import: it sees every file.
    assert len(answers[-1].json()["items"]) == 100
    assert len(FabricStore.open(store).establishment_files()) == 5


def test_a_damaged_store_answers_one_french_line(store_api: tuple[Api, Path], tmp_path: Path) -> None:
    api, store = store_api
    FabricStore.open(store).establishment_files()[0].write_bytes(b"PAR1 not parquet")
    r = api.client.get(f"/clusters/{api.world.a}/prospects", headers=api.headers("admin"))  # type: ignore[attr-defined]
    assert r.status_code == 503
    assert r.json()["detail"].startswith("magasin du tissu productif endommagé")
    assert str(tmp_path) not in r.text
    assert ".parquet" not in r.text
