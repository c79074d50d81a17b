"""Cluster detection: aggregation, indicators, rules, significance, relatedness, candidates.

The public verbs of the detection modules, importable from here. They load on first use
(PEP 562), so importing one light module (e.g. sector groups) does not start the engines.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grappe.detection.aggregate import CohortSurvival, aggregate, cohort_survival
    from grappe.detection.candidates import Candidates, detect
    from grappe.detection.communities import SectorCommunities, grouping_score, sector_communities
    from grappe.detection.counts import Counts, Dynamics
    from grappe.detection.indicators import Indicators, indicators
    from grappe.detection.maps import candidates_map
    from grappe.detection.ranking import MinimumMass, ScoreWeights
    from grappe.detection.relatedness import Relatedness, relatedness, relatedness_from_matrix
    from grappe.detection.rules import ClusterRules, RuleThresholds, apply_rules
    from grappe.detection.sector_groups import SectorGroup
    from grappe.detection.sector_groups import dump as dump_sector_groups
    from grappe.detection.sector_groups import load as load_sector_groups
    from grappe.detection.significance import (
        GetisOrd,
        LocalMoran,
        benjamini_hochberg,
        getis_ord,
        local_moran,
    )
    from grappe.detection.weights import SpatialWeights, contiguity, distance_band, grid, knn

# public name -> (module, attribute)
_EXPORTS: dict[str, tuple[str, str]] = {
    "Candidates": ("candidates", "Candidates"),
    "ClusterRules": ("rules", "ClusterRules"),
    "CohortSurvival": ("aggregate", "CohortSurvival"),
    "Counts": ("counts", "Counts"),
    "Dynamics": ("counts", "Dynamics"),
    "GetisOrd": ("significance", "GetisOrd"),
    "Indicators": ("indicators", "Indicators"),
    "LocalMoran": ("significance", "LocalMoran"),
    "MinimumMass": ("ranking", "MinimumMass"),
    "Relatedness": ("relatedness", "Relatedness"),
    "RuleThresholds": ("rules", "RuleThresholds"),
    "ScoreWeights": ("ranking", "ScoreWeights"),
    "SectorCommunities": ("communities", "SectorCommunities"),
    "SectorGroup": ("sector_groups", "SectorGroup"),
    "SpatialWeights": ("weights", "SpatialWeights"),
    "aggregate": ("aggregate", "aggregate"),
    "apply_rules": ("rules", "apply_rules"),
    "benjamini_hochberg": ("significance", "benjamini_hochberg"),
    "candidates_map": ("maps", "candidates_map"),
    "cohort_survival": ("aggregate", "cohort_survival"),
    "contiguity": ("weights", "contiguity"),
    "detect": ("candidates", "detect"),
    "distance_band": ("weights", "distance_band"),
    "dump_sector_groups": ("sector_groups", "dump"),
    "getis_ord": ("significance", "getis_ord"),
    "grid": ("weights", "grid"),
    "grouping_score": ("communities", "grouping_score"),
    "indicators": ("indicators", "indicators"),
    "knn": ("weights", "knn"),
    "load_sector_groups": ("sector_groups", "load"),
    "local_moran": ("significance", "local_moran"),
    "relatedness": ("relatedness", "relatedness"),
    "relatedness_from_matrix": ("relatedness", "relatedness_from_matrix"),
    "sector_communities": ("communities", "sector_communities"),
}

__all__ = [
    "Candidates",
    "ClusterRules",
    "CohortSurvival",
    "Counts",
    "Dynamics",
    "GetisOrd",
    "Indicators",
    "LocalMoran",
    "MinimumMass",
    "Relatedness",
    "RuleThresholds",
    "ScoreWeights",
    "SectorCommunities",
    "SectorGroup",
    "SpatialWeights",
    "aggregate",
    "apply_rules",
    "benjamini_hochberg",
    "candidates_map",
    "cohort_survival",
    "contiguity",
    "detect",
    "distance_band",
    "dump_sector_groups",
    "getis_ord",
    "grid",
    "grouping_score",
    "indicators",
    "knn",
    "load_sector_groups",
    "local_moran",
    "relatedness",
    "relatedness_from_matrix",
    "sector_communities",
]


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first access."""
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'grappe.detection' has no attribute {name!r}") from None
    value = getattr(import_module(f"grappe.detection.{module}"), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
