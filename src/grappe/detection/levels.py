"""The territorial and sectoral levels of the analysis, without importing any engine.

The command line declares its options with them; ``grappe --help`` must not load NumPy,
SciPy or Arrow to print them.
"""

from __future__ import annotations

TERRITORY_LEVELS = ("commune", "epci", "ze", "departement", "region")
SECTOR_LEVELS = ("section", "division", "groupe", "classe", "sous-classe")
#: The sector level of the cluster categories: ``grappe.refdata.clusters.LEVEL`` (a test
#: checks that they agree; refdata, below detection, cannot import it from here).
CLUSTER_LEVEL = "clusters"
