"""The partners' pages: search with reasons, profile editing, calls for partners (list, detail, interest).

Every page first asks the visitor to sign in; then the partners services check the signed-in
actor on each object (another tenant's profile or call is "introuvable", 404). Mail leaves once
the page's unit of work has committed.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from grappe.errors import InputError, PermissionDeniedError
from grappe.kit.mail import Mail
from grappe.partners.models import PROFILE_FIELDS, ProfileTag, Visibility
from grappe.partners.postings import service as postings
from grappe.partners.postings.schemas import InterestIn, PostingIn
from grappe.partners.profiles import service as profiles
from grappe.partners.profiles.schemas import ProfileIn, SearchIn, SearchScope
from grappe.web.forms import REFUSALS, Page, day_of, refusal, schema, shown, submitted
from grappe.web.render import gettext, language_of
from grappe.web.unit import Visitor, as_page, show, unit

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]
#: Suggestions a search page shows.
TOP = 20
TEXT_FIELDS = tuple(f for f in PROFILE_FIELDS if f != "tags")
#: The controlled tags in the form's order.
TAGS = [tag.value for tag in ProfileTag]


def field_labels(language: str) -> dict[str, str]:
    """The profile form's fields, as the page names them."""
    return {
        "capabilities": gettext(language, "Savoir-faire"),
        "products": gettext(language, "Produits"),
        "technologies": gettext(language, "Technologies"),
        "equipment": gettext(language, "Équipements"),
        "needs": gettext(language, "Besoins"),
        "markets": gettext(language, "Marchés"),
        "keywords": gettext(language, "Mots-clés"),
        "tags": gettext(language, "Étiquettes"),
    }


def tag_labels(language: str) -> dict[str, str]:
    """The controlled tags, as the page names them."""
    return {
        "research": gettext(language, "Recherche et développement"),
        "design": gettext(language, "Conception, bureau d'études"),
        "machining": gettext(language, "Usinage, décolletage"),
        "manufacturing": gettext(language, "Fabrication, production"),
        "assembly": gettext(language, "Assemblage, intégration"),
        "testing": gettext(language, "Essais, mesures, contrôle"),
        "materials": gettext(language, "Matériaux"),
        "software": gettext(language, "Logiciel, numérique"),
        "automation": gettext(language, "Automatisme, robotique"),
        "energy": gettext(language, "Énergie"),
        "environment": gettext(language, "Environnement, recyclage"),
        "logistics": gettext(language, "Logistique"),
        "maintenance": gettext(language, "Maintenance"),
        "training": gettext(language, "Formation"),
        "consulting": gettext(language, "Conseil"),
        "export": gettext(language, "Export, international"),
        "distribution": gettext(language, "Distribution, négoce"),
        "subcontracting": gettext(language, "Sous-traitance"),
    }


def level_labels(language: str) -> dict[str, str]:
    """Who reads a field, for each visibility."""
    return {
        "public": gettext(language, "Public (grappes partenaires, financeurs)"),
        "cluster": gettext(language, "Adhérents de la grappe"),
        "manager": gettext(language, "Gestionnaires seulement"),
    }


def scope_labels(language: str) -> dict[str, str]:
    """The search's scopes, as the page names them."""
    return {
        "cluster": gettext(language, "Mes grappes"),
        "clusters": gettext(language, "Mes grappes et les grappes partenaires"),
        "all": gettext(language, "Toutes les organisations connues"),
    }


def _labels(language: str) -> dict[str, Any]:
    return {
        "fields": field_labels(language),
        "tags": tag_labels(language),
        "levels": level_labels(language),
        "scopes": scope_labels(language),
    }


# --- search ----------------------------------------------------------------------------------------


@router.get("/partenaires", response_class=HTMLResponse)
@as_page
def search_page(request: Request) -> Response:
    """The partner search: a need in French, a scope, the suggestions with their reasons."""
    text = request.query_params.get("q", "").strip()
    scope = request.query_params.get("portee", SearchScope.CLUSTERS.value)
    if scope not in {s.value for s in SearchScope}:
        raise InputError(f"portee={scope!r} : attendu cluster, clusters ou all")
    language = language_of(request)
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        found = None
        if text:
            data = schema(SearchIn, {"text": gettext(language, "Besoin")}, text=text, scope=scope, top=TOP)
            found = profiles.search(session, visitor.actor, data)
    context = {
        "search": text,
        "scope": scope,
        "found": found,
        "labels": _labels(language),
        "own": visitor.actor.organisation_id,
    }
    return show(request, visitor, "partners/search.html", context)


# --- profiles --------------------------------------------------------------------------------------


@router.get("/partenaires/profils/{organisation_id:int}", response_class=HTMLResponse)
@as_page
def profile_page(request: Request, organisation_id: int) -> Response:
    """A profile as the visitor may read it, and its form when the visitor fills it in."""
    return shown(request, _profile_page(request, organisation_id))


def _profile_page(request: Request, organisation_id: int) -> Page:
    def context(session: Session, visitor: Visitor, error: str | None) -> dict[str, Any]:
        return {
            "profile": profiles.get_profile(session, visitor.actor, organisation_id),
            "labels": _labels(language_of(request)),
            "text_fields": TEXT_FIELDS,
            "all_tags": TAGS,
            "error": error,
            "saved": error is None and request.query_params.get("enregistre") == "1",
        }

    return "partners/profile.html", context


class ProfileForm(BaseModel):
    """The profile form as posted (every field a text; the service's schema validates them)."""

    model_config = ConfigDict(extra="ignore")

    capabilities: str = ""
    products: str = ""
    technologies: str = ""
    equipment: str = ""
    needs: str = ""
    markets: str = ""
    keywords: str = ""
    tags: list[str] = Field(default_factory=list)
    vis_capabilities: str = ""
    vis_products: str = ""
    vis_technologies: str = ""
    vis_equipment: str = ""
    vis_needs: str = ""
    vis_markets: str = ""
    vis_keywords: str = ""
    vis_tags: str = ""
    consent_shown: str = ""
    consent: str = ""
    version: str = ""
    csrf_token: str = ""


@router.post("/partenaires/profils/{organisation_id:int}", response_class=HTMLResponse)
@as_page
def save_profile(request: Request, organisation_id: int, form: Annotated[ProfileForm, Form()]) -> Response:
    """Save the profile form; the form again, with the reason, on a refusal."""
    return _save_profile(request, organisation_id, form.model_dump())


def _save_profile(request: Request, organisation_id: int, form: dict[str, Any]) -> Response:
    language = language_of(request)
    labels = field_labels(language)
    values: dict[str, Any] = {field: form[field] for field in TEXT_FIELDS}
    values["tags"] = list(form["tags"])
    values["visibility"] = {
        field: str(form.get(f"vis_{field}"))
        for field in PROFILE_FIELDS
        if form.get(f"vis_{field}") in {v.value for v in Visibility}
    }
    if form.get("consent_shown") == "1":
        values["consent"] = form.get("consent") == "1"
    version = str(form.get("version", ""))
    if version.isdigit():
        values["version"] = int(version)

    def act(session: Session, visitor: Visitor) -> str:
        data = schema(ProfileIn, labels, **values)
        profiles.update_profile(session, visitor.actor, organisation_id, data)
        return f"/partenaires/profils/{organisation_id}?enregistre=1"

    return submitted(request, str(form.get("csrf_token", "")), act, _profile_page(request, organisation_id))


# --- calls for partners ----------------------------------------------------------------------------


def _postings_context(request: Request, session: Any, visitor: Any, error: str | None) -> dict[str, Any]:
    closed = request.query_params.get("closes") == "1"
    page = postings.list_postings(session, visitor.actor, include_closed=closed)
    return {
        "page": page,
        "closed": closed,
        "clusters": postings.home_clusters(session, visitor.actor),
        "manager": visitor.actor.role.value in ("manager", "admin"),
        "error": error,
    }


@router.get("/partenaires/recherches", response_class=HTMLResponse)
@as_page
def postings_page(request: Request) -> Response:
    """The open calls of the visitor's clusters and of the clusters sharing with them; the new-call form."""
    return shown(request, ("partners/postings.html", partial(_postings_context, request)))


@router.post("/partenaires/recherches", response_class=HTMLResponse)
@as_page
def create_posting(
    request: Request,
    cluster_id: FormText = "",
    title: FormText = "",
    description: FormText = "",
    deadline: FormText = "",
    organisation_id: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Publish a call; the list again, with the reason, on a refusal."""
    language = language_of(request)
    labels = {
        "title": gettext(language, "Intitulé"),
        "description": gettext(language, "Description"),
        "deadline": gettext(language, "Date limite"),
        "organisation_id": gettext(language, "N° de l'organisation"),
    }
    mails: list[Mail] = []

    def act(session: Session, visitor: Visitor) -> str:
        if not cluster_id.isdigit():
            raise InputError(f"« {gettext(language, 'Structure')} » : choisissez une structure")
        data = schema(
            PostingIn,
            labels,
            title=title,
            description=description,
            deadline=day_of(labels["deadline"], deadline),
            organisation_id=int(organisation_id) if organisation_id.strip().isdigit() else None,
        )
        done = postings.create_posting(session, visitor.actor, int(cluster_id), data)
        mails.extend(done.mails)
        return f"/partenaires/recherches/{done.result.id}"

    again = ("partners/postings.html", partial(_postings_context, request))
    answer = submitted(request, csrf_token, act, again)
    postings.notify(tuple(mails))  # once committed; none on a refusal
    return answer


def _posting_page(posting_id: int) -> Page:
    return "partners/posting.html", partial(_posting_context, posting_id)


def _posting_context(
    posting_id: int, session: Session, visitor: Visitor, error: str | None
) -> dict[str, Any]:
    posting = postings.get_posting(session, visitor.actor, posting_id)
    interests = postings.list_interests(session, visitor.actor, posting_id)
    own = visitor.actor.organisation_id
    may_interest = posting.open and (
        visitor.actor.role.value in ("manager", "admin")
        or (own is not None and own != posting.organisation_id and not interests.items)
    )
    return {
        "posting": posting,
        "interests": interests,
        "may_interest": may_interest,
        "asks_organisation": visitor.actor.role.value in ("manager", "admin"),
        "error": error,
    }


@router.get("/partenaires/recherches/{posting_id:int}", response_class=HTMLResponse)
@as_page
def posting_page(request: Request, posting_id: int) -> Response:
    """One call: what is sought, the interests the visitor may read, the interest and closing forms."""
    return shown(request, _posting_page(posting_id))


@router.post("/partenaires/recherches/{posting_id:int}/interet", response_class=HTMLResponse)
@as_page
def express_interest(
    request: Request,
    posting_id: int,
    message: FormText = "",
    organisation_id: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Express the visitor's organisation's interest (a manager: the one named)."""
    language = language_of(request)
    labels = {
        "message": gettext(language, "Message"),
        "organisation_id": gettext(language, "N° de l'organisation"),
    }
    mails: list[Mail] = []

    def act(session: Session, visitor: Visitor) -> str:
        data = schema(
            InterestIn,
            labels,
            message=message or None,
            organisation_id=int(organisation_id) if organisation_id.strip().isdigit() else None,
        )
        mails.extend(postings.express_interest(session, visitor.actor, posting_id, data).mails)
        return f"/partenaires/recherches/{posting_id}"

    again = _posting_page(posting_id)
    answer = submitted(request, csrf_token, act, again, refusals=(*REFUSALS, PermissionDeniedError))
    postings.notify(tuple(mails))  # once committed; none on a refusal
    return answer


@router.post("/partenaires/recherches/{posting_id:int}/cloture", response_class=HTMLResponse)
@as_page
def close_posting(request: Request, posting_id: int, csrf_token: FormText = "") -> Response:
    """Close a call (its poster's users, its cluster's managers)."""

    def act(session: Session, visitor: Visitor) -> str:
        postings.close_posting(session, visitor.actor, posting_id)
        return f"/partenaires/recherches/{posting_id}"

    return submitted(request, csrf_token, act)
