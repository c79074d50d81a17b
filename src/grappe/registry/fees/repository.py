"""All SQL of membership fees: schedules, calls, payments, arrears and income."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from grappe.kit.repository import Repository
from grappe.registry.models import FeeCall, FeeSchedule, FeeStatus, Organisation, Payment


def _paid_query() -> Select[int, Decimal]:
    return select(Payment.fee_call_id, func.coalesce(func.sum(Payment.amount_eur), 0)).group_by(
        Payment.fee_call_id
    )


class FeeScheduleRepository(Repository[FeeSchedule]):
    """Fee schedules per cluster and year, with their rules."""

    model = FeeSchedule
    what = "barème"

    def of_year(self, cluster_id: int, year: int) -> FeeSchedule | None:
        return self.session.scalar(
            select(FeeSchedule)
            .where(FeeSchedule.cluster_id == cluster_id, FeeSchedule.year == year)
            .options(selectinload(FeeSchedule.rules))
        )


class FeeCallRepository(Repository[FeeCall]):
    """Fee calls and the payments against them."""

    model = FeeCall
    what = "appel de cotisation"

    def load(self, fee_call_id: int, *, lock: bool = False) -> FeeCall:
        """A fee call with its organisation and payments (``lock``: see :meth:`Repository.get`)."""
        return self.get(
            fee_call_id, selectinload(FeeCall.organisation), selectinload(FeeCall.payments), lock=lock
        )

    def called_memberships(self, cluster_id: int, year: int) -> set[int]:
        """Memberships of a cluster already called for a year."""
        return set(
            self.session.scalars(
                select(FeeCall.membership_id).where(FeeCall.cluster_id == cluster_id, FeeCall.year == year)
            )
        )

    def of_cluster(self, cluster_id: int, year: int | None) -> Sequence[FeeCall]:
        """Fee calls of a cluster (of a year when given), with their organisation."""
        query = (
            select(FeeCall)
            .where(FeeCall.cluster_id == cluster_id)
            .options(selectinload(FeeCall.organisation))
            .order_by(FeeCall.year, FeeCall.id)
        )
        if year is not None:
            query = query.where(FeeCall.year == year)
        return self.session.scalars(query).all()

    def for_letters(self, cluster_id: int, year: int) -> Sequence[FeeCall]:
        """Fee calls of a cluster and year with what a letter prints: member, contacts, payments."""
        return self.session.scalars(
            select(FeeCall)
            .where(FeeCall.cluster_id == cluster_id, FeeCall.year == year)
            .options(
                selectinload(FeeCall.organisation).selectinload(Organisation.contacts),
                selectinload(FeeCall.payments),
            )
            .order_by(FeeCall.id)
        ).all()

    def past_due(self, cluster_id: int, on: dt.date) -> Sequence[FeeCall]:
        """Calls of a cluster due before ``on`` and still due, with their organisation's contacts."""
        return self.session.scalars(
            select(FeeCall)
            .where(
                FeeCall.cluster_id == cluster_id, FeeCall.status == FeeStatus.DUE.value, FeeCall.due_on < on
            )
            .options(selectinload(FeeCall.organisation).selectinload(Organisation.contacts))
        ).all()

    def paid_in_cluster(self, cluster_id: int) -> dict[int, Decimal]:
        """Fee call id -> amount paid, for every call of a cluster with a payment."""
        rows = self.session.execute(_paid_query().where(Payment.cluster_id == cluster_id))
        return {row[0]: row[1] for row in rows}

    def paid_on_calls(self, fee_call_ids: Collection[int]) -> dict[int, Decimal]:
        """Fee call id -> amount paid, for these calls."""
        rows = self.session.execute(_paid_query().where(Payment.fee_call_id.in_(fee_call_ids)))
        return {row[0]: row[1] for row in rows}

    def income(self, cluster_id: int, start: dt.date, end: dt.date) -> Decimal:
        """Payments a cluster received from ``start`` to ``end``."""
        return self.session.scalar(
            select(func.coalesce(func.sum(Payment.amount_eur), 0)).where(
                Payment.cluster_id == cluster_id, Payment.paid_on >= start, Payment.paid_on <= end
            )
        ) or Decimal(0)

    def late_amounts(self, cluster_id: int, on: dt.date) -> list[tuple[Decimal, Decimal]]:
        """(amount, paid) of the calls of a cluster due before ``on`` and still due."""
        rows = self.session.execute(
            select(FeeCall.amount_eur, func.coalesce(func.sum(Payment.amount_eur), 0))
            .outerjoin(Payment, Payment.fee_call_id == FeeCall.id)
            .where(
                FeeCall.cluster_id == cluster_id, FeeCall.status == FeeStatus.DUE.value, FeeCall.due_on < on
            )
            .group_by(FeeCall.id, FeeCall.amount_eur)
        ).all()
        return [(Decimal(amount), Decimal(paid)) for amount, paid in rows]
