"""Printable fee calls and reminder letters of the manager's fee pages, as PDF downloads.

The letters are the registry's (:mod:`grappe.registry.fees.letters`: French, WeasyPrint); the
registry checks the signed-in manager on the cluster or on the fee call (another tenant's is
"introuvable", 404), and says in French why a call needs no letter (422).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from grappe.registry.fees import letters
from grappe.web.forms import signed_in
from grappe.web.unit import as_page, unit

router = APIRouter(include_in_schema=False)

#: The letter kinds as the URLs name them.
CALL, REMINDER = letters.LetterKind.CALL, letters.LetterKind.REMINDER
KINDS: dict[str, letters.LetterKind] = {"appels": CALL, "relances": REMINDER}
ONE: dict[str, letters.LetterKind] = {"appel": CALL, "relance": REMINDER}


def _pdf(body: bytes, filename: str) -> Response:
    return Response(
        body,
        media_type=letters.MEDIA_TYPE,
        headers={"content-disposition": f'attachment; filename="{filename}"', "cache-control": "no-store"},
    )


@router.get("/gestion/{cluster_id:int}/cotisations/{kind}-{year:int}.pdf")
@as_page
def year_letters(
    request: Request, cluster_id: int, kind: Literal["appels", "relances"], year: int
) -> Response:
    """Every fee call (or reminder) letter of a year, one PDF, a letter a page, by member name."""
    with unit(request) as (session, visitor):
        signed_in(request, visitor)
        printed = letters.letters_of_year(session, visitor.actor, cluster_id, year, KINDS[kind])
    return _pdf(letters.render_pdf(printed), f"{kind}-{year}-structure-{cluster_id}.pdf")


@router.get("/gestion/appels/{fee_call_id:int}/{kind}.pdf")
@as_page
def call_letter(request: Request, fee_call_id: int, kind: Literal["appel", "relance"]) -> Response:
    """The fee call (or reminder) letter of one call."""
    with unit(request) as (session, visitor):
        signed_in(request, visitor)
        printed = letters.letter_of_call(session, visitor.actor, fee_call_id, ONE[kind])
    return _pdf(letters.render_pdf([printed]), letters.file_name(printed))
