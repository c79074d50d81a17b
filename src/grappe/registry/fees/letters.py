"""Printable fee calls and reminder letters: French HTML from a Jinja2 template, PDF from WeasyPrint.

A letter carries the cluster's name and letterhead, the member, the amount due, the due date
and a payment reference; amounts and dates are written the French way (Babel). The letterhead
and payment details come from the year's fee schedule (``letterhead``, ``payment_details``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from babel.dates import format_date
from babel.numbers import format_currency
from sqlalchemy.orm import Session

from grappe.errors import InputError
from grappe.registry import policy
from grappe.registry.clusters import service as clusters
from grappe.registry.fees.repository import FeeCallRepository, FeeScheduleRepository
from grappe.registry.fees.service import CENT, load_call
from grappe.registry.models import FeeCall, FeeStatus
from grappe.registry.policy import Access, Actor

if TYPE_CHECKING:
    from jinja2 import Template

LOCALE: Final = "fr_FR"
MEDIA_TYPE: Final = "application/pdf"


class LetterKind(StrEnum):
    """What a letter asks: the year's fee (call) or the rest of an overdue one (reminder)."""

    CALL = "call"
    REMINDER = "reminder"


@dataclass(frozen=True)
class Letter:
    """One letter as printed: every text already formatted in French."""

    fee_call_id: int
    reminder: bool
    cluster: str
    issuer: str
    recipient: str
    member: str
    year: int
    dated: str
    amount: str
    paid: str
    remaining: str
    due_on: str
    days_late: int
    reference: str
    payment_details: str | None


def payment_reference(call: FeeCall) -> str:
    """The reference a member writes on its payment: ``COT-<year>-<call number on 6 digits>``."""
    return f"COT-{call.year}-{call.id:06d}"


def euros(amount: Decimal) -> str:
    """``1 200,00 €``: an amount as a French letter writes it."""
    return format_currency(amount, "EUR", locale=LOCALE)


def long_date(day: dt.date) -> str:
    """``3 décembre 2026``."""
    return format_date(day, "long", locale=LOCALE)


def letters_of_year(
    session: Session, actor: Actor, cluster_id: int, year: int, kind: LetterKind, *, on: dt.date | None = None
) -> list[Letter]:
    """The letters of a year (administrators, the cluster's managers), by member name.

    Calls: every call of the year with something left to pay, not waived. Reminders: those
    whose due date has passed on ``on``.

    Raises
    ------
    InputError
        No call of that year needs such a letter.
    """
    policy.require_cluster(session, actor, cluster_id, Access.MANAGE, "imprimer les lettres de cotisation")
    on = on or dt.date.today()
    calls = FeeCallRepository(session).for_letters(cluster_id, year)
    head = _Head.of(session, cluster_id, year)
    letters = [head.letter(call, kind, on) for call in calls if _needs(call, kind, on) is None]
    if not letters:
        what = (
            "aucun appel de cotisation à imprimer"
            if kind is LetterKind.CALL
            else "aucune cotisation échue à relancer"
        )
        raise InputError(f"{what} pour {year} au {on.isoformat()}")
    return sorted(letters, key=lambda x: (x.member.casefold(), x.fee_call_id))


def letter_of_call(
    session: Session, actor: Actor, fee_call_id: int, kind: LetterKind, *, on: dt.date | None = None
) -> Letter:
    """The letter of one fee call (administrators, the managers of its cluster).

    Raises
    ------
    InputError
        The call needs no such letter (settled, waived, or not yet overdue for a reminder).
    """
    call = load_call(session, actor, fee_call_id, "imprimer une lettre de cotisation")
    on = on or dt.date.today()
    refusal = _needs(call, kind, on)
    if refusal:
        raise InputError(f"appel {fee_call_id} : {refusal}")
    return _Head.of(session, call.cluster_id, call.year).letter(call, kind, on)


def render_pdf(letters: Sequence[Letter]) -> bytes:
    """One PDF holding the letters in order, each starting on a new page."""
    from weasyprint import HTML

    html = _template().render(letters=letters, title="Cotisations")
    return bytes(HTML(string=html).write_pdf())


def file_name(letter: Letter) -> str:
    """The file name of a letter printed alone (``appel-2025-000012.pdf``)."""
    return f"{'relance' if letter.reminder else 'appel'}-{letter.year}-{letter.fee_call_id:06d}.pdf"


# --------------------------------------------------------------------------------------------
# implementation


@lru_cache(maxsize=1)
def _template() -> Template:
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("grappe.registry.fees", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    return environment.get_template("letters.html")


def _paid(call: FeeCall) -> Decimal:
    return sum((p.amount_eur for p in call.payments), Decimal(0)).quantize(CENT)


def _needs(call: FeeCall, kind: LetterKind, on: dt.date) -> str | None:
    """Why the call needs no letter of this kind on ``on`` (None when it does)."""
    if call.status == FeeStatus.WAIVED.value:
        return "cotisation exonérée, pas de lettre"
    if _paid(call) >= call.amount_eur:
        return "cotisation réglée, pas de lettre"
    if kind is LetterKind.REMINDER and call.due_on >= on:
        return f"échéance du {call.due_on.isoformat()} non dépassée au {on.isoformat()}, pas de relance"
    return None


@dataclass(frozen=True)
class _Head:
    """What every letter of a cluster and year shares: the sender and how to pay."""

    cluster: str
    issuer: str
    payment_details: str | None

    @classmethod
    def of(cls, session: Session, cluster_id: int, year: int) -> _Head:
        cluster = clusters.load_cluster(session, cluster_id)
        schedule = FeeScheduleRepository(session).of_year(cluster_id, year)
        return cls(
            cluster=f"{cluster.name} ({cluster.acronym})" if cluster.acronym else cluster.name,
            issuer=schedule.letterhead if schedule and schedule.letterhead else cluster.name,
            payment_details=schedule.payment_details if schedule else None,
        )

    def letter(self, call: FeeCall, kind: LetterKind, on: dt.date) -> Letter:
        org = call.organisation
        contact = next((c for c in org.contacts if c.full_name), None)
        recipient = [org.name]
        if contact is not None:
            role = f", {contact.role}" if contact.role else ""
            recipient.append(f"À l'attention de {contact.full_name}{role}")
        if org.town:
            recipient.append(org.town)
        paid = _paid(call)
        return Letter(
            fee_call_id=call.id,
            reminder=kind is LetterKind.REMINDER,
            cluster=self.cluster,
            issuer=self.issuer,
            recipient="\n".join(recipient),
            member=org.name,
            year=call.year,
            dated=long_date(on),
            amount=euros(call.amount_eur),
            paid=euros(paid),
            remaining=euros(call.amount_eur - paid),
            due_on=long_date(call.due_on),
            days_late=max(0, (on - call.due_on).days),
            reference=payment_reference(call),
            payment_details=self.payment_details,
        )
