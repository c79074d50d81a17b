"""Key figures of a cluster organisation: members by kind and size, flows, fees, spread."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grappe.registry import fees, policy, refs
from grappe.registry.models import (
    Establishment,
    FeeCall,
    FeeStatus,
    Membership,
    Organisation,
    Payment,
)
from grappe.registry.policy import Access, Actor
from grappe.registry.schemas import KeyFigures, YearFlow


def key_figures(
    session: Session, actor: Actor, cluster_id: int, *, on: dt.date | None = None
) -> KeyFigures:
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
    rows = session.execute(
        select(
            Membership.organisation_id,
            Membership.joined,
            Membership.left_on,
            Organisation.kind,
            Organisation.size_category,
            func.coalesce(Establishment.commune, Organisation.commune),
        )
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .outerjoin(Establishment, Establishment.id == Membership.establishment_id)
        .where(Membership.cluster_id == cluster_id)
    ).all()

    def active(day: dt.date) -> set[int]:
        return {r[0] for r in rows if r[1] <= day and (r[2] is None or r[2] > day)}

    current = [r for r in rows if r[1] <= on and (r[2] is None or r[2] > on)]
    by_kind = Counter(r[3] for r in current)
    by_size = Counter(r[4] or "inconnue" for r in current)
    known = sum(n for k, n in by_size.items() if k != "inconnue")
    small = by_size.get("TPE", 0) + by_size.get("PME", 0)

    flows = []
    if rows:
        for year in range(min(r[1].year for r in rows), on.year + 1):
            start, end = dt.date(year, 1, 1), min(dt.date(year, 12, 31), on)
            at_start = active(start)
            at_end = active(end)
            flows.append(
                YearFlow(
                    year=year,
                    entries=sum(1 for r in rows if r[1].year == year and r[1] <= on),
                    exits=sum(
                        1 for r in rows if r[2] is not None and r[2].year == year and r[2] <= on
                    ),
                    members_at_end=len(at_end),
                    retention=round(len(at_start & at_end) / len(at_start), 4)
                    if at_start
                    else None,
                )
            )

    income = session.scalar(
        select(func.coalesce(func.sum(Payment.amount_eur), 0)).where(
            Payment.cluster_id == cluster_id,
            Payment.paid_on >= dt.date(on.year, 1, 1),
            Payment.paid_on <= on,
        )
    ) or Decimal(0)
    late = session.execute(
        select(FeeCall.amount_eur, func.coalesce(func.sum(Payment.amount_eur), 0))
        .outerjoin(Payment, Payment.fee_call_id == FeeCall.id)
        .where(
            FeeCall.cluster_id == cluster_id,
            FeeCall.status == FeeStatus.DUE.value,
            FeeCall.due_on < on,
        )
        .group_by(FeeCall.id, FeeCall.amount_eur)
    ).all()
    arrears = sum((Decimal(a) - Decimal(p) for a, p in late if Decimal(a) > Decimal(p)), Decimal(0))

    communes = {r[5] for r in current if r[5]}
    levels = refs._levels()
    by_dep = Counter(
        (levels.get(r[5]) or {}).get("departement") or "inconnu" for r in current if r[5]
    )
    return KeyFigures(
        cluster_id=cluster_id,
        on=on,
        members=len({r[0] for r in current}),
        by_kind=dict(sorted(by_kind.items())),
        by_size=dict(sorted(by_size.items())),
        tpe_pme_share=round(small / known, 4) if known else None,
        flows=flows,
        fee_income_eur=Decimal(income).quantize(fees.CENT),
        arrears_eur=arrears.quantize(fees.CENT),
        by_departement=dict(sorted(by_dep.items())),
        communes=len(communes),
    )
