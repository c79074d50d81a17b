"""Fixtures shared by every test: an isolated GRAPPE_HOME and the real data beside the checkout."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from grappe.config import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = Path(os.environ.get("GRAPPE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")) / "real"


@pytest.fixture(autouse=True)
def grappe_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own empty data directory, never the user's."""
    home = tmp_path_factory.mktemp("grappe_home")
    monkeypatch.setenv("GRAPPE_HOME", str(home))
    for name in ("GRAPPE_STORE", "GRAPPE_DATABASE_URL", "GRAPPE_ENGINE"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture
def settings(grappe_home: Path) -> Settings:
    """The settings of the isolated data directory."""
    return get_settings()


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The folder of real public files (../shared/data/real); tests fail loudly without it."""
    if not REAL_DATA.is_dir():
        pytest.fail(f"real data folder not found: {REAL_DATA} (set GRAPPE_SHARED_DATA)")
    return REAL_DATA
