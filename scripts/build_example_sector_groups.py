"""Build the example sector-group file shipped with grappe, from the synthetic fabric.

Run from the checkout: ``.venv/bin/python scripts/build_example_sector_groups.py``. The same
code gives the same bytes: the synthetic fabric, the aggregation and the community detection
are all seeded. The file lands in ``src/grappe/detection/data/``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from grappe.detection import sector_groups
from grappe.detection.aggregate import aggregate
from grappe.detection.communities import EXAMPLE_SECTOR_GROUPS, sector_communities
from grappe.detection.relatedness import relatedness
from grappe.fabric.store import FabricStore
from grappe.fabric.synth import write_synthetic

ESTABLISHMENTS = 300_000
SEED = 0
TERRITORY_LEVEL = "epci"
SECTOR_LEVEL = "division"


def main() -> None:
    """Generate the fabric in a temporary folder, detect the groups, write the file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=EXAMPLE_SECTOR_GROUPS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grappe-example-") as tmp:
        work = Path(tmp)
        # The store and settings of this run stay in the temporary folder, never the user's.
        os.environ["GRAPPE_HOME"] = str(work / "home")
        fabric = work / "synthetic.parquet"
        write_synthetic(fabric, ESTABLISHMENTS, seed=SEED)
        store = FabricStore.open(work / "store")
        store.import_files([fabric])
        counts = aggregate(store, TERRITORY_LEVEL, SECTOR_LEVEL)
    found = sector_communities(relatedness(counts), seed=SEED)
    header = "\n".join(
        [
            "Exemple livré avec grappe : groupes calculés sur le tissu productif synthétique",
            f"(grappe fabric synth, {ESTABLISHMENTS} établissements, graine {SEED}), "
            f"par scripts/build_example_sector_groups.py.",
            "Le tissu synthétique ne place que quelques grappes d'une seule sous-classe : la",
            "validation hors échantillon ci-dessous dit si ces groupes tiennent. À refaire",
            "sur le vrai tissu (grappe detection, même méthode).",
            "",
            found.description,
        ]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sector_groups.dump(found.to_sector_groups(), args.out, header=header)
    print(f"{args.out}: {len(found.groups)} groups")


if __name__ == "__main__":
    main()
