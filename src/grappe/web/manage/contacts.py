"""The manager's pages of a member organisation's contacts: list, add, edit, remove.

The registry checks the signed-in manager on the organisation itself: a manager reads the
contacts of an organisation of its clusters and changes those of a current or future member;
another tenant's organisation or contact is "introuvable" (404).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from grappe.errors import InputError
from grappe.registry.organisations import service as organisations
from grappe.registry.organisations.schemas import ContactIn, ContactUpdate
from grappe.web.forms import schema, submitted
from grappe.web.manage.prologue import managed
from grappe.web.render import gettext, language_of
from grappe.web.unit import Visitor, as_page, show, unit

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]
#: The contact form's fields, empty.
BLANK = {"full_name": "", "role": "", "email": "", "phone": "", "directory_consent": False}


def contact_labels(language: str) -> dict[str, str]:
    """The contact form's fields, as the page names them (for messages)."""
    return {
        "full_name": gettext(language, "Nom et prénom"),
        "role": gettext(language, "Fonction"),
        "email": gettext(language, "Courriel"),
        "phone": gettext(language, "Téléphone"),
        "directory_consent": gettext(language, "Accepte de figurer dans l'annuaire des adhérents"),
        "version": "version",
    }


def _values(full_name: str, role: str, email: str, phone: str, consent: str) -> dict[str, Any]:
    return {
        "full_name": full_name,
        "role": role,
        "email": email,
        "phone": phone,
        "directory_consent": consent in {"1", "on", "true"},
    }


def _fields(values: dict[str, Any]) -> dict[str, Any]:
    """The form's values as the schema takes them (blank text: none)."""
    return {
        key: (value.strip() or None) if isinstance(value, str) else value for key, value in values.items()
    }


CONTACTS = "/gestion/{cluster_id:int}/organisations/{organisation_id:int}/contacts"


def _contacts(
    request: Request,
    cluster_id: int,
    organisation_id: int,
    values: dict[str, Any],
    session: Session,
    visitor: Visitor,
    error: str | None,
) -> dict[str, Any]:
    """The contacts page: the organisation, its contacts and the form adding one."""
    return {
        "cluster": managed(request, session, visitor, cluster_id),
        "organisation": organisations.get_organisation(session, visitor.actor, organisation_id),
        "contacts": organisations.list_contacts(session, visitor.actor, organisation_id),
        "values": values,
        "error": error,
    }


@router.get(CONTACTS, response_class=HTMLResponse)
@as_page
def contacts(request: Request, cluster_id: int, organisation_id: int) -> Response:
    """The contacts of a member organisation and the form adding one."""
    with unit(request) as (session, visitor):
        context = _contacts(request, cluster_id, organisation_id, BLANK, session, visitor, None)
    return show(request, visitor, "manage/contacts.html", context)


@router.post(CONTACTS, response_class=HTMLResponse)
@as_page
def add_contact(
    request: Request,
    cluster_id: int,
    organisation_id: int,
    full_name: FormText = "",
    role: FormText = "",
    email: FormText = "",
    phone: FormText = "",
    directory_consent: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Add a contact, then back to the contacts; the page again with the form on a refusal."""
    values = _values(full_name, role, email, phone, directory_consent)
    labels = contact_labels(language_of(request))

    def act(session: Session, visitor: Visitor) -> str:
        managed(request, session, visitor, cluster_id)
        data = schema(ContactIn, labels, **_fields(values))
        organisations.add_contact(session, visitor.actor, organisation_id, data)
        return f"/gestion/{cluster_id}/organisations/{organisation_id}/contacts"

    again = ("manage/contacts.html", partial(_contacts, request, cluster_id, organisation_id, values))
    return submitted(request, csrf_token, act, again, refusals=(InputError,))


def _contact_form(
    request: Request,
    cluster_id: int,
    contact_id: int,
    values: dict[str, Any] | None,
    session: Session,
    visitor: Visitor,
    error: str | None,
) -> dict[str, Any]:
    """The form changing a contact, filled with its record unless ``values`` are given."""
    cluster = managed(request, session, visitor, cluster_id)
    contact = organisations.editable_contact(session, visitor.actor, contact_id)
    if values is None:
        values = {
            "full_name": contact.full_name,
            "role": contact.role or "",
            "email": contact.email or "",
            "phone": contact.phone or "",
            "directory_consent": contact.directory_consent,
            "version": str(contact.version),
        }
    return {"cluster": cluster, "contact": contact, "values": values, "error": error}


@router.get("/gestion/{cluster_id:int}/contacts/{contact_id:int}", response_class=HTMLResponse)
@as_page
def contact_form(request: Request, cluster_id: int, contact_id: int) -> Response:
    """The form changing a contact."""
    with unit(request) as (session, visitor):
        context = _contact_form(request, cluster_id, contact_id, None, session, visitor, None)
    return show(request, visitor, "manage/contact_form.html", context)


@router.post("/gestion/{cluster_id:int}/contacts/{contact_id:int}", response_class=HTMLResponse)
@as_page
def update_contact(
    request: Request,
    cluster_id: int,
    contact_id: int,
    full_name: FormText = "",
    role: FormText = "",
    email: FormText = "",
    phone: FormText = "",
    directory_consent: FormText = "",
    version: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Change a contact, then back to its organisation's contacts; the form again on a refusal."""
    values = _values(full_name, role, email, phone, directory_consent) | {"version": version}
    labels = contact_labels(language_of(request))

    def act(session: Session, visitor: Visitor) -> str:
        managed(request, session, visitor, cluster_id)
        data = schema(ContactUpdate, labels, **_fields(values))
        changed = organisations.update_contact(session, visitor.actor, contact_id, data)
        return f"/gestion/{cluster_id}/organisations/{changed.organisation_id}/contacts"

    again = ("manage/contact_form.html", partial(_contact_form, request, cluster_id, contact_id, values))
    return submitted(request, csrf_token, act, again)


@router.post("/gestion/{cluster_id:int}/contacts/{contact_id:int}/suppression")
@as_page
def remove_contact(request: Request, cluster_id: int, contact_id: int, csrf_token: FormText = "") -> Response:
    """Delete a contact, then back to its organisation's contacts."""
    with unit(request) as (session, visitor):
        managed(request, session, visitor, cluster_id, csrf_token)
        contact = organisations.editable_contact(session, visitor.actor, contact_id)
        organisations.remove_contact(session, visitor.actor, contact_id)
    return RedirectResponse(
        f"/gestion/{cluster_id}/organisations/{contact.organisation_id}/contacts", status_code=303
    )
