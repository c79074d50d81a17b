"""Territory and sector lookup tables joined to the fabric rows: commune to level, NAF code to sector."""

from __future__ import annotations

from collections.abc import Iterator

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from grappe.detection.counts import SECTOR_LEVELS
from grappe.detection.sector_groups import SectorGroup
from grappe.errors import InputError
from grappe.storage.analytics import Analytics

# Sector id of the NAF codes that no sector group lists: they have no column but belong to
# the territory's whole economy (see _sector_map).
_OUTSIDE = -1


def _territory_map(analytics: Analytics, level: str) -> tuple[np.ndarray, ir.Table]:
    """Sorted territory codes and the engine table ``commune -> tid`` (int32)."""
    from grappe.refdata import territories

    levels = territories.commune_levels()
    _require_level_filled(levels, level)
    communes = np.asarray(levels.column("commune").to_pylist(), dtype=object)
    targets = levels.column(level).to_pylist()
    has = np.fromiter((t is not None for t in targets), dtype=bool, count=len(targets))
    codes, tid = np.unique(np.asarray(targets, dtype=object)[has].astype(str), return_inverse=True)
    mapping = pa.table(
        {
            "commune": pa.array(communes[has].astype(str).tolist(), pa.string()),
            "tid": pa.array(tid.astype(np.int32)),
        }
    )
    return codes, analytics.from_arrow(mapping, f"territory_{level}")


def _require_level_filled(levels: pa.Table, level: str) -> None:
    if level == "ze" and levels.column("ze").null_count == levels.num_rows:
        raise InputError(
            "niveau territorial 'ze' : les zones d'emploi ne sont pas importées ; lancez "
            "`grappe refdata import-ze FICHIER.xlsx` avec la table de composition de l'INSEE"
        )


def _sector_map(
    analytics: Analytics,
    sector_name: str,
    groups: list[SectorGroup] | None,
    with_totals: bool = False,
) -> tuple[np.ndarray, ir.Table]:
    """Sorted sector codes and the engine table ``naf -> sid, whole``, any NAF level in.

    ``sid`` (int32) is the column of the code; a code in several sector groups has a row
    per group. ``whole`` (boolean) is true on exactly one row of each code of the economy:
    summing the rows where it is true counts every establishment once, in its territory's
    whole economy, in the same join and group-by as the cells. The economy is the codes the
    level can place: for a NAF level, the codes at that level or finer (each has one row,
    so the totals are the row sums); for sector groups, every NAF code. With
    ``with_totals``, the codes that no group lists get a row of their own, ``sid`` =
    :data:`_OUTSIDE`, which has no column but counts in the totals.
    """
    from grappe.refdata import naf

    table = naf.table()
    codes = table.column("code").to_pylist()
    parents = dict(zip(codes, table.column("parent").to_pylist(), strict=True))
    code_level = dict(zip(codes, table.column("level").to_pylist(), strict=True))

    def lineage(code: str) -> Iterator[str]:
        current: str | None = code
        while current is not None:
            yield current
            current = parents.get(current)

    pairs: list[tuple[str, str]]
    if groups is None:
        pairs = [
            (code, ancestor)
            for code in codes
            for ancestor in lineage(code)
            if code_level[ancestor] == sector_name
        ]
    else:
        members: dict[str, set[str]] = {}
        for group in groups:
            for member in group.naf:
                members.setdefault(member, set()).add(group.code)
        pairs = sorted(
            {(code, g) for code in codes for ancestor in lineage(code) for g in members.get(ancestor, ())}
        )
    if not pairs:
        raise InputError(f"niveau sectoriel {sector_name!r} : aucun code NAF ne s'y rattache")
    naf_codes = [p[0] for p in pairs]
    sector_codes, sid = np.unique(np.asarray([p[1] for p in pairs], dtype=str), return_inverse=True)
    sid = sid.astype(np.int32)
    # pairs are sorted by code, so the first row of each code is where its total counts
    whole = [i == 0 or naf_codes[i - 1] != code for i, code in enumerate(naf_codes)]
    if with_totals and groups is not None:
        outside = sorted(set(codes) - set(naf_codes))
        naf_codes = naf_codes + outside
        sid = np.concatenate([sid, np.full(len(outside), _OUTSIDE, dtype=np.int32)])
        whole = whole + [True] * len(outside)
    mapping = pa.table(
        {
            "naf": pa.array(naf_codes, pa.string()),
            "sid": pa.array(sid),
            "whole": pa.array(whole, pa.bool_()),
        }
    )
    return sector_codes, analytics.from_arrow(mapping, "sectors")


def _finest_needed(sector_name: str, groups: list[SectorGroup] | None) -> str:
    if groups is None:
        return sector_name
    from grappe.refdata import naf

    return max((naf.level(c) for g in groups for c in g.naf), key=SECTOR_LEVELS.index)

