"""Registry endpoints: parse the request, call a registry service, return its schema."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import Response

from grappe.api.app import Unit, get_unit
from grappe.api.cache import GenerationCache
from grappe.errors import InputError
from grappe.registry import accounts, bounds, fees, figures, invitations, members_io, prospects, service
from grappe.registry.models import FeeStatus, InvitationStatus
from grappe.registry.schemas import (
    AuditOut,
    BodyIn,
    BodyOut,
    ClusterCreate,
    ClusterOut,
    ClusterSummary,
    ClusterUpdate,
    ContactIn,
    ContactOut,
    DirectoryMember,
    DirectoryPage,
    DunningLine,
    FeeCallOut,
    FeeCallsIssued,
    FeeScheduleIn,
    FeeScheduleOut,
    FundingIn,
    FundingOut,
    ImportReport,
    InvitationCreate,
    InvitationOut,
    InvitationPage,
    KeyFigures,
    LabelIn,
    LabelOut,
    MemberOut,
    MemberPage,
    MembershipCreate,
    MembershipEnd,
    OrganisationCreate,
    OrganisationOut,
    OrganisationUpdate,
    PaymentIn,
    TokenOut,
    UserCreate,
    UserOut,
    WaiveIn,
)

router = APIRouter()

Work = Annotated[Unit, Depends(get_unit)]
# Ids stay within a 32-bit signed integer: larger ones cannot exist and would overflow drivers.
Id = Annotated[int, PathParam(ge=1, le=2_147_483_647)]
# The year of fee calls to issue: the accounting years the schemas accept (one rule).
Year = Annotated[int, Query(), bounds.Year(bounds.ACCOUNTING)]
Limit = Annotated[int, Query(ge=1, le=service.MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Day = Annotated[dt.date | None, Query(description="Date de référence (défaut : aujourd'hui).")]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Jeton invalide"},
    403: {"description": "Rôle insuffisant sur un objet visible"},
    404: {"description": "Introuvable (ou objet d'une autre structure)"},
    409: {"description": "Conflit (version périmée, doublon, chevauchement)"},
    422: {"description": "Entrée invalide"},
}


def _text(value: str | None, name: str, size: int = 60) -> str | None:
    problem = None if value is None else bounds.text_problem(value, size)
    if problem is not None:
        raise InputError(f"{name} invalide : {problem}")
    return value


# --- directory and cluster organisations -----------------------------------------------------


@router.get("/directory", response_model=DirectoryPage, tags=["annuaire"], responses=ERRORS)
def directory(
    *,
    request: Request,
    work: Work,
    label: Annotated[str | None, Query(max_length=200)] = None,
    region: Annotated[str | None, Query(max_length=3)] = None,
    sector: Annotated[str | None, Query(max_length=10)] = None,
    size: Literal["petit", "moyen", "grand"] | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    """Annuaire public des structures, filtré par label, région, secteur NAF et taille."""
    label, region, sector = _text(label, "label", 200), _text(region, "region"), _text(sector, "sector")
    # The page depends on the filters and on the day (labels are held over periods); it is
    # valid until the next write anywhere in the registry (see grappe.registry.generation).
    today = dt.date.today()
    key = (label, region, sector, size, limit, offset, today)
    cache: GenerationCache[bytes] = request.app.state.directory
    with work as (db, actor):
        body = cache.get(key, work.generation)
        if body is None:
            page = service.directory(
                db,
                actor,
                label=label,
                region=region,
                sector=sector,
                size=size,
                on=today,
                limit=limit,
                offset=offset,
            )
            body = page.model_dump_json().encode()
            cache.put(key, work.generation, body)
    return Response(body, media_type="application/json")


@router.get("/clusters", response_model=list[ClusterSummary], tags=["structures"], responses=ERRORS)
def list_clusters(work: Work, limit: Limit = 100, offset: Offset = 0) -> list[ClusterSummary]:
    """Structures dont l'utilisateur peut lire les données privées."""
    with work as (db, actor):
        return service.list_clusters(db, actor, limit=limit, offset=offset)


@router.post("/clusters", response_model=ClusterOut, status_code=201, tags=["structures"], responses=ERRORS)
def create_cluster(work: Work, body: ClusterCreate) -> ClusterOut:
    """Créer une structure (administrateur)."""
    with work as (db, actor):
        return service.create_cluster(db, actor, body)


@router.get("/clusters/{cluster_id}", response_model=ClusterOut, tags=["structures"], responses=ERRORS)
def get_cluster(work: Work, cluster_id: Id) -> ClusterOut:
    """Fiche complète d'une structure."""
    with work as (db, actor):
        return service.get_cluster(db, actor, cluster_id)


@router.patch("/clusters/{cluster_id}", response_model=ClusterOut, tags=["structures"], responses=ERRORS)
def update_cluster(work: Work, cluster_id: Id, body: ClusterUpdate) -> ClusterOut:
    """Modifier une structure (verrouillage optimiste : `version` lue ; 409 si périmée)."""
    with work as (db, actor):
        return service.update_cluster(db, actor, cluster_id, body)


@router.post(
    "/clusters/{cluster_id}/labels",
    response_model=LabelOut,
    status_code=201,
    tags=["structures"],
    responses=ERRORS,
)
def add_label(work: Work, cluster_id: Id, body: LabelIn) -> LabelOut:
    """Ajouter une période de label."""
    with work as (db, actor):
        return service.add_label(db, actor, cluster_id, body)


@router.put(
    "/clusters/{cluster_id}/fundings",
    response_model=FundingOut,
    tags=["structures"],
    responses=ERRORS,
)
def set_funding(work: Work, cluster_id: Id, body: FundingIn) -> FundingOut:
    """Déclarer le financement d'une année par source (et financeur)."""
    with work as (db, actor):
        return service.set_funding(db, actor, cluster_id, body)


@router.put(
    "/clusters/{cluster_id}/governance",
    response_model=BodyOut,
    tags=["structures"],
    responses=ERRORS,
)
def set_body(work: Work, cluster_id: Id, body: BodyIn) -> BodyOut:
    """Fixer une instance de gouvernance (conseil, bureau) et ses titulaires."""
    with work as (db, actor):
        return service.set_body(db, actor, cluster_id, body)


@router.get(
    "/clusters/{cluster_id}/figures",
    response_model=KeyFigures,
    tags=["structures"],
    responses=ERRORS,
)
def key_figures(work: Work, cluster_id: Id, on: Day = None) -> KeyFigures:
    """Chiffres clés : adhérents par nature et taille, flux, rétention, cotisations, territoire."""
    with work as (db, actor):
        return figures.key_figures(db, actor, cluster_id, on=on)


@router.get("/clusters/{cluster_id}/prospects", tags=["structures"], responses=ERRORS)
def list_prospects(
    work: Work,
    cluster_id: Id,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[dict[str, Any]]:
    """Prospects classés (établissements du tissu, non adhérents)."""
    with work as (db, actor):
        return prospects.prospects(db, actor, cluster_id, limit=limit).to_pylist()


# --- members ---------------------------------------------------------------------------------


@router.get(
    "/clusters/{cluster_id}/members",
    response_model=MemberPage,
    tags=["adhérents"],
    responses=ERRORS,
)
def list_members(
    *,
    work: Work,
    cluster_id: Id,
    on: Day = None,
    include_former: bool = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    """Adhérents à une date (ou toutes les périodes avec `include_former`)."""
    with work as (db, actor):
        page = service.list_members(
            db, actor, cluster_id, on=on, include_former=include_former, limit=limit, offset=offset
        )
    # Serialised here, in the endpoint's thread, by the schema's own (Rust) serialiser: FastAPI
    # would validate the page again and hop to the thread pool a second time to do so.
    return Response(page.model_dump_json(), media_type="application/json")


@router.post(
    "/clusters/{cluster_id}/members",
    response_model=MemberOut,
    status_code=201,
    tags=["adhérents"],
    responses=ERRORS,
)
def add_member(work: Work, cluster_id: Id, body: MembershipCreate) -> MemberOut:
    """Ouvrir une période d'adhésion."""
    with work as (db, actor):
        return service.add_membership(db, actor, cluster_id, body)


@router.get(
    "/clusters/{cluster_id}/directory",
    response_model=list[DirectoryMember],
    tags=["adhérents"],
    responses=ERRORS,
)
def member_directory(work: Work, cluster_id: Id) -> list[DirectoryMember]:
    """Annuaire des adhérents (contacts consentants), pour les adhérents de la structure."""
    with work as (db, actor):
        return service.member_directory(db, actor, cluster_id)


@router.post(
    "/clusters/{cluster_id}/members/import",
    response_model=ImportReport,
    tags=["adhérents"],
    responses=ERRORS,
)
def import_members(
    work: Work,
    cluster_id: Id,
    file: Annotated[UploadFile, File()],
    strict: bool = False,
) -> ImportReport:
    """Importer des adhérents depuis un CSV ou un XLSX ; rapport ligne à ligne."""
    suffix = Path(file.filename or "membres.csv").suffix.lower()
    if suffix not in {".csv", ".xlsx", ".txt"}:
        raise InputError(f"fichier {file.filename!r} : CSV ou XLSX attendu")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"membres{suffix}"
        path.write_bytes(file.file.read())
        with work as (db, actor):
            report = members_io.import_members(db, actor, cluster_id, path, strict=strict)
    report.file = file.filename or report.file
    return report


@router.get(
    "/clusters/{cluster_id}/members/export",
    tags=["adhérents"],
    responses=ERRORS,
    response_class=Response,
)
def export_members(work: Work, cluster_id: Id, format: Literal["csv", "xlsx"] = "csv") -> Response:
    """Exporter les adhérents (CSV ou XLSX)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"adherents.{format}"
        with work as (db, actor):
            members_io.export_members(db, actor, cluster_id, path)
        content = path.read_bytes()
    media = (
        "text/csv; charset=utf-8"
        if format == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="adherents-{cluster_id}.{format}"'},
    )


@router.post(
    "/memberships/{membership_id}/end",
    response_model=MemberOut,
    tags=["adhérents"],
    responses=ERRORS,
)
def end_membership(work: Work, membership_id: Id, body: MembershipEnd) -> MemberOut:
    """Clore une période d'adhésion (date et motif)."""
    with work as (db, actor):
        return service.end_membership(db, actor, membership_id, body)


@router.post(
    "/organisations",
    response_model=OrganisationOut,
    status_code=201,
    tags=["organisations"],
    responses=ERRORS,
)
def create_organisation(work: Work, body: OrganisationCreate) -> OrganisationOut:
    """Créer une organisation (SIREN, SIRET vérifiés ; complétée depuis le tissu).

    Celle d'un gestionnaire appartient à sa structure (s'il en gère plusieurs : `POST
    /clusters/{cluster_id}/organisations`). Une organisation déjà inscrite s'invite.
    """
    from grappe.registry.fabric_link import lookup

    with work as (db, actor):
        return service.create_organisation(db, actor, body, fabric=lookup)


@router.post(
    "/clusters/{cluster_id}/organisations",
    response_model=OrganisationOut,
    status_code=201,
    tags=["organisations"],
    responses=ERRORS,
)
def create_cluster_organisation(work: Work, cluster_id: Id, body: OrganisationCreate) -> OrganisationOut:
    """Créer une organisation qui appartient à cette structure (avant tout rattachement)."""
    from grappe.registry.fabric_link import lookup

    with work as (db, actor):
        return service.create_organisation(db, actor, body, fabric=lookup, cluster_id=cluster_id)


@router.get(
    "/organisations/{organisation_id}",
    response_model=OrganisationOut,
    tags=["organisations"],
    responses=ERRORS,
)
def get_organisation(work: Work, organisation_id: Id) -> OrganisationOut:
    """Fiche d'une organisation."""
    with work as (db, actor):
        return service.get_organisation(db, actor, organisation_id)


@router.patch(
    "/organisations/{organisation_id}",
    response_model=OrganisationOut,
    tags=["organisations"],
    responses=ERRORS,
)
def update_organisation(work: Work, organisation_id: Id, body: OrganisationUpdate) -> OrganisationOut:
    """Modifier une organisation (verrouillage optimiste)."""
    with work as (db, actor):
        return service.update_organisation(db, actor, organisation_id, body)


@router.post(
    "/organisations/{organisation_id}/contacts",
    response_model=ContactOut,
    status_code=201,
    tags=["organisations"],
    responses=ERRORS,
)
def add_contact(work: Work, organisation_id: Id, body: ContactIn) -> ContactOut:
    """Ajouter un contact."""
    with work as (db, actor):
        return service.add_contact(db, actor, organisation_id, body)


# --- invitations -----------------------------------------------------------------------------


@router.post(
    "/clusters/{cluster_id}/invitations",
    response_model=InvitationOut,
    status_code=201,
    tags=["invitations"],
    responses=ERRORS,
)
def invite(work: Work, cluster_id: Id, body: InvitationCreate) -> InvitationOut:
    """Inviter une organisation déjà inscrite (par son SIREN) ; rien d'elle n'est lisible
    avant qu'elle accepte."""
    with work as (db, actor):
        return invitations.invite(db, actor, cluster_id, body)


@router.get("/invitations", response_model=InvitationPage, tags=["invitations"], responses=ERRORS)
def list_invitations(
    *,
    work: Work,
    cluster_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    organisation_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    status: InvitationStatus | Literal["all"] = InvitationStatus.PENDING,
    limit: Limit = 100,
    offset: Offset = 0,
) -> InvitationPage:
    """Invitations envoyées par vos structures ou reçues par les organisations dont vous
    répondez (en attente par défaut ; `status=all` : toutes)."""
    with work as (db, actor):
        return invitations.list_invitations(
            db,
            actor,
            cluster_id=cluster_id,
            organisation_id=organisation_id,
            status=None if status == "all" else InvitationStatus(status),
            limit=limit,
            offset=offset,
        )


@router.post(
    "/invitations/{invitation_id}/accept",
    response_model=InvitationOut,
    tags=["invitations"],
    responses=ERRORS,
)
def accept_invitation(work: Work, invitation_id: Id) -> InvitationOut:
    """Accepter une invitation (l'organisation invitée) : l'adhésion est ouverte."""
    with work as (db, actor):
        return invitations.accept(db, actor, invitation_id)


@router.post(
    "/invitations/{invitation_id}/decline",
    response_model=InvitationOut,
    tags=["invitations"],
    responses=ERRORS,
)
def decline_invitation(work: Work, invitation_id: Id) -> InvitationOut:
    """Refuser une invitation (l'organisation invitée)."""
    with work as (db, actor):
        return invitations.decline(db, actor, invitation_id)


# --- fees ------------------------------------------------------------------------------------


@router.put(
    "/clusters/{cluster_id}/fee-schedules",
    response_model=FeeScheduleOut,
    tags=["cotisations"],
    responses=ERRORS,
)
def set_schedule(work: Work, cluster_id: Id, body: FeeScheduleIn) -> FeeScheduleOut:
    """Fixer le barème d'une année."""
    with work as (db, actor):
        return fees.set_schedule(db, actor, cluster_id, body)


@router.get(
    "/clusters/{cluster_id}/fee-schedules/{year}",
    response_model=FeeScheduleOut,
    tags=["cotisations"],
    responses=ERRORS,
)
def get_schedule(
    work: Work, cluster_id: Id, year: Annotated[int, PathParam(ge=1900, le=2200)]
) -> FeeScheduleOut:
    """Barème d'une année."""
    with work as (db, actor):
        return fees.get_schedule(db, actor, cluster_id, year)


@router.post(
    "/clusters/{cluster_id}/fee-calls",
    response_model=FeeCallsIssued,
    tags=["cotisations"],
    responses=ERRORS,
)
def issue_calls(work: Work, cluster_id: Id, year: Year) -> FeeCallsIssued:
    """Émettre les appels de cotisation d'une année."""
    with work as (db, actor):
        return fees.issue_calls(db, actor, cluster_id, year)


@router.get(
    "/clusters/{cluster_id}/fee-calls",
    response_model=list[FeeCallOut],
    tags=["cotisations"],
    responses=ERRORS,
)
def list_calls(
    *,
    work: Work,
    cluster_id: Id,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    status: FeeStatus | None = None,
    on: Day = None,
) -> list[FeeCallOut]:
    """Appels de cotisation et leur statut."""
    with work as (db, actor):
        return fees.list_calls(db, actor, cluster_id, year=year, status=status, on=on)


@router.post(
    "/fee-calls/{fee_call_id}/payments",
    response_model=FeeCallOut,
    tags=["cotisations"],
    responses=ERRORS,
)
def record_payment(work: Work, fee_call_id: Id, body: PaymentIn) -> FeeCallOut:
    """Enregistrer un paiement."""
    with work as (db, actor):
        return fees.record_payment(db, actor, fee_call_id, body)


@router.post(
    "/fee-calls/{fee_call_id}/waive",
    response_model=FeeCallOut,
    tags=["cotisations"],
    responses=ERRORS,
)
def waive(work: Work, fee_call_id: Id, body: WaiveIn) -> FeeCallOut:
    """Exonérer une cotisation."""
    with work as (db, actor):
        return fees.waive(db, actor, fee_call_id, body)


@router.get(
    "/clusters/{cluster_id}/dunning",
    response_model=list[DunningLine],
    tags=["cotisations"],
    responses=ERRORS,
)
def dunning(work: Work, cluster_id: Id, on: Day = None) -> list[DunningLine]:
    """Liste des relances."""
    with work as (db, actor):
        return fees.dunning_list(db, actor, cluster_id, on=on)


# --- accounts --------------------------------------------------------------------------------


@router.post("/users", response_model=UserOut, status_code=201, tags=["comptes"], responses=ERRORS)
def create_user(work: Work, body: UserCreate) -> UserOut:
    """Créer un utilisateur (administrateur)."""
    with work as (db, actor):
        return accounts.create_user(db, actor, body)


@router.post(
    "/users/{user_id}/tokens",
    response_model=TokenOut,
    status_code=201,
    tags=["comptes"],
    responses=ERRORS,
)
def issue_token(
    work: Work,
    user_id: Id,
    name: Annotated[str, Query(min_length=1, max_length=100)] = "api",
) -> TokenOut:
    """Émettre un jeton d'API (affiché une seule fois)."""
    with work as (db, actor):
        return accounts.issue_token(db, actor, user_id, _text(name, "name", 100) or "api")


@router.get("/audit", response_model=list[AuditOut], tags=["comptes"], responses=ERRORS)
def audit_log(
    work: Work,
    cluster_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    entity: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditOut]:
    """Journal d'audit (administrateur)."""
    with work as (db, actor):
        return accounts.audit_log(
            db, actor, cluster_id=cluster_id, entity=_text(entity, "entity"), limit=limit
        )


# Last of the router on purpose: the property test of the API sends its requests as the
# administrator, and revoking that token first would leave the operations after it untried.
@router.delete("/tokens/{token_id}", status_code=204, tags=["comptes"], responses=ERRORS)
def revoke_token(work: Work, token_id: Id) -> Response:
    """Révoquer un jeton d'API (administrateur) ; effet immédiat sur toutes les requêtes."""
    with work as (db, actor):
        accounts.revoke_token(db, actor, token_id)
    return Response(status_code=204)
