"""Routes of organisations: creation from the fabric, profiles, contacts."""

from __future__ import annotations

from fastapi import APIRouter

from grappe.api.deps import ERRORS, Id, Work
from grappe.registry.organisations import service as organisations
from grappe.registry.organisations.schemas import (
    ContactIn,
    ContactOut,
    OrganisationCreate,
    OrganisationOut,
    OrganisationUpdate,
)

router = APIRouter()


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
        return organisations.create_organisation(db, actor, body, fabric=lookup)


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
        return organisations.create_organisation(db, actor, body, fabric=lookup, cluster_id=cluster_id)


@router.get(
    "/organisations/{organisation_id}",
    response_model=OrganisationOut,
    tags=["organisations"],
    responses=ERRORS,
)
def get_organisation(work: Work, organisation_id: Id) -> OrganisationOut:
    """Fiche d'une organisation."""
    with work as (db, actor):
        return organisations.get_organisation(db, actor, organisation_id)


@router.patch(
    "/organisations/{organisation_id}",
    response_model=OrganisationOut,
    tags=["organisations"],
    responses=ERRORS,
)
def update_organisation(work: Work, organisation_id: Id, body: OrganisationUpdate) -> OrganisationOut:
    """Modifier une organisation (verrouillage optimiste)."""
    with work as (db, actor):
        return organisations.update_organisation(db, actor, organisation_id, body)


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
        return organisations.add_contact(db, actor, organisation_id, body)
