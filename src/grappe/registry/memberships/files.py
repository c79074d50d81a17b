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
(:func:`grappe.kit.export.unquote`), so an exported file re-imports unchanged. Lines above
the header starting with ``#`` are notes (the template's, :data:`TEMPLATE_COLUMNS`), skipped.
In update mode a row matching a member's period (same SIREN, overlapping dates) changes it
instead of being rejected, and every changed value is reported.
"""

from __future__ import annotations

import csv
import datetime as dt
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from grappe.errors import FileFormatError, InputError
from grappe.kit import export, tables
from grappe.kit.dates import parse_date
from grappe.registry import bounds, fabric_link, policy
from grappe.registry.identifiers import normalize_siren, normalize_siret
from grappe.registry.memberships import service
from grappe.registry.memberships.repository import MembershipRepository
from grappe.registry.memberships.schemas import (
    DEFAULT_TYPE,
    MEMBERSHIP_TYPE,
    ImportChange,
    ImportIssue,
    ImportReport,
    MemberOut,
)
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


#: The French word of each kind code, the first of _KINDS (report of update-mode changes).
_KIND_WORDS = {code: word for word, code in reversed(_KINDS.items())}


def _key(text: object) -> str:
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return "_".join("".join(c if c.isalnum() else " " for c in folded.lower()).split())


@dataclass
class _Row:
    line: int
    values: dict[str, str]


#: The column a report names when the file lacks it: the template's header (TEMPLATE_COLUMNS).
_TEMPLATE_NAMES = {
    "siret": "siret",
    "siren": "siren",
    "name": "nom",
    "kind": "nature",
    "joined": "date_adhesion",
    "membership_type": "type_adhesion",
}


def read_rows(path: Path) -> tuple[dict[str, str], list[_Row]]:
    """Read a member file (CSV or XLSX): each column read with its header as the file writes
    it, and the non-empty rows with their lines."""
    path = Path(path)
    lines = tables.cells(path)
    # The notes the template puts above its header (lines starting with #) are skipped,
    # and counted, so that the lines reported are the file's own.
    header: list[str] = []
    skipped = 0
    for header in lines:
        if not (header and str(header[0]).startswith(NOTE)):
            break
        skipped += 1
    else:
        header = []
    if not header:
        raise FileFormatError(f"{path}: fichier vide")
    mapped = [_HEADERS.get(_key(h), "") for h in header]
    if "siret" not in mapped and "siren" not in mapped:
        raise FileFormatError(
            f"{path}: colonne siret ou siren attendue ; trouvé : {', '.join(map(str, header))}"
        )
    rows = []
    for number, cells in enumerate(lines, start=skipped + 2):
        if not any(str(c).strip() for c in cells):
            continue
        # unquote: the `'` an export put before a formula start goes, so exports re-import
        values = {
            name: export.unquote(str(cells[i]).strip())
            for i, name in enumerate(mapped)
            if name and i < len(cells) and str(cells[i]).strip()
        }
        rows.append(_Row(number, values))
    written: dict[str, str] = {}
    for name, title in zip(mapped, header, strict=True):
        if name:
            written.setdefault(name, str(title).strip())
    return written, rows


@dataclass
class _Good:
    """A row that passed the checks; None for a value the file does not give."""

    line: int
    siren: str
    siret: str | None
    name: str | None
    kind: str | None
    joined: dt.date
    membership_type: str | None


def import_members(
    session: Session,
    actor: Actor,
    cluster_id: int,
    path: Path,
    *,
    strict: bool = False,
    update: bool = False,
    accept_unknown: bool = False,
    lookup: Lookup | None = None,
    today: dt.date | None = None,
) -> ImportReport:
    """Import the members listed in a CSV or XLSX file into a cluster organisation.

    Parameters
    ----------
    strict
        Write nothing when any row has a problem.
    update
        A row whose period overlaps an existing membership of the same SIREN updates that
        membership (date, type, SIRET) and, when the actor manages the organisation, its name
        and kind; each changed value is reported. Without it such a row is rejected.
    accept_unknown
        Accept a SIRET the fabric store does not know; the row is reported in
        ``outside_fabric`` and the organisation keeps ``in_fabric`` false.
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
    written, rows = read_rows(path)
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
        kind = _KINDS.get(_key(v["kind"])) if "kind" in v else None
        if "kind" in v and kind is None:
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
                v.get("membership_type"),
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
    outside: list[ImportIssue] = []
    changes: list[_Change] = []
    for good in unique:
        column = "siret" if good.siret else "siren"
        if good.siret and fabric_known and good.siret not in found:
            unknown = ImportIssue(
                line=good.line, column="siret", value=good.siret, reason="SIRET inconnu du tissu productif"
            )
            if not accept_unknown:
                issues.append(unknown)
                continue
            outside.append(unknown)
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
            # the latest period running after the row's date is the one an update changes
            clash = max(
                (m for m in periods.get(org.id, []) if m.runs_after(good.joined)),
                key=lambda m: m.joined,
                default=None,
            )
            if clash is not None and update:
                refusal = _changes(session, actor, org, clash, good, periods[org.id], found, changes)
                if refusal is not None:
                    issues.append(
                        ImportIssue(line=good.line, column=refusal[0], value=refusal[1], reason=refusal[2])
                    )
                continue
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

    # A report names the columns as the file writes them (the template's name when absent).
    def as_written(column: str) -> str:
        return written.get(column) or _TEMPLATE_NAMES.get(column, column)

    for issue in (*issues, *outside):
        if issue.column is not None:
            issue.column = as_written(issue.column)
    for change in changes:
        change.shown.column = as_written(change.shown.column)
    issues.sort(key=lambda i: i.line)
    rejected_lines = {i.line for i in issues}
    report = ImportReport(
        file=str(path),
        rows=len(rows),
        inserted=0,
        rejected=len(issues),
        committed=False,
        issues=issues,
        changes=[c.shown for c in changes],
        outside_fabric=[o for o in outside if o.line not in rejected_lines],
    )
    if strict and issues:
        return report
    # Every value is checked above and nothing is written before this point: a refusal
    # under --strict leaves the members as they were.
    for change in changes:
        change.apply()
    for good in accepted:
        _insert(session, cluster_id, good, existing, found)
    repository.flush()
    repository.refresh_member_count(cluster_id)
    report.inserted = len(accepted)
    report.updated = len({c.shown.line for c in changes})
    report.committed = True
    return report


@dataclass
class _Change:
    """A value an update-mode row changes, applied once the whole file is checked."""

    shown: ImportChange
    apply: Callable[[], None]


def _changes(
    session: Session,
    actor: Actor,
    org: Organisation,
    period: Membership,
    good: _Good,
    periods: list[Membership],
    found: dict[str, dict[str, Any]],
    changes: list[_Change],
) -> tuple[str, str | None, str] | None:
    """The differences between an update-mode row and its member, or why the row is refused.

    Only the values the file gives are compared. Appends the changes to ``changes`` when the
    row is good; returns (column, value, reason) when it is not.
    """
    mine: list[_Change] = []

    def differ(column: str, before: object, after: object, apply: Callable[[], None]) -> None:
        if before != after:
            shown = ImportChange(
                line=good.line,
                siren=good.siren,
                name=org.name,
                column=column,
                before=None if before is None else _text(before, column),
                after=_text(after, column),
            )
            mine.append(_Change(shown, apply))

    def set_to(target: object, attribute: str, value: object) -> Callable[[], None]:
        return lambda: setattr(target, attribute, value)

    if good.joined != period.joined:
        if period.left_on is not None and period.left_on <= good.joined:
            return "joined", good.joined.isoformat(), f"date d'adhésion après le départ du {period.left_on}"
        other = next(
            (
                m
                for m in periods
                if m is not period
                and m.runs_after(good.joined)
                and (period.left_on is None or m.joined < period.left_on)
            ),
            None,
        )
        if other is not None:
            return "joined", good.joined.isoformat(), f"période qui chevauche l'adhésion du {other.joined}"
        differ("joined", period.joined, good.joined, set_to(period, "joined", good.joined))
    if good.membership_type is not None:
        differ(
            "membership_type",
            period.membership_type,
            good.membership_type,
            set_to(period, "membership_type", good.membership_type),
        )
    if good.siret is not None:
        siret = good.siret

        def move() -> None:
            period.establishment = organisations.site(session, org, siret, found.get(siret, {}))

        differ("siret", period.establishment.siret if period.establishment else None, siret, move)
    record = [("name", org.name, good.name), ("kind", org.kind, good.kind)]
    if any(after is not None and after != before for _, before, after in record):
        if policy.organisation_access(session, actor, org.id) < policy.Access.MANAGE:
            column = next(c for c, before, after in record if after is not None and after != before)
            return column, None, "organisation gérée par une autre structure : nom et nature non modifiables"
        for column, before, after in record:
            if after is not None:
                differ(column, before, after, set_to(org, column, after))
    changes.extend(mine)
    return None


def _text(value: object, column: str) -> str:
    """A value as the import report shows it: dates ISO, kinds by their French word."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return _KIND_WORDS.get(str(value), str(value)) if column == "kind" else str(value)


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
            kind=OrganisationKind(good.kind or "firm").value,
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
            membership_type=good.membership_type or DEFAULT_TYPE,
            joined=good.joined,
        )
    )


#: What starts a note line above the header of a member file (the template's notes).
NOTE = "#"

#: The columns of the member template, with the note each carries (the file's own help);
#: no ``;`` in a note, so that the CSV note lines stay unquoted.
TEMPLATE_COLUMNS = (
    ("siret", "SIRET de l'établissement adhérent (14 chiffres), ou bien la colonne siren"),
    ("siren", "SIREN de l'entreprise (9 chiffres), si le SIRET n'est pas donné"),
    ("nom", "Raison sociale, facultative si le tissu productif ou le registre la connaît"),
    ("nature", "entreprise, laboratoire, formation, public, association ou autre (défaut : entreprise)"),
    ("date_adhesion", "Date d'adhésion, JJ/MM/AAAA ou AAAA-MM-JJ (obligatoire)"),
    ("type_adhesion", "Collège ou type d'adhésion (défaut : adherent)"),
)


def write_template(path: Path) -> None:
    """Write an empty member file, CSV or XLSX by the suffix, whose header explains itself.

    XLSX: a comment on each header cell and a second sheet "Notice"; CSV (French
    spreadsheet dialect): one note line per column above the header, which imports skip.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".xlsx"}:
        raise InputError(f"{path}: modèle en .csv ou .xlsx seulement (reçu {suffix or 'sans extension'})")
    names = [name for name, _ in TEMPLATE_COLUMNS]
    try:
        if suffix == ".csv":
            with path.open("w", encoding=export.EXCEL_FR.encoding, newline="") as handle:
                writer = csv.writer(handle, delimiter=export.EXCEL_FR.delimiter)
                for name, note in TEMPLATE_COLUMNS:
                    writer.writerow([f"{NOTE} {name} : {note}"])
                writer.writerow(names)
            return
        from openpyxl import Workbook
        from openpyxl.comments import Comment

        book = Workbook()
        sheet = book.active
        assert sheet is not None  # a new workbook has one sheet
        sheet.title = "adherents"
        sheet.append(names)
        for cell, (_, note) in zip(sheet[1], TEMPLATE_COLUMNS, strict=True):
            cell.comment = Comment(note, "grappe")
        notice = book.create_sheet("Notice")
        notice.append(["colonne", "contenu"])
        for row in TEMPLATE_COLUMNS:
            notice.append(list(row))
        book.save(path)
    except OSError as exc:
        raise InputError(f"{path}: écriture impossible ({exc.strerror or exc})") from exc


#: The columns of a member export and their French headers (CSV for French spreadsheets,
#: XLSX); :func:`read_rows` reads both back.
EXPORT_LABELS = {
    "siren": "siren",
    "siret": "siret",
    "name": "nom",
    "kind": "nature",
    "size_category": "categorie_taille",
    "commune": "commune",
    "membership_type": "type_adhesion",
    "joined": "date_adhesion",
    "left": "date_depart",
    "leaving_reason": "motif_depart",
    "in_fabric": "dans_tissu_productif",
}


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
            m.in_fabric,
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
    format: export.FileFormat | None = None,
) -> int:
    """Write the members of a cluster to a CSV or XLSX file; return the number of rows.

    ``format`` as in :func:`grappe.kit.export.write` (by default the suffix's: ``.csv`` for
    programs, English headers); every format is safe against formula injection, so
    :func:`import_members` reads it back unchanged.
    """
    members = service.all_members(
        session, actor, cluster_id, include_former=include_former, search=search
    )
    export.write(
        path, _export_rows(members), format=format, columns=list(EXPORT_LABELS), labels=EXPORT_LABELS
    )
    return len(members)
