"""Key figures of a cluster organisation: members by kind and size, flows, fees, spread."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from sqlalchemy.orm import Session

from grappe.registry import policy, refs
from grappe.registry.fees.repository import FeeCallRepository
from grappe.registry.fees.schemas import KeyFigures, YearFlow
from grappe.registry.fees.service import CENT
from grappe.registry.memberships import service as memberships
from grappe.registry.policy import Access, Actor


def key_figures(session: Session, actor: Actor, cluster_id: int, *, on: dt.date | None = None) -> KeyFigures:
    """Key figures on a date (administrators, the cluster's managers and funders).

    - ``members``: organisations with a period covering ``on``;
    - ``by_kind``, ``by_size``: those members by kind and size category (``inconnue`` when
      unknown); ``tpe_pme_share``: share of TPE+PME among members of known size;
    - ``flows``: per calendar year, entries (periods starting), exits (periods ending),
      members at year end, and retention = members on 1 January still members on
      31 December (None for a year starting with no member);
    - ``fee_income_eur``: payments received in the year of ``on``; ``arrears_eur``:
      outstanding amount of late calls on ``on``;
    - ``by_departement`` and ``communes``: territorial spread of the members' sites.
    """
    policy.require_cluster(session, actor, cluster_id, Access.READ, "consulter les chiffres clés")
    on = on or dt.date.today()
    rows = memberships.with_sites(session, cluster_id)
    # Each period once as plain values: the yearly flows below test every period on two days a
    # year, and the ORM attributes and hybrid rules cost ten times more than tuple reads. The
    # tests are Membership.open_on's: joined on or before the day, not left by then.
    spans = [(row.Membership.organisation_id, row.Membership.joined, row.Membership.left_on)
             for row in rows]

    def active(day: dt.date) -> set[int]:
        return {org for org, joined, left in spans if joined <= day and (left is None or left > day)}

    current = [row for row in rows if row.Membership.open_on(on)]
    by_kind = Counter(row.kind for row in current)
    by_size = Counter(row.size_category or "inconnue" for row in current)
    known = sum(n for k, n in by_size.items() if k != "inconnue")
    small = by_size.get("TPE", 0) + by_size.get("PME", 0)

    flows = []
    if spans:
        entries = Counter(joined.year for _, joined, _ in spans if joined <= on)
        exits = Counter(left.year for _, _, left in spans if left is not None and left <= on)
        for year in range(min(joined.year for _, joined, _ in spans), on.year + 1):
            start, end = dt.date(year, 1, 1), min(dt.date(year, 12, 31), on)
            at_start = active(start)
            at_end = active(end)
            flows.append(
                YearFlow(
                    year=year,
                    entries=entries[year],
                    exits=exits[year],
                    members_at_end=len(at_end),
                    retention=round(len(at_start & at_end) / len(at_start), 4) if at_start else None,
                )
            )

    fee_calls = FeeCallRepository(session)
    income = fee_calls.income(cluster_id, dt.date(on.year, 1, 1), on)
    late = fee_calls.late_amounts(cluster_id, on)
    arrears = sum((a - p for a, p in late if a > p), Decimal(0))

    communes = {row.commune for row in current if row.commune}
    levels = refs._levels()
    by_dep = Counter(
        (levels.get(row.commune) or {}).get("departement") or "inconnu" for row in current if row.commune
    )
    return KeyFigures(
        cluster_id=cluster_id,
        on=on,
        members=len({row.Membership.organisation_id for row in current}),
        by_kind=dict(sorted(by_kind.items())),
        by_size=dict(sorted(by_size.items())),
        tpe_pme_share=round(small / known, 4) if known else None,
        flows=flows,
        fee_income_eur=Decimal(income).quantize(CENT),
        arrears_eur=arrears.quantize(CENT),
        by_departement=dict(sorted(by_dep.items())),
        communes=len(communes),
    )
