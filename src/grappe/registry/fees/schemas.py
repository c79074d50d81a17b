"""Inputs and outputs of the fee services: schedules, calls, payments, key figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from grappe.registry.bounds import ACCOUNTING, Amount, Int, Text, Year
from grappe.registry.models import (
    FeeCall,
    FeeMode,
    FeeRule,
    FeeSchedule,
    FeeStatus,
    Payment,
    SizeCategory,
)
from grappe.registry.organisations.schemas import Headcount
from grappe.registry.schemas import (
    Page,
    PastDate,
    Schema,
    stored,
)


class Bracket(Schema):
    """A headcount bracket: from ``min_headcount`` (inclusive) to the next bracket."""

    min_headcount: Headcount
    amount_eur: Annotated[Decimal, Amount(FeeRule.amount_eur)]


class FeeRuleIn(Schema):
    """One line of a fee schedule (``size_category`` None = any size)."""

    membership_type: Annotated[str, Text(FeeRule.membership_type, min_length=1)]
    size_category: SizeCategory | None = None
    mode: FeeMode = FeeMode.FIXED
    amount_eur: Annotated[Decimal, Amount(FeeRule.amount_eur)] | None = None
    brackets: list[Bracket] = Field(default_factory=list, max_length=100)


class FeeScheduleIn(Schema):
    """A fee schedule for one year (replaces the existing one)."""

    year: Annotated[int, Year(ACCOUNTING, FeeSchedule.year)]
    cap_eur: Annotated[Decimal, Amount(FeeSchedule.cap_eur)] | None = None
    due_days: Annotated[int, Int(FeeSchedule.due_days, le=3650)] = 30
    letterhead: Annotated[str, Text(FeeSchedule.letterhead, multiline=True)] | None = None
    """The cluster's postal address as its letters print it (several lines)."""
    payment_details: Annotated[str, Text(FeeSchedule.payment_details, multiline=True)] | None = None
    """How to pay, as the letters print it (bank account, payee)."""
    rules: list[FeeRuleIn] = Field(min_length=1, max_length=500)


if TYPE_CHECKING:
    BracketOut = Bracket
    FeeRuleOut = FeeRuleIn
else:
    BracketOut = stored(Bracket)
    FeeRuleOut = stored(FeeRuleIn)


if TYPE_CHECKING:
    _FeeScheduleStored = FeeScheduleIn
else:
    _FeeScheduleStored = stored(FeeScheduleIn)


class FeeScheduleOut(_FeeScheduleStored):
    """A stored fee schedule."""

    id: int
    version: int


class FeeCallOut(Schema):
    """A fee call with its derived status."""

    id: int
    membership_id: int
    organisation_id: int
    organisation: str
    year: int
    amount_eur: Decimal
    paid_eur: Decimal
    issued_on: dt.date
    due_on: dt.date
    status: FeeStatus
    waived_reason: str | None = None
    version: int


class FeeCallsIssued(Schema):
    """Result of issuing fee calls for a year."""

    year: int
    issued: int
    already: int
    total_eur: Decimal


class PaymentIn(Schema):
    """A payment against a fee call."""

    amount_eur: Annotated[Decimal, Amount(Payment.amount_eur, positive=True)]
    paid_on: PastDate
    method: Annotated[str, Text(Payment.method)] | None = None
    reference: Annotated[str, Text(Payment.reference)] | None = None


class WaiveIn(Schema):
    """Waiving a fee call."""

    version: Annotated[int, Int(FeeCall.version, ge=1)]
    reason: Annotated[str, Text(FeeCall.waived_reason, min_length=1)]


class DunningLine(Schema):
    """A late fee call in the dunning list."""

    fee_call_id: int
    organisation_id: int
    organisation: str
    year: int
    amount_eur: Decimal
    paid_eur: Decimal
    outstanding_eur: Decimal
    due_on: dt.date
    days_late: int
    contacts: list[str]


class FeeCallPage(Page[FeeCallOut]):
    """A page of fee calls."""


class DunningPage(Page[DunningLine]):
    """A page of the dunning list."""


# --- key figures -----------------------------------------------------------------------------


class YearFlow(Schema):
    """Entries and exits of one year, and members at its end."""

    year: int
    entries: int
    exits: int
    members_at_end: int
    retention: float | None


class KeyFigures(Schema):
    """Key figures of a cluster organisation on a date."""

    cluster_id: int
    on: dt.date
    members: int
    by_kind: dict[str, int]
    by_size: dict[str, int]
    tpe_pme_share: float | None
    flows: list[YearFlow]
    fee_income_eur: Decimal
    arrears_eur: Decimal
    by_departement: dict[str, int]
    communes: int
