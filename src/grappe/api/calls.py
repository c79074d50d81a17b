"""Calls for projects endpoints: calls, applications, review, selection and the committee's decision."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile
from fastapi import Path as PathParam

from grappe.api.deps import Unit, get_unit
from grappe.calls import service
from grappe.calls.schemas import (
    ApplicationIn,
    ApplicationOut,
    ApplicationPage,
    AssignmentOut,
    BudgetLineIn,
    CallIn,
    CallOut,
    CallPage,
    ConflictIn,
    DecisionIn,
    DecisionOut,
    ReviewerIn,
    ReviewerOut,
    ReviewerPage,
    ReviewIn,
    ReviewOut,
    ReviewPage,
    ScoreBoard,
    SelectionIn,
    SelectionOut,
)
from grappe.kit.mail import send_all
from grappe.kit.repository import MAX_PAGE

router = APIRouter()

Work = Annotated[Unit, Depends(get_unit)]
Id = Annotated[int, PathParam(ge=1, le=2_147_483_647)]
DocType = Annotated[str, PathParam(min_length=1, max_length=60)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Rôle insuffisant sur un objet visible"},
    404: {"description": "Introuvable (ou objet d'un autre financeur, d'un autre candidat)"},
    409: {"description": "Conflit (déjà déposée, déjà décidé)"},
    422: {"description": "Entrée invalide (hors délai, pièce manquante, hors budget, hors échelle…)"},
}
TAGS: list[str | Any] = ["appels à projets"]


@router.get("/calls", response_model=CallPage, tags=TAGS, responses=ERRORS)
def list_calls(*, work: Work, limit: Limit = 100, offset: Offset = 0) -> CallPage:
    """Appels publiés (et brouillons de son financeur)."""
    with work as (db, actor):
        return service.list_calls(db, actor, limit=limit, offset=offset)


@router.post("/calls", response_model=CallOut, status_code=201, tags=TAGS, responses=ERRORS)
def create_call(*, work: Work, body: CallIn) -> CallOut:
    """Créer un appel à projets (un financeur ; l'administrateur nomme le financeur)."""
    with work as (db, actor):
        return service.create_call(db, actor, body)


@router.get("/calls/{call_id}", response_model=CallOut, tags=TAGS, responses=ERRORS)
def get_call(*, work: Work, call_id: Id) -> CallOut:
    """Un appel à projets."""
    with work as (db, actor):
        return service.get_call(db, actor, call_id)


@router.post("/calls/{call_id}/publish", response_model=CallOut, tags=TAGS, responses=ERRORS)
def publish_call(*, work: Work, call_id: Id) -> CallOut:
    """Publier un appel."""
    with work as (db, actor):
        return service.publish_call(db, actor, call_id)


@router.get("/calls/{call_id}/applications", response_model=ApplicationPage, tags=TAGS, responses=ERRORS)
def list_applications(*, work: Work, call_id: Id, limit: Limit = 100, offset: Offset = 0) -> ApplicationPage:
    """Candidatures lisibles d'un appel (le financeur : déposées ; un candidat : les siennes ;
    un évaluateur : celles qui lui sont affectées)."""
    with work as (db, actor):
        return service.list_applications(db, actor, call_id, limit=limit, offset=offset)


@router.post(
    "/calls/{call_id}/applications",
    response_model=ApplicationOut,
    status_code=201,
    tags=TAGS,
    responses=ERRORS,
)
def create_application(*, work: Work, call_id: Id, body: ApplicationIn) -> ApplicationOut:
    """Créer un brouillon de candidature."""
    with work as (db, actor):
        return service.create_application(db, actor, call_id, body)


@router.get(
    "/calls/applications/{application_id}", response_model=ApplicationOut, tags=TAGS, responses=ERRORS
)
def get_application(*, work: Work, application_id: Id) -> ApplicationOut:
    """Une candidature, avec l'éligibilité et ses motifs."""
    with work as (db, actor):
        return service.get_application(db, actor, application_id)


@router.put(
    "/calls/applications/{application_id}/budget", response_model=ApplicationOut, tags=TAGS, responses=ERRORS
)
def update_budget(*, work: Work, application_id: Id, body: list[BudgetLineIn]) -> ApplicationOut:
    """Remplacer le budget par partenaire d'un brouillon."""
    with work as (db, actor):
        return service.update_budget(db, actor, application_id, body)


@router.post(
    "/calls/applications/{application_id}/documents/{doc_type}",
    response_model=ApplicationOut,
    status_code=201,
    tags=TAGS,
    responses=ERRORS,
)
def attach_document(
    *, work: Work, application_id: Id, doc_type: DocType, file: Annotated[UploadFile, File()]
) -> ApplicationOut:
    """Joindre un document d'un type demandé (type et taille vérifiés)."""
    content = file.file.read()
    with work as (db, actor):
        return service.attach_document(db, actor, application_id, doc_type, file.filename or "", content)


@router.get(
    "/calls/applications/{application_id}/documents/{doc_type}",
    response_class=Response,
    tags=TAGS,
    responses=ERRORS,
)
def read_document(*, work: Work, application_id: Id, doc_type: DocType) -> Response:
    """Le contenu d'un document joint."""
    with work as (db, actor):
        document, content = service.document_content(db, actor, application_id, doc_type)
    return Response(
        content,
        media_type=document.media_type,
        headers={"Content-Disposition": f'attachment; filename="{document.sha256[:16]}"'},
    )


@router.post(
    "/calls/applications/{application_id}/submit", response_model=ApplicationOut, tags=TAGS, responses=ERRORS
)
def submit_application(*, work: Work, application_id: Id) -> ApplicationOut:
    """Déposer une candidature avant la date limite."""
    with work as (db, actor):
        return service.submit_application(db, actor, application_id)


@router.post(
    "/calls/applications/{application_id}/conflicts", status_code=204, tags=TAGS, responses=ERRORS
)
def declare_conflict(*, work: Work, application_id: Id, body: ConflictIn) -> Response:
    """Déclarer un conflit d'intérêts (l'affectation est retirée)."""
    with work as (db, actor):
        service.declare_conflict(db, actor, application_id, body)
    return Response(status_code=204)


@router.get(
    "/calls/applications/{application_id}/reviews", response_model=ReviewPage, tags=TAGS, responses=ERRORS
)
def application_reviews(
    *, work: Work, application_id: Id, limit: Limit = 100, offset: Offset = 0
) -> ReviewPage:
    """Les évaluations d'une candidature (le financeur de l'appel)."""
    with work as (db, actor):
        return service.application_reviews(db, actor, application_id, limit=limit, offset=offset)


@router.post(
    "/calls/applications/{application_id}/review", response_model=ReviewOut, tags=TAGS, responses=ERRORS
)
def submit_review(*, work: Work, application_id: Id, body: ReviewIn) -> ReviewOut:
    """Noter une candidature affectée, critère par critère."""
    with work as (db, actor):
        return service.submit_review(db, actor, application_id, body)


@router.get("/reviewers", response_model=ReviewerPage, tags=TAGS, responses=ERRORS)
def list_reviewers(*, work: Work, limit: Limit = 100, offset: Offset = 0) -> ReviewerPage:
    """Le vivier d'évaluateurs (administrateur, financeurs)."""
    with work as (db, actor):
        return service.list_reviewers(db, actor, limit=limit, offset=offset)


@router.post("/reviewers", response_model=ReviewerOut, tags=TAGS, responses=ERRORS)
def save_reviewer(*, work: Work, body: ReviewerIn) -> ReviewerOut:
    """Ajouter un évaluateur au vivier ou mettre à jour son expertise."""
    with work as (db, actor):
        return service.save_reviewer(db, actor, body)


@router.get("/reviews/mine", response_model=ReviewPage, tags=TAGS, responses=ERRORS)
def my_reviews(*, work: Work, limit: Limit = 100, offset: Offset = 0) -> ReviewPage:
    """Les candidatures affectées à l'évaluateur et ses notes."""
    with work as (db, actor):
        return service.my_reviews(db, actor, limit=limit, offset=offset)


@router.post("/calls/{call_id}/assignment", response_model=AssignmentOut, tags=TAGS, responses=ERRORS)
def assign_reviewers(*, work: Work, call_id: Id) -> AssignmentOut:
    """Affecter les évaluateurs (flot de coût minimal, exact), comparé au glouton."""
    with work as (db, actor):
        return service.assign_reviewers(db, actor, call_id)


@router.get("/calls/{call_id}/scores", response_model=ScoreBoard, tags=TAGS, responses=ERRORS)
def scoreboard(
    *, work: Work, call_id: Id, normalised: bool = False, limit: Limit = 100, offset: Offset = 0
) -> ScoreBoard:
    """Classement, écarts entre évaluateurs et candidatures à modérer."""
    with work as (db, actor):
        return service.scoreboard(db, actor, call_id, normalised=normalised, limit=limit, offset=offset)


@router.post("/calls/{call_id}/selection", response_model=SelectionOut, tags=TAGS, responses=ERRORS)
def propose_selection(*, work: Work, call_id: Id, body: SelectionIn) -> SelectionOut:
    """Sélection exacte dans le budget (HiGHS), comparée à l'ordre glouton."""
    with work as (db, actor):
        return service.propose_selection(db, actor, call_id, body)


@router.post("/calls/{call_id}/decision", response_model=DecisionOut, tags=TAGS, responses=ERRORS)
def decide(*, work: Work, call_id: Id, body: DecisionIn, notify: bool = False) -> DecisionOut:
    """Enregistrer la décision du comité ; ``notify`` : envoyer les lettres par courriel ensuite."""
    with work as (db, actor):
        out = service.decide(db, actor, call_id, body)
    if notify:
        with work as (db, actor):  # a second unit, once the decision is committed
            mails = service.decision_mails(db, actor, call_id)
        send_all(mails)
    return out


@router.get("/calls/{call_id}/letters", response_class=Response, tags=TAGS, responses=ERRORS)
def decision_letters(*, work: Work, call_id: Id) -> Response:
    """Les lettres de décision d'un appel décidé (PDF)."""
    with work as (db, actor):
        pdf = service.decision_letters(db, actor, call_id)
    return Response(pdf, media_type="application/pdf")
