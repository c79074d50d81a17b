"""The manager's pages of a member organisation's contacts: list, add, edit, remove.

The registry checks the signed-in manager on the organisation itself: a manager reads the
contacts of an organisation of its clusters and changes those of a current or future member;
another tenant's organisation or contact is "introuvable" (404).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from grappe.errors import InputError
from grappe.registry.organisations import service as organisations
from grappe.registry.organisations.schemas import ContactIn, ContactUpdate
from grappe.web.forms import Page, schema, shown, submitted
from grappe.web.manage.prologue import managed
from grappe.web.render import gettext, language_of
from grappe.web.unit import Visitor, as_page

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


def _contacts(request: Request, cluster_id: int, organisation_id: int, values: dict[str, Any]) -> Page:
    """The contacts page: the organisation, its contacts and the form adding one."""

    def context(session: Session, visitor: Visitor, error: str | None) -> dict[str, Any]:
        return {
            "cluster": managed(request, session, visitor, cluster_id),
            "organisation": organisations.get_organisation(session, visitor.actor, organisation_id),
            "contacts": organisations.list_contacts(session, visitor.actor, organisation_id),
            "values": values,
            "error": error,
        }

    return "manage/contacts.html", context


@router.get(CONTACTS, response_class=HTMLResponse)
@as_page
def contacts(request: Request, cluster_id: int, organisation_id: int) -> Response:
    """The contacts of a member organisation and the form adding one."""
    return shown(request, _contacts(request, cluster_id, organisation_id, BLANK))


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

    again = _contacts(request, cluster_id, organisation_id, values)
    return submitted(request, csrf_token, act, again, refusals=(InputError,))


def _contact_form(request: Request, cluster_id: int, contact_id: int, values: dict[str, Any] | None) -> Page:
    """The form changing a contact, filled with its record unless ``values`` are given."""

    def context(session: Session, visitor: Visitor, error: str | None) -> dict[str, Any]:
        cluster = managed(request, session, visitor, cluster_id)
        contact = organisations.editable_contact(session, visitor.actor, contact_id)
        filled = values
        if filled is None:
            filled = {
                "full_name": contact.full_name,
                "role": contact.role or "",
                "email": contact.email or "",
                "phone": contact.phone or "",
                "directory_consent": contact.directory_consent,
                "version": str(contact.version),
            }
        return {"cluster": cluster, "contact": contact, "values": filled, "error": error}

    return "manage/contact_form.html", context


@router.get("/gestion/{cluster_id:int}/contacts/{contact_id:int}", response_class=HTMLResponse)
@as_page
def contact_form(request: Request, cluster_id: int, contact_id: int) -> Response:
    """The form changing a contact."""
    return shown(request, _contact_form(request, cluster_id, contact_id, None))


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

    return submitted(request, csrf_token, act, _contact_form(request, cluster_id, contact_id, values))


@router.post("/gestion/{cluster_id:int}/contacts/{contact_id:int}/suppression")
@as_page
def remove_contact(request: Request, cluster_id: int, contact_id: int, csrf_token: FormText = "") -> Response:
    """Delete a contact, then back to its organisation's contacts."""

    def act(session: Session, visitor: Visitor) -> str:
        managed(request, session, visitor, cluster_id)
        contact = organisations.editable_contact(session, visitor.actor, contact_id)
        organisations.remove_contact(session, visitor.actor, contact_id)
        return f"/gestion/{cluster_id}/organisations/{contact.organisation_id}/contacts"

    return submitted(request, csrf_token, act)
