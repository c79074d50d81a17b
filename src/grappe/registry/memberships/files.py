"""Import members from CSV/XLSX with a row-by-row report, and export them (CSV, XLSX).

Accepted columns (header names are matched without case, accents or punctuation):

============================  ==========================================================
column                        meaning
============================  ==========================================================
``siret`` or ``siren``        the member (one of them is required per row)
``nom`` / ``name``            its name (optional when the fabric or the registry knows it)
``nature`` / ``kind``         entreprise, laboratoire, formation, public, association, autre
                              (or the English codes firm, research_lab...); default firm
``date_adhesion`` / ``joined``  YYYY-MM-DD or DD/MM/YYYY (or an Excel date)
``type_adhesion`` / ``type``  membership type (default ``adherent``)
============================  ==========================================================

Rows with a problem are reported with their line (the header is line 1) and reason: invalid
SIRET/SIREN, SIRET unknown to the fabric (when a fabric store exists), a name or type longer
than its column or holding a control character, invalid date or one outside the bounds of
:mod:`grappe.registry.bounds` (the API's), duplicate member in the file, period overlapping
an existing membership. Good rows go in unless
``strict``; everything happens in the caller's transaction, so a failure leaves nothing.
A ``'`` that an export put before a formula start (``= + - @``...) is removed from every cell
(:func:`grappe.kit.export.unquote`), so an exported file re-imports unchanged.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from grappe.errors import FileFormatError, InputError
from grappe.kit import export
from grappe.kit.dates import parse_date
from grappe.registry import bounds, fabric_link, policy
from grappe.registry.identifiers import normalize_siren, normalize_siret
from grappe.registry.memberships import service
from grappe.registry.memberships.repository import MembershipRepository
from grappe.registry.memberships.schemas import MEMBERSHIP_TYPE, ImportIssue, ImportReport, MemberOut
from grappe.registry.models import Membership, Organisation, OrganisationKind
from grappe.registry.organisations import service as organisations
from grappe.registry.organisations.schemas import ORGANISATION_NAME
from grappe.registry.policy import Actor

Lookup = Callable[[Sequence[str], Sequence[str]], dict[str, dict[str, Any]]]

_HEADERS = {
    "siret": "siret",
    "siren": "siren",
    "nom": "name",
    "name": "name",
    "raison_sociale": "name",
    "denomination": "name",
    "nature": "kind",
    "kind": "kind",
    "categorie": "kind",
    "date_adhesion": "joined",
    "date_d_adhesion": "joined",
    "adhesion": "joined",
    "joined": "joined",
    "date": "joined",
    "type_adhesion": "membership_type",
    "type_d_adhesion": "membership_type",
    "type": "membership_type",
    "membership_type": "membership_type",
    "college": "membership_type",
}
_KINDS = {
    "entreprise": "firm",
    "firm": "firm",
    "laboratoire": "research_lab",
    "labo": "research_lab",
    "recherche": "research_lab",
    "research_lab": "research_lab",
    "formation": "training_body",
    "organisme_de_formation": "training_body",
    "training_body": "training_body",
    "public": "public_body",
    "organisme_public": "public_body",
    "collectivite": "public_body",
    "public_body": "public_body",
    "association": "association",
    "autre": "other",
    "other": "other",
}


def _key(text: object) -> str:
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return "_".join("".join(c if c.isalnum() else " " for c in folded.lower()).split())


@dataclass
class _Row:
    line: int
    values: dict[str, str]


def _read_csv(path: Path) -> Iterator[list[str]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Windows-1252 before Latin-1: read as Latin-1, its ’ and Œ would become C1 control
        # characters, which the import refuses.
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
    first = text.split("\n", 1)[0]
    delimiter = max([";", ",", "\t"], key=first.count)
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_xlsx(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a bad file
        raise FileFormatError(f"{path}: classeur XLSX illisible ({exc})") from exc
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_cell(v) for v in row]
    finally:
        book.close()


def read_rows(path: Path) -> tuple[list[str], list[_Row]]:
    """Read a member file (CSV or XLSX): the mapped header and the non-empty rows with lines."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: fichier introuvable")
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        lines = _read_xlsx(path)
    elif suffix in {".csv", ".txt", ".tsv"}:
        lines = _read_csv(path)
    else:
        raise FileFormatError(f"{path}: format {suffix or '?'} non pris en charge (CSV ou XLSX)")
    try:
        header = next(lines)
    except StopIteration:
        raise FileFormatError(f"{path}: fichier vide") from None
    mapped = [_HEADERS.get(_key(h), "") for h in header]
    if "siret" not in mapped and "siren" not in mapped:
        raise FileFormatError(
            f"{path}: colonne siret ou siren attendue ; trouvé : {', '.join(map(str, header))}"
        )
    rows = []
    for number, cells in enumerate(lines, start=2):
        if not any(str(c).strip() for c in cells):
            continue
        # unquote: the `'` an export put before a formula start goes, so exports re-import
        values = {
            name: export.unquote(str(cells[i]).strip())
            for i, name in enumerate(mapped)
            if name and i < len(cells) and str(cells[i]).strip()
        }
        rows.append(_Row(number, values))
    return mapped, rows


@dataclass
class _Good:
    line: int
    siren: str
    siret: str | None
    name: str | None
    kind: str
    joined: dt.date
    membership_type: str


def import_members(
    session: Session,
    actor: Actor,
    cluster_id: int,
    path: Path,
    *,
    strict: bool = False,
    lookup: Lookup | None = None,
    today: dt.date | None = None,
) -> ImportReport:
    """Import the members listed in a CSV or XLSX file into a cluster organisation.

    Parameters
    ----------
    strict
        Write nothing when any row has a problem.
    lookup
        Fabric lookup (default :func:`grappe.registry.fabric_link.lookup` on the settings'
        store). When the fabric has establishment files, a SIRET it does not know is rejected.

    Returns
    -------
    ImportReport
        Rows read, inserted, rejected, and one issue per rejected row (line, column, value,
        reason).
    """
    policy.require_cluster(session, actor, cluster_id, policy.Access.MANAGE, "importer des adhérents")
    _, rows = read_rows(path)
    today = today or dt.date.today()
    issues: list[ImportIssue] = []
    candidates: list[_Good] = []

    def reject(row: _Row, column: str | None, reason: str) -> None:
        value = row.values.get(column or "", None)
        issues.append(
            ImportIssue(
                line=row.line,
                column=column,
                value=None if value is None else bounds.shown(value),
                reason=reason,
            )
        )

    for row in rows:
        v = row.values
        try:
            if "siret" in v:
                siret: str | None = normalize_siret(v["siret"])
                siren = siret[:9] if siret else ""
                if "siren" in v and normalize_siren(v["siren"]) != siren:
                    reject(row, "siren", f"SIREN différent de celui du SIRET ({siren})")
                    continue
            elif "siren" in v:
                siret, siren = None, normalize_siren(v["siren"])
            else:
                reject(row, "siret", "SIRET ou SIREN manquant")
                continue
        except InputError as exc:
            reject(row, "siret" if "siret" in v else "siren", str(exc))
            continue
        # The same bounds as the API's (one rule): the column's length, no control character.
        text_problem = next(
            (
                (column, problem)
                for column, bound in (("name", ORGANISATION_NAME), ("membership_type", MEMBERSHIP_TYPE))
                if column in v and (problem := bound.problem(v[column])) is not None
            ),
            None,
        )
        if text_problem is not None:
            reject(row, *text_problem)
            continue
        kind_text = _key(v.get("kind", "firm"))
        kind = _KINDS.get(kind_text)
        if kind is None:
            reject(row, "kind", f"nature inconnue : attendu {', '.join(sorted(set(_KINDS)))}")
            continue
        if "joined" not in v:
            reject(row, "joined", "date d'adhésion manquante")
            continue
        try:
            joined = parse_date(v["joined"])
        except ValueError:
            reject(row, "joined", "date invalide : attendu AAAA-MM-JJ ou JJ/MM/AAAA")
            continue
        date_problem = bounds.PAST.problem(joined, today)
        if date_problem is not None:
            reject(row, "joined", date_problem)
            continue
        candidates.append(
            _Good(
                row.line,
                siren,
                siret,
                v.get("name"),
                kind,
                joined,
                v.get("membership_type", "adherent"),
            )
        )

    # Duplicates inside the file: the first occurrence wins, later ones are reported.
    first: dict[str, int] = {}
    unique: list[_Good] = []
    for good in candidates:
        if good.siren in first:
            issues.append(
                ImportIssue(
                    line=good.line,
                    column="siret" if good.siret else "siren",
                    value=good.siret or good.siren,
                    reason=f"adhérent en double (déjà ligne {first[good.siren]})",
                )
            )
            continue
        first[good.siren] = good.line
        unique.append(good)

    fabric_known = fabric_link.holds_establishments() if lookup is None else True
    found = (lookup or fabric_link.lookup)(
        [g.siret for g in unique if g.siret], [g.siren for g in unique]
    )
    repository = MembershipRepository(session)
    existing = organisations.of_sirens(session, [g.siren for g in unique])
    periods: dict[int, list[Membership]] = {}
    if existing:
        for m in repository.of_organisations(cluster_id, [o.id for o in existing.values()]):
            periods.setdefault(m.organisation_id, []).append(m)

    accepted: list[_Good] = []
    for good in unique:
        column = "siret" if good.siret else "siren"
        if good.siret and fabric_known and good.siret not in found:
            issues.append(
                ImportIssue(
                    line=good.line,
                    column="siret",
                    value=good.siret,
                    reason="SIRET inconnu du tissu productif",
                )
            )
            continue
        org = existing.get(good.siren)
        if org is not None and policy.organisation_access(session, actor, org.id) < policy.ATTACH:
            # Attaching never gives a right (see grappe.registry.policy): another tenant's
            # organisation joins through an invitation it accepts.
            issues.append(
                ImportIssue(
                    line=good.line,
                    column=column,
                    value=good.siret or good.siren,
                    reason="organisation déjà inscrite sur la plateforme par une autre structure : "
                    "invitez-la (grappe registry invite)",
                )
            )
            continue
        if org is not None:
            clash = next((m for m in periods.get(org.id, []) if m.runs_after(good.joined)), None)
            if clash is not None:
                issues.append(
                    ImportIssue(
                        line=good.line,
                        column="joined",
                        value=good.joined.isoformat(),
                        reason=f"période qui chevauche l'adhésion du {clash.joined}"
                        + (f" au {clash.left_on}" if clash.left_on else " (en cours)"),
                    )
                )
                continue
        elif not good.name and good.siren not in found and (good.siret or "") not in found:
            issues.append(
                ImportIssue(
                    line=good.line,
                    column="name",
                    value=None,
                    reason=f"nom manquant et {column} absent du tissu productif",
                )
            )
            continue
        accepted.append(good)

    issues.sort(key=lambda i: i.line)
    report = ImportReport(
        file=str(path),
        rows=len(rows),
        inserted=0,
        rejected=len(issues),
        committed=False,
        issues=issues,
    )
    if strict and issues:
        return report
    for good in accepted:
        _insert(session, cluster_id, good, existing, found)
    repository.flush()
    repository.refresh_member_count(cluster_id)
    report.inserted = len(accepted)
    report.committed = True
    return report


def _insert(
    session: Session,
    cluster_id: int,
    good: _Good,
    existing: dict[str, Organisation],
    found: dict[str, dict[str, Any]],
) -> None:
    unit = found.get(good.siren, {})
    org = existing.get(good.siren)
    if org is None:
        site = found.get(good.siret or "", {})
        # the importing cluster created the record: it owns it (see OrganisationOwner)
        org = organisations.create_owned(
            session,
            cluster_id,
            siren=good.siren,
            name=good.name or unit.get("name") or site.get("name") or good.siren,
            kind=OrganisationKind(good.kind).value,
            found={key: unit.get(key) or site.get(key) for key in ("naf", "commune", "size_band")},
            in_fabric=bool(unit or site),
        )
        existing[good.siren] = org
    establishment = None
    if good.siret:
        establishment = organisations.site(session, org, good.siret, found.get(good.siret, {}))
    session.add(
        Membership(
            cluster_id=cluster_id,
            organisation=org,
            establishment=establishment,
            membership_type=good.membership_type,
            joined=good.joined,
        )
    )


EXPORT_COLUMNS = (
    "siren",
    "siret",
    "nom",
    "nature",
    "categorie_taille",
    "commune",
    "type_adhesion",
    "date_adhesion",
    "date_depart",
    "motif_depart",
)


def _export_rows(members: list[MemberOut]) -> list[list[Any]]:
    return [
        [
            m.siren,
            m.siret,
            m.name,
            m.kind.value,
            m.size_category.value if m.size_category else None,
            m.commune,
            m.membership_type,
            m.joined,
            m.left,
            m.leaving_reason,
        ]
        for m in members
    ]


def export_members(
    session: Session,
    actor: Actor,
    cluster_id: int,
    path: Path,
    *,
    include_former: bool = True,
    search: str | None = None,
) -> int:
    """Write the members of a cluster to a CSV or XLSX file; return the number of rows.

    CSV in the French spreadsheet dialect (``;``, BOM), XLSX by the suffix; both safe
    against formula injection (:mod:`grappe.kit.export`), so :func:`import_members` reads
    them back unchanged.
    """
    members = service.all_members(
        session, actor, cluster_id, include_former=include_former, search=search
    )
    export.write(path, _export_rows(members), columns=EXPORT_COLUMNS, dialect=export.EXCEL_FR)
    return len(members)
