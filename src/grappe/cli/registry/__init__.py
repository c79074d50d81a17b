"""`grappe registry` commands: cluster organisations, members, fees, directory, prospects.

Every command runs as one transaction on the registry database (``GRAPPE_DATABASE_URL`` or
the SQLite file under ``GRAPPE_HOME``), migrated on first use. The acting user is given by
``grappe registry --as TOKEN_OR_EMAIL ...``; without it the command runs as the local
administrator (whoever can open the database file administers it), recorded in the audit
log as ``cli:local-admin``. One module per sub-domain registers its commands on ``app``, in
the order the help lists them.
"""

from __future__ import annotations

# isort: off
from grappe.cli.registry import clusters, members, fees, prospects, invitations, accounts  # noqa: F401

# isort: on
from grappe.cli.registry._base import ROLES, app

__all__ = ["ROLES", "app"]
