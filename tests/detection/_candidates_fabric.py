"""Small synthetic fabric stores shared by the candidate tests, generated once per session."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from grappe.config import get_settings
from grappe.fabric.store import FabricStore
from grappe.fabric.synth import PlantedCluster, write_synthetic

#: Rows of the shared fabric: small enough to build in seconds, large enough for a background.
ROWS = 100_000
SEED = 11


@contextmanager
def isolated_home(home: Path) -> Iterator[None]:
    """Point GRAPPE_HOME at ``home`` for module-scoped fixtures (the autouse one is per test)."""
    old = os.environ.get("GRAPPE_HOME")
    os.environ["GRAPPE_HOME"] = str(home)
    get_settings.cache_clear()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("GRAPPE_HOME", None)
        else:
            os.environ["GRAPPE_HOME"] = old
        get_settings.cache_clear()


def synthetic_store(
    base: Path, rows: int = ROWS, seed: int = SEED, strength: float = 1.0
) -> tuple[Path, list[PlantedCluster]]:
    """A fabric store of ``rows`` synthetic establishments (cached under ``base``).

    Returns the store directory and the clusters planted in it.
    """
    folder = base / f"candidates_fabric_{rows}_{seed}_{strength:g}"
    store_dir = folder / "store"
    report = folder / "planted.json"
    if not report.is_file():
        with isolated_home(folder / "home"):
            synth = write_synthetic(folder / "sirene.parquet", rows, seed, strength=strength)
            FabricStore.open(store_dir).import_files([synth.path], format="sirene")
        report.write_text(
            json.dumps([p.__dict__ for p in synth.planted], ensure_ascii=False), encoding="utf-8"
        )
    planted = [PlantedCluster(**item) for item in json.loads(report.read_text(encoding="utf-8"))]
    return store_dir, planted


def territories_of(planted: PlantedCluster, level: str) -> set[str]:
    """Codes of the territories of ``level`` holding the communes of a planted cluster."""
    from grappe.refdata import territories

    if level == "commune":
        return set(planted.communes)
    levels = territories.commune_levels()
    mapping = dict(zip(levels["commune"].to_pylist(), levels[level].to_pylist(), strict=True))
    return {mapping[c] for c in planted.communes if mapping.get(c)}
