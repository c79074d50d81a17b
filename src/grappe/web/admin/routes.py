"""The platform administrator's pages: users and roles, the audit log and its export, detection
runs started from the page; and the invitation form that managers share (for their clusters).

parse the URL or the form -> accounts service (or the detection job) -> page. Every page asks
an anonymous visitor to sign in; the services then refuse any role but the administrator's
(403), except the invitation form where the policy decides per cluster and organisation.
"""

from __future__ import annotations

import json
import math
import tempfile
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from grappe.config import get_settings
from grappe.detection.significance.permutation import PERMUTATIONS
from grappe.errors import ConflictError, InputError
from grappe.kit import export
from grappe.registry import policy
from grappe.registry.accounts import links
from grappe.registry.accounts import service as accounts
from grappe.registry.accounts.schemas import AuditFilter, RoleChange, UserCreate
from grappe.registry.clusters import service as clusters
from grappe.registry.jobs import service as detection_jobs
from grappe.registry.models import Role
from grappe.web.accounts.routes import send_after_commit
from grappe.web.admin import jobs
from grappe.web.forms import Page, day_of, page_number, refusal, schema, shown, submitted
from grappe.web.render import gettext, language_of
from grappe.web.unit import Visitor, as_page, show, unit

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]
#: Rows per page of the users and of the audit log.
PAGE_SIZE = 25
#: The format of each audit export the page offers (people open its CSV in a spreadsheet).
EXPORT_FORMATS: dict[str, export.FileFormat] = {"csv": "csv-excel", "xlsx": "xlsx"}
#: What the ``etat`` filter of the user list may say.
STATES = {"actifs": True, "inactifs": False}


def role_names(language: str) -> dict[Role, str]:
    """The roles as the pages name them."""
    return {
        Role.ADMIN: gettext(language, "Administrateur de la plateforme"),
        Role.MANAGER: gettext(language, "Gestionnaire de structure"),
        Role.MEMBER: gettext(language, "Adhérent"),
        Role.FUNDER: gettext(language, "Financeur"),
        Role.REVIEWER: gettext(language, "Évaluateur"),
    }


@router.get("/admin", response_class=HTMLResponse)
@as_page
def home(request: Request) -> Response:
    """The administrator's entry: users, audit log, detection runs."""
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        users = accounts.users_page(session, visitor.actor, limit=1)
        audit = accounts.audit_view(session, visitor.actor, AuditFilter(), limit=1)
        runs = detection_jobs.count(session, visitor.actor)
    context = {"users": users.total, "entries": audit.total, "runs": runs}
    return show(request, visitor, "admin/home.html", context)


# --- users and roles ---------------------------------------------------------------------------


def _int_param(request: Request, key: str, label: str) -> int | None:
    raw = request.query_params.get(key, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 2**31 - 1:
        raise InputError(f"« {label} » : {raw!r} n'est pas un numéro (entier positif)")
    return int(raw)


@router.get("/admin/utilisateurs", response_class=HTMLResponse)
@as_page
def users(request: Request) -> Response:
    """The users by e-mail: search, role and state kept in the URL, paginated on the server."""
    language = language_of(request)
    search = request.query_params.get("q", "").strip()
    role_raw = request.query_params.get("role", "")
    state = request.query_params.get("etat", "")
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        policy.require_admin(visitor.actor, "lister les utilisateurs")
        if role_raw and role_raw not in {r.value for r in role_names(language)}:
            raise InputError(f"« {gettext(language, 'Rôle')} » : rôle {role_raw!r} inconnu")
        if state and state not in STATES:
            raise InputError(f"« {gettext(language, 'État')} » : attendu actifs ou inactifs, pas {state!r}")
        number = page_number(request.query_params.get("page"))
        result = accounts.users_page(
            session,
            visitor.actor,
            search=search[:254] or None,
            role=Role(role_raw) if role_raw else None,
            active=STATES.get(state),
            limit=PAGE_SIZE,
            offset=(number - 1) * PAGE_SIZE,
        )
    names = role_names(language)
    context = {
        "result": result,
        "search": search,
        "role": role_raw,
        "state": state,
        "roles": [("", gettext(language, "Tous"))] + [(r.value, n) for r, n in names.items()],
        "role_names": {r.value: n for r, n in names.items()},
        "states": [
            ("", gettext(language, "Tous")),
            ("actifs", gettext(language, "Actifs")),
            ("inactifs", gettext(language, "Inactifs")),
        ],
        "page_number": number,
        "pages": max(1, math.ceil(result.total / PAGE_SIZE)),
    }
    return show(request, visitor, "admin/users.html", context)


def _user_page(
    request: Request, user_id: int, session: Session, visitor: Visitor, error: str | None = None
) -> dict[str, Any]:
    language = language_of(request)
    user = accounts.get_user(session, visitor.actor, user_id)
    managed = clusters.managed_clusters(session, visitor.actor)
    names = role_names(language)
    return {
        "user": user,
        "error": error,
        "done": request.query_params.get("fait"),
        "roles": [(r.value, n) for r, n in names.items()],
        "role_names": {r.value: n for r, n in names.items()},
        "clusters": [(str(c.id), c.name) for c in managed],
        "self": user.id == visitor.actor.user_id,
    }


@router.get("/admin/utilisateurs/{user_id:int}", response_class=HTMLResponse)
@as_page
def user_page(request: Request, user_id: int) -> Response:
    """A user: its role and scope (a form changes them), deactivate or reactivate, invitation."""
    return shown(request, _user(request, user_id))


def _user(request: Request, user_id: int) -> Page:
    return "admin/user.html", partial(_user_page, request, user_id)


@router.post("/admin/utilisateurs/{user_id:int}/role", response_class=HTMLResponse)
@as_page
def change_role(
    request: Request,
    user_id: int,
    role: FormText = "",
    clusters_: Annotated[list[str] | None, Form(alias="clusters")] = None,
    organisation: FormText = "",
    funder: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Give the user another role and scope."""
    language = language_of(request)
    labels = {
        "role": gettext(language, "Rôle"),
        "clusters": gettext(language, "Structures gérées"),
        "organisation_id": gettext(language, "N° de l'organisation"),
        "funder": gettext(language, "Financeur"),
    }

    def act(session: Session, visitor: Visitor) -> str:
        data = schema(
            RoleChange,
            labels,
            role=role,
            clusters=[c for c in (clusters_ or []) if c.strip()] if role == Role.MANAGER.value else [],
            organisation_id=(organisation.strip() or None)
            if role in {Role.MEMBER.value, Role.REVIEWER.value}
            else None,
            funder=(funder.strip() or None) if role == Role.FUNDER.value else None,
        )
        accounts.change_role(session, visitor.actor, user_id, data)
        return f"/admin/utilisateurs/{user_id}?fait=role"

    return submitted(request, csrf_token, act, _user(request, user_id))


@router.post("/admin/utilisateurs/{user_id:int}/{change}", response_class=HTMLResponse)
@as_page
def set_state(
    request: Request,
    user_id: int,
    change: Literal["desactiver", "reactiver", "relancer"],
    csrf_token: FormText = "",
) -> Response:
    """Deactivate the user (its sessions end), reactivate it, or send its invitation again."""
    sent: list[Any] = []

    def act(session: Session, visitor: Visitor) -> str:
        if change == "relancer":
            sent.append(links.resend_invitation(session, visitor.actor, user_id))
        else:
            accounts.set_active(session, visitor.actor, user_id, change == "reactiver")
        return f"/admin/utilisateurs/{user_id}?fait={change}"

    answer = submitted(request, csrf_token, act, _user(request, user_id))
    if sent and not send_after_commit(sent[0]):
        message = gettext(
            language_of(request), "Le message n'a pas pu partir : vérifiez le serveur de messagerie."
        )
        return show(request, Visitor(), "error.html", {"message": message}, status_code=503)
    return answer


#: The roles a person may be invited with, as the invitation form names them.
INVITED_ROLES = (Role.MANAGER, Role.MEMBER, Role.FUNDER, Role.REVIEWER, Role.ADMIN)


def _invite_context(
    request: Request, values: dict[str, str], session: Session, visitor: Visitor, error: str | None
) -> dict[str, Any]:
    names = role_names(language_of(request))
    roles = [r for r in INVITED_ROLES if visitor.actor.role is Role.ADMIN or r in {Role.MANAGER, Role.MEMBER}]
    managed = clusters.managed_clusters(session, visitor.actor)
    return {
        "values": values,
        "error": error,
        "roles": [(r.value, names[r]) for r in roles],
        "clusters": [("", "–")] + [(str(c.id), c.name) for c in managed],
        "sent_to": request.query_params.get("envoye"),
    }


EMPTY_INVITATION = dict.fromkeys(("email", "name", "role", "cluster", "organisation", "funder"), "")


@router.get("/compte/inviter", response_class=HTMLResponse)
@as_page
def invite_form(request: Request) -> Response:
    """The form inviting a person by e-mail (administrators; managers for their clusters)."""
    return shown(request, ("admin/invite.html", partial(_invite_context, request, dict(EMPTY_INVITATION))))


@router.post("/compte/inviter", response_class=HTMLResponse)
@as_page
def invite(
    request: Request,
    email: FormText = "",
    name: FormText = "",
    role: FormText = "",
    cluster: FormText = "",
    organisation: FormText = "",
    funder: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Create the invited account (inactive) and mail its link; the form again on a refusal."""
    language = language_of(request)
    values = {
        "email": email,
        "name": name,
        "role": role,
        "cluster": cluster,
        "organisation": organisation,
        "funder": funder,
    }
    labels = {
        "email": gettext(language, "Adresse électronique"),
        "name": gettext(language, "Nom"),
        "role": gettext(language, "Rôle"),
        "clusters": gettext(language, "Structure"),
        "organisation_id": gettext(language, "N° de l'organisation"),
        "funder": gettext(language, "Financeur"),
    }
    try:
        with unit(request) as (session, visitor):
            if (away := refusal(request, visitor, csrf_token)) is not None:
                return away
            data = schema(
                UserCreate,
                labels,
                email=email.strip(),
                name=name.strip() or None,
                role=role,
                clusters=[cluster] if cluster.strip() and role == Role.MANAGER.value else [],
                organisation_id=organisation.strip() or None
                if role in {Role.MEMBER.value, Role.REVIEWER.value}
                else None,
                funder=funder.strip() or None if role == Role.FUNDER.value else None,
                # the invitee becomes a user reading its mail in the language of the inviter's page
                language=language,
            )
            user, mail = links.invite_user(session, visitor.actor, data)
    except (InputError, ConflictError) as exc:
        return shown(request, ("admin/invite.html", partial(_invite_context, request, values)), exc)
    if not send_after_commit(mail):
        message = gettext(
            language,
            "Le compte est créé mais le message n'a pas pu partir : renvoyez l'invitation depuis "
            "la page des utilisateurs, ou vérifiez le serveur de messagerie.",
        )
        return show(request, visitor, "error.html", {"message": message}, status_code=503)
    return RedirectResponse(f"/compte/inviter?envoye={quote(user.email)}", status_code=303)


# --- the audit log -----------------------------------------------------------------------------

#: The audit filters, as named in the URL.
AUDIT_KEYS = ("utilisateur", "auteur", "objet", "n", "structure", "du", "au")


def audit_filter(request: Request) -> AuditFilter:
    """The audit view of the URL (each wrong filter named)."""
    language = language_of(request)
    params = {k: request.query_params.get(k, "").strip() for k in AUDIT_KEYS}
    labels = {
        "user_id": gettext(language, "N° d'utilisateur"),
        "actor": gettext(language, "Auteur"),
        "entity": gettext(language, "Objet"),
        "entity_id": gettext(language, "N° de l'objet"),
        "cluster_id": gettext(language, "Structure"),
    }
    return schema(
        AuditFilter,
        labels,
        user_id=_int_param(request, "utilisateur", labels["user_id"]),
        actor=params["auteur"] or None,
        entity=params["objet"] or None,
        entity_id=params["n"] or None,
        cluster_id=_int_param(request, "structure", labels["cluster_id"]),
        since=day_of(gettext(language, "Du"), params["du"]) if params["du"] else None,
        until=day_of(gettext(language, "Au"), params["au"]) if params["au"] else None,
    )


def _view_query(request: Request) -> str:
    kept = {k: request.query_params.get(k, "").strip() for k in AUDIT_KEYS}
    query = urlencode({k: v for k, v in kept.items() if v})
    return f"?{query}" if query else ""


@router.get("/admin/journal", response_class=HTMLResponse)
@as_page
def audit(request: Request) -> Response:
    """The audit log, newest first: filters (user, object, days) in the URL, paginated."""
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        policy.require_admin(visitor.actor, "consulter le journal d'audit")
        view = audit_filter(request)
        number = page_number(request.query_params.get("page"))
        result = accounts.audit_view(
            session, visitor.actor, view, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
        )
        entities = accounts.audit_entities(session, visitor.actor)
    language = language_of(request)
    context = {
        "result": result,
        "params": {k: request.query_params.get(k, "").strip() for k in AUDIT_KEYS},
        "entities": [("", gettext(language, "Tous"))] + [(e, e) for e in entities],
        "page_number": number,
        "pages": max(1, math.ceil(result.total / PAGE_SIZE)),
        "view": _view_query(request),
        "export_max": accounts.AUDIT_EXPORT_MAX,
    }
    return show(request, visitor, "admin/audit.html", context)


#: The columns of the audit export, with the headers people read.
AUDIT_COLUMNS = (
    "id", "at", "actor", "user_id", "action", "entity", "entity_id", "cluster_id", "before", "after"
)


@router.get("/admin/journal.{suffix}")
@as_page
def export_audit(request: Request, suffix: Literal["csv", "xlsx"]) -> Response:
    """The audit log's current view (its filters, every page) as CSV or XLSX."""
    language = language_of(request)
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        policy.require_admin(visitor.actor, "exporter le journal d'audit")
        result = accounts.audit_view(session, visitor.actor, audit_filter(request), limit=None)
    rows = [
        {
            "id": e.id,
            "at": e.at,
            "actor": e.actor,
            "user_id": e.user_id,
            "action": e.action,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "cluster_id": e.cluster_id,
            "before": json.dumps(e.before, ensure_ascii=False, default=str) if e.before is not None else None,
            "after": json.dumps(e.after, ensure_ascii=False, default=str) if e.after is not None else None,
        }
        for e in result.items
    ]
    labels = {
        "id": gettext(language, "N°"),
        "at": gettext(language, "Date et heure (UTC)"),
        "actor": gettext(language, "Auteur"),
        "user_id": gettext(language, "N° d'utilisateur"),
        "action": gettext(language, "Action"),
        "entity": gettext(language, "Objet"),
        "entity_id": gettext(language, "N° de l'objet"),
        "cluster_id": gettext(language, "Structure"),
        "before": gettext(language, "Avant"),
        "after": gettext(language, "Après"),
    }
    fmt = EXPORT_FORMATS[suffix]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"journal.{suffix}"
        export.write(path, rows, format=fmt, columns=AUDIT_COLUMNS, labels=labels, sheet="Journal")
        content = path.read_bytes()
    return Response(
        content,
        media_type=export.MEDIA_TYPES[fmt],
        headers={
            "content-disposition": f'attachment; filename="journal.{suffix}"',
            "cache-control": "no-store",
        },
    )


# --- detection runs ----------------------------------------------------------------------------


def _detection_page(
    request: Request, values: dict[str, str], error: str | None, status_code: int = 200
) -> Response:
    """The detection form and the jobs of every server process, as the database has them."""
    from grappe.detection import runs
    from grappe.detection.levels import TERRITORY_LEVELS

    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        listed = detection_jobs.recent(session, visitor.actor)
    context = {
        "values": values,
        "error": error,
        "levels": [(v, v) for v in TERRITORY_LEVELS],
        "max_permutations": detection_jobs.MAX_PERMUTATIONS,
        "sectors": [(v, v) for v in detection_jobs.SECTOR_CHOICES],
        "jobs": listed,
        "runs": runs.list_runs(),
        "started": request.query_params.get("lance"),
    }
    return show(request, visitor, "admin/detection.html", context, status_code=status_code)


def _default_values() -> dict[str, str]:
    return {
        "store": str(get_settings().store_dir),
        "level": "ze",
        "sectors": "sous-classe",
        "name": "",
        "permutations": str(PERMUTATIONS),
    }


@router.get("/admin/detection", response_class=HTMLResponse)
@as_page
def detection(request: Request) -> Response:
    """Start a detection run (store, levels, name) and follow the runs of every server process."""
    return _detection_page(request, _default_values(), None)


@router.post("/admin/detection", response_class=HTMLResponse)
@as_page
def start_detection(
    request: Request,
    store: FormText = "",
    level: FormText = "",
    sectors: FormText = "",
    name: FormText = "",
    permutations: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Claim the run and queue it in this process's background thread; the page then shows where it stands."""
    values = {
        "store": store,
        "level": level,
        "sectors": sectors,
        "name": name.strip(),
        "permutations": permutations,
    }
    runner = jobs.runner_of(request.app.state, request.app.state.engine)
    try:
        with unit(request) as (session, visitor):
            if (away := refusal(request, visitor, csrf_token)) is not None:
                return away
            policy.require_admin(visitor.actor, "lancer une détection")
            draws = permutations or str(PERMUTATIONS)
            parameters = detection_jobs.check(store, level, sectors, name.strip(), draws)
            job = detection_jobs.start(session, visitor.actor, parameters, runner.worker)
    except (InputError, ConflictError) as exc:
        return _detection_page(request, values, str(exc), exc.http_status)
    runner.submit(job.id, get_settings().home)
    return RedirectResponse(f"/admin/detection?lance={quote(job.name)}", status_code=303)


@router.post("/admin/detection/{job_id:int}/relance", response_class=HTMLResponse)
@as_page
def restart_detection(request: Request, job_id: int, csrf_token: FormText = "") -> Response:
    """Run again a failed or interrupted job, in this process."""
    runner = jobs.runner_of(request.app.state, request.app.state.engine)
    try:
        with unit(request) as (session, visitor):
            if (away := refusal(request, visitor, csrf_token)) is not None:
                return away
            job = detection_jobs.restart(session, visitor.actor, job_id, runner.worker)
    except (InputError, ConflictError) as exc:
        return _detection_page(request, _default_values(), str(exc), exc.http_status)
    runner.submit(job.id, get_settings().home)
    return RedirectResponse(f"/admin/detection?lance={quote(job.name)}", status_code=303)
