"""The levels of the analysis and the defaults its options show, without importing any engine.

The command line declares its options with them; ``grappe --help`` must not load NumPy,
SciPy or Arrow to print them.
"""

from __future__ import annotations

TERRITORY_LEVELS = ("commune", "epci", "ze", "departement", "region")
SECTOR_LEVELS = ("section", "division", "groupe", "classe", "sous-classe")
#: The sector level of the cluster categories: ``grappe.refdata.clusters.LEVEL`` (a test
#: checks that they agree; refdata, below detection, cannot import it from here).
CLUSTER_LEVEL = "clusters"

#: Default minimum number of (employer) establishments of a candidate (grappe.detection.ranking).
DEFAULT_MIN_ESTABLISHMENTS = 10
#: Default minimum employment of a candidate (central estimate; where the data have employment).
DEFAULT_MIN_EMPLOYMENT = 50
