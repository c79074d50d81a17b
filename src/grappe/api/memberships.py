"""Routes of memberships: member lists, the member directory, imports and exports."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response

from grappe.api.deps import ERRORS, Day, Id, Limit, Offset, Work
from grappe.errors import InputError
from grappe.kit import export
from grappe.registry.memberships import files
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import (
    DirectoryMemberPage,
    ImportReport,
    MemberOut,
    MemberPage,
    MembershipCreate,
    MembershipEnd,
)

router = APIRouter()


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
        page = memberships.list_members(
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
        return memberships.add_membership(db, actor, cluster_id, body)


@router.get(
    "/clusters/{cluster_id}/directory",
    response_model=DirectoryMemberPage,
    tags=["adhérents"],
    responses=ERRORS,
)
def member_directory(
    work: Work, cluster_id: Id, limit: Limit = 100, offset: Offset = 0
) -> DirectoryMemberPage:
    """Annuaire des adhérents (contacts consentants), pour les adhérents de la structure."""
    with work as (db, actor):
        members = memberships.member_directory(db, actor, cluster_id)
    return DirectoryMemberPage.of(members, limit, offset)


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
            report = files.import_members(db, actor, cluster_id, path, strict=strict)
    report.file = file.filename or report.file
    return report


@router.get(
    "/clusters/{cluster_id}/members/export",
    tags=["adhérents"],
    responses=ERRORS,
    response_class=Response,
)
def export_members(work: Work, cluster_id: Id, format: export.FileFormat = "csv") -> Response:
    """Exporter les adhérents : CSV pour les programmes, CSV pour Excel en français, ou XLSX."""
    suffix = export.SUFFIXES[format]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"adherents{suffix}"
        with work as (db, actor):
            files.export_members(db, actor, cluster_id, path, format=format)
        content = path.read_bytes()
    return Response(
        content,
        media_type=export.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="adherents-{cluster_id}{suffix}"'},
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
        return memberships.end_membership(db, actor, membership_id, body)
