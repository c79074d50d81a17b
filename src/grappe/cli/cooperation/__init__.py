"""`grappe cooperation` commands: projects, links, business, events, shared equipment, the network.

Every command runs as one transaction on the registry database, as the user given by
``grappe cooperation --as TOKEN_OR_EMAIL ...`` (default: the local administrator), like
``grappe registry``.
"""

from __future__ import annotations

# isort: off
from grappe.cli.cooperation import records, network, actions  # noqa: F401  (they register their commands)

# isort: on
from grappe.cli.cooperation._base import (
    CATEGORIES,
    DEAL_KINDS,
    FORMATS,
    LAYERS,
    LINK_KINDS,
    ORIENTATIONS,
    PROJECT_KINDS,
    STATUSES,
    app,
)
from grappe.cli.cooperation.actions import EVENT_KINDS

__all__ = [
    "CATEGORIES",
    "DEAL_KINDS",
    "EVENT_KINDS",
    "FORMATS",
    "LAYERS",
    "LINK_KINDS",
    "ORIENTATIONS",
    "PROJECT_KINDS",
    "STATUSES",
    "app",
]
