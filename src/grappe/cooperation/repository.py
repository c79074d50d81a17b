"""All SQL of the cooperation domain: lookups, bulk inserts of imports, lists, figures, network ties."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from grappe.cooperation.models import (
    Project,
    ProjectFunding,
    ProjectPartner,
    ProjectTransition,
)
from grappe.registry.models import Organisation, utcnow

T = TypeVar("T")

CHUNK: Final = 5_000
"""Values per ``IN (...)`` list: far below SQLite's 32,766 bound parameters and PostgreSQL's 65,535."""


def _chunks(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- organisations known by name ---------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationRef:
    """An organisation as an import matches it: id, stored name and SIREN."""

    id: int
    name: str
    siren: str | None


def organisations_by_siren(session: Session, sirens: Iterable[str]) -> dict[str, int]:
    """Ids of the stored organisations of these SIRENs."""
    found: dict[str, int] = {}
    for chunk in _chunks(sirens):
        rows = session.execute(
            select(Organisation.siren, Organisation.id).where(Organisation.siren.in_(chunk))
        )
        found.update({siren: oid for siren, oid in rows if siren is not None})
    return found


def organisations_by_name_key(
    session: Session, keys: Iterable[str]
) -> dict[tuple[str, str], OrganisationRef]:
    """Stored organisations by (name key, kind); of several, the oldest (the first created)."""
    found: dict[tuple[str, str], OrganisationRef] = {}
    for chunk in _chunks(keys):
        rows = session.execute(
            select(Organisation.name_key, Organisation.kind, Organisation.id, Organisation.name,
                   Organisation.siren)
            .where(Organisation.name_key.in_(chunk))
            .order_by(Organisation.id.desc())
        )
        for key, kind, oid, name, siren in rows:
            if key is not None:
                found[(key, kind)] = OrganisationRef(oid, name, siren)
    return found


def insert_organisations(
    session: Session, rows: Sequence[dict[str, Any]]
) -> dict[tuple[str, str], int]:
    """Insert organisations (``name, name_key, kind, siren, town, country``); ids by (key, kind)."""
    now = utcnow()
    statement = insert(Organisation).returning(
        Organisation.id, Organisation.name_key, Organisation.kind, sort_by_parameter_order=True
    )
    result = session.execute(
        statement, [row | {"version": 1, "in_fabric": False, "created_at": now} for row in rows]
    )
    return {(key or "", kind): oid for oid, key, kind in result}


def set_sirens(session: Session, sirens: dict[int, str]) -> None:
    """Give organisations known by name only the SIREN now known (``{id: siren}``)."""
    if not sirens:
        return
    session.connection().execute(
        update(Organisation.__table__)  # type: ignore[arg-type]
        .where(Organisation.__table__.c.id == bindparam("oid"))
        .values(siren=bindparam("new_siren"), version=Organisation.__table__.c.version + 1),
        [{"oid": oid, "new_siren": siren} for oid, siren in sirens.items()],
    )


# --- imported projects -------------------------------------------------------------------------


def project_ids_by_code(session: Session, codes: Iterable[str]) -> dict[str, int]:
    """Ids of the stored projects of these codes."""
    found: dict[str, int] = {}
    for chunk in _chunks(codes):
        rows = session.execute(select(Project.code, Project.id).where(Project.code.in_(chunk)))
        found.update({code: pid for code, pid in rows if code is not None})
    return found


def stored_partner_codes(session: Session, codes: Iterable[str]) -> set[str]:
    """The partner codes among ``codes`` already stored."""
    found: set[str] = set()
    for chunk in _chunks(codes):
        found.update(
            code
            for code in session.scalars(select(ProjectPartner.code).where(ProjectPartner.code.in_(chunk)))
            if code is not None
        )
    return found


def insert_projects(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert projects (column values, ``code`` included); their ids by code."""
    if not rows:
        return {}
    now = utcnow()
    defaults = {"confidential": False, "version": 1, "created_at": now}
    result = session.execute(
        insert(Project).returning(Project.code, Project.id, sort_by_parameter_order=True),
        [defaults | row for row in rows],
    )
    return {code or "": pid for code, pid in result}


def insert_project_details(
    session: Session, *, fundings: Sequence[dict[str, Any]], transitions: Sequence[dict[str, Any]]
) -> None:
    """Insert fundings and status transitions of new projects."""
    if fundings:
        session.execute(insert(ProjectFunding), list(fundings))
    if transitions:
        now = utcnow()
        session.execute(insert(ProjectTransition), [row | {"recorded_at": now} for row in transitions])


def insert_partners(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert project partners (column values)."""
    if rows:
        session.execute(insert(ProjectPartner), list(rows))
