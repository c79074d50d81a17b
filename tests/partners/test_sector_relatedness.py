"""Sector complementarity from a real fabric store: detection's co-location relatedness."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grappe.partners.search import Need, Organisation, PartnerIndex
from grappe.partners.service import sector_relatedness


@pytest.fixture(scope="module")
def bas_rhin_store(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from grappe.fabric.store import FabricStore

    path = tmp_path_factory.mktemp("store")
    FabricStore.open(path).import_files([real_data / "sirene_bas_rhin_2019_geocoded_latin1.csv"])
    return path


def test_relatedness_of_the_store_ranks_and_explains_sectors(bas_rhin_store: Path) -> None:
    related = sector_relatedness(bas_rhin_store, "commune")
    matrix = related.matrix
    assert len(related.sectors) == matrix.shape[0] == matrix.shape[1]
    assert np.allclose(matrix, matrix.T)
    assert matrix.min() >= 0.0
    assert matrix.max() <= 1.0
    assert {"25", "28", "47"} <= set(related.sectors)
    where = {code: i for i, code in enumerate(related.sectors)}
    organisations = [
        Organisation(1, "Asker", "firm", naf="25.62B", naf_label="Usinage"),
        *(Organisation(10 + i, f"Firme {code}", "firm", naf=f"{code}.00Z", naf_label=f"Division {code}")
          for i, code in enumerate(related.sectors) if code != "25"),
    ]
    index = PartnerIndex(organisations, relatedness=related)
    best = index.search(Need(organisation=1), 1)[0]
    code = best.name.removeprefix("Firme ")
    assert matrix[where["25"], where[code]] == max(
        matrix[where["25"], where[c]] for c in related.sectors if c != "25"
    )
    assert any(r.startswith(f"secteur apparenté : Division {code} (proximité ") for r in best.reasons)
