"""French cluster definitions: traded or local for every NAF sous-classe, and cluster categories.

A *traded* sous-classe (activité exposée) sells beyond its territory and clusters; a *local*
one (activité présentielle) serves the population where it is. Each traded sous-classe
belongs to one cluster *category*, a group of related sous-classes named in French. The
packaged table is derived by ``scripts/build_cluster_definitions.py`` from the U.S. Cluster
Mapping definitions (Delgado, Porter & Stern 2016) carried onto NAF through the NAICS ->
ISIC -> NACE concordances and weighted by U.S. employment (Delgado & Mills 2020); its
provenance is in ``PROVENANCE.json``.

Examples
--------
>>> from grappe.refdata import clusters
>>> clusters.traded("30.30Z"), clusters.traded("85.20Z")
(True, False)
>>> clusters.category("2562A")
'travail-des-metaux'
"""

from __future__ import annotations

from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

from grappe.refdata import naf
from grappe.refdata._files import read_table

#: The sector level whose sectors are the cluster categories (``--sectors clusters``).
LEVEL = "clusters"


def definitions() -> pa.Table:
    """The decision on every sous-classe.

    Returns
    -------
    pyarrow.Table
        ``code, label, traded, category, category_name, us_cluster, traded_share,
        us_employment, route, reason``, one row per sous-classe (732), sorted by code.
        ``category`` is null for local sous-classes; ``traded_share`` is the share of the
        linked U.S. employment (thousands, ``us_employment``) that is traded; ``route`` says
        which rule decided (``us_unanimous``, ``us_mixed``, ``narrowed``, ``manual``) and
        ``reason`` why, for the last three.
    """
    return read_table("cluster_definitions")


@lru_cache(maxsize=1)
def _index() -> dict[str, tuple[bool, str | None]]:
    """sous-classe -> (traded, category)."""
    rows = definitions().select(["code", "traded", "category"]).to_pydict()
    return {
        code: (bool(flag), cat)
        for code, flag, cat in zip(rows["code"], rows["traded"], rows["category"], strict=True)
    }


def traded(code: str) -> bool:
    """Whether a NAF code is traded; a code above the sous-classe is traded when any of its
    sous-classes is (a mixed group is kept, as the rule keeps mixed sous-classes).

    Raises
    ------
    UnknownCodeError
        When the code is not a NAF rév. 2 code.
    """
    canonical = naf.normalize(code)
    index = _index()
    if canonical in index:
        return index[canonical][0]
    return any(index[c][0] for c in _below(canonical))


def category(code: str) -> str | None:
    """The category code of a sous-classe (None when it is local).

    Raises
    ------
    UnknownCodeError
        When the code is not a NAF rév. 2 code.
    InputError
        When the code is not a sous-classe (a category is decided per sous-classe).
    """
    from grappe.errors import InputError

    canonical = naf.normalize(code)
    index = _index()
    if canonical not in index:
        raise InputError(
            f"code NAF {canonical} : la catégorie de grappe se lit par sous-classe (ex. 25.62A)"
        )
    return index[canonical][1]


@lru_cache(maxsize=1)
def categories() -> pa.Table:
    """The cluster categories.

    Returns
    -------
    pyarrow.Table
        ``category, name, sous_classes`` (number of sous-classes), sorted by category code.
    """
    table = definitions().filter(pc.is_valid(definitions().column("category")))
    grouped = table.group_by(["category", "category_name"]).aggregate([("code", "count")])
    grouped = grouped.rename_columns(["category", "name", "sous_classes"])
    return grouped.sort_by("category")


@lru_cache(maxsize=1)
def members() -> dict[str, tuple[str, tuple[str, ...]]]:
    """category -> (French name, its sous-classes sorted)."""
    rows = definitions().select(["code", "category", "category_name"]).to_pydict()
    result: dict[str, tuple[str, list[str]]] = {}
    for code, cat, name in zip(rows["code"], rows["category"], rows["category_name"], strict=True):
        if cat is not None:
            result.setdefault(cat, (name, []))[1].append(code)
    return {cat: (name, tuple(sorted(codes))) for cat, (name, codes) in sorted(result.items())}


def _below(code: str) -> list[str]:
    """The sous-classes under a coarser NAF code."""
    level = naf.level(code)
    table = naf.sous_classes()
    return table.filter(pc.equal(table.column(level), code)).column("code").to_pylist()
