"""Import collaborative projects and their partners (ANR open data or the generic table layout).

Two files are read together: the projects and their partners. Every row is checked
(required values, lengths and bounds of the columns, dates, amounts, categories, the
partner's project); a row with a problem is reported with its file, line (the header is line
1), column, value and reason, and the other rows go in unless ``strict``. Everything happens
in the caller's transaction, so a failure leaves nothing half-written.

Partners named ``Non renseigné`` or nothing are not organisations: they stay unnamed partner
rows (category, town, budget). Named partners become registry organisations, de-duplicated
by their name key (:func:`grappe.registry.identifiers.name_key`) and kind: a spelling merged
with another one is listed in the report. A partner with a SIREN (generic layout) is the
organisation of that SIREN; an organisation known by name only gets the SIREN when it
becomes known. Projects are found again by their code and partners by theirs, so importing
the same files twice adds nothing: every row read is inserted, already stored (unchanged) or
reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from sqlalchemy.orm import Session

from grappe.cooperation import repository
from grappe.cooperation.models import (
    KIND_OF_CATEGORY,
    NOT_GIVEN,
    PartnerCategory,
    Programme,
    Project,
    ProjectFunding,
    ProjectKind,
    ProjectPartner,
    ProjectStatus,
)
from grappe.cooperation.schemas import (
    SUMMARY_LENGTH,
    ImportCounts,
    ImportIssue,
    ImportMerge,
    ProjectImportReport,
)
from grappe.errors import FileFormatError, InputError
from grappe.kit import export, tables
from grappe.kit.dates import EXPECTED, parse_date
from grappe.registry import bounds, policy
from grappe.registry.identifiers import name_key, normalize_siren
from grappe.registry.models import Organisation, OrganisationKind
from grappe.registry.policy import Actor


class ImportFormat(StrEnum):
    """Layouts ``grappe cooperation import-projects`` reads."""

    ANR = "anr"
    TABLE = "table"


NOT_GIVEN_LENGTH: Final = len("non renseigné")  # longer cells are values: no need to fold them

#: The generic layout: English snake_case headers (README, "Importer des projets").
TABLE_PROJECT_COLUMNS: Final = {
    "project": "code",
    "title": "title",
    "acronym": "acronym",
    "kind": "kind",
    "status": "status",
    "start": "start",
    "end": "end_date",
    "call": "call",
    "edition": "edition",
    "summary": "summary",
    "confidential": "confidential",
    "funder": "funder",
    "programme": "programme",
    "funding_eur": "funding_eur",
}
TABLE_PARTNER_COLUMNS: Final = {
    "project": "project",
    "partner": "code",
    "name": "name",
    "siren": "siren",
    "category": "category",
    "coordinator": "coordinator",
    "town": "town",
    "country": "country",
    "budget_eur": "budget_eur",
}
#: The ANR open-data files (data.gouv.fr, "ANR - projets financés"): official dotted headers.
ANR_PROJECT_COLUMNS: Final = {
    "Projet.Code_Decision_ANR": "code",
    "Projet.Titre.Francais": "title",
    "Projet.Acronyme": "acronym",
    "Projet.Date_debut": "start",
    "Action.Titre.Francais": "call",
    "Action.Edition": "edition",
    "Projet.Resume.Francais": "summary",
    "Projet.Aide_allouee": "funding_eur",
}
ANR_PARTNER_COLUMNS: Final = {
    "Projet.Code_Decision_ANR": "project",
    "Projet.Partenaire.Code_Decision_ANR": "code",
    "Projet.Partenaire.Nom_organisme": "name",
    "Projet.Partenaire.Categorie_organisme": "category",
    "Projet.Partenaire.Est_coordinateur": "coordinator",
    "Projet.Partenaire.Adresse.Ville": "town",
    "Projet.Partenaire.Adresse.Pays": "country",
}
REQUIRED: Final = {"projects": ("code", "title"), "partners": ("project",)}

#: ANR's organisation categories: the partner category and the organisation kind they mean.
#: Higher education and research bodies are laboratories; a category left out of the six
#: partner categories (associations, GIE) keeps its ANR name only.
ANR_CATEGORIES: Final[dict[str, tuple[PartnerCategory | None, OrganisationKind]]] = {
    "universites insa et inp": (PartnerCategory.LABORATORY, OrganisationKind.RESEARCH_LAB),
    "organismes de type epst": (PartnerCategory.LABORATORY, OrganisationKind.RESEARCH_LAB),
    "organismes de type epic": (PartnerCategory.LABORATORY, OrganisationKind.RESEARCH_LAB),
    "grandes ecoles publiques": (PartnerCategory.LABORATORY, OrganisationKind.RESEARCH_LAB),
    "comue pole de recherche et d enseignement superieur": (
        PartnerCategory.LABORATORY,
        OrganisationKind.RESEARCH_LAB,
    ),
    "ens et grands etablissements": (PartnerCategory.LABORATORY, OrganisationKind.RESEARCH_LAB),
    "iep": (PartnerCategory.LABORATORY, OrganisationKind.RESEARCH_LAB),
    "inha": (PartnerCategory.LABORATORY, OrganisationKind.RESEARCH_LAB),
    "observatoires": (PartnerCategory.LABORATORY, OrganisationKind.RESEARCH_LAB),
    "fondations": (PartnerCategory.LABORATORY, OrganisationKind.RESEARCH_LAB),
    "autres ecoles privees": (PartnerCategory.TRAINING_BODY, OrganisationKind.TRAINING_BODY),
    "entreprises privees": (PartnerCategory.NON_MEMBER_FIRM, OrganisationKind.FIRM),
    "organismes medicaux hopitaux": (PartnerCategory.PUBLIC_BODY, OrganisationKind.PUBLIC_BODY),
    "etablissements de sante": (PartnerCategory.PUBLIC_BODY, OrganisationKind.PUBLIC_BODY),
    "autres etablissements publics": (PartnerCategory.PUBLIC_BODY, OrganisationKind.PUBLIC_BODY),
    "epa gip organismes avec autre statut": (
        PartnerCategory.PUBLIC_BODY,
        OrganisationKind.PUBLIC_BODY,
    ),
    "ministeres": (PartnerCategory.PUBLIC_BODY, OrganisationKind.PUBLIC_BODY),
    "collectivites": (PartnerCategory.PUBLIC_BODY, OrganisationKind.PUBLIC_BODY),
    "etranger": (PartnerCategory.FOREIGN_PARTNER, OrganisationKind.OTHER),
    "associations": (None, OrganisationKind.ASSOCIATION),
    "gie ou non affecte": (None, OrganisationKind.OTHER),
}
#: The generic layout's categories: English codes or French words.
TABLE_CATEGORIES: Final[dict[str, PartnerCategory]] = {
    **{c.value.replace("_", " "): c for c in PartnerCategory},
    "entreprise adherente": PartnerCategory.MEMBER_FIRM,
    "entreprise membre": PartnerCategory.MEMBER_FIRM,
    "entreprise non adherente": PartnerCategory.NON_MEMBER_FIRM,
    "entreprise non membre": PartnerCategory.NON_MEMBER_FIRM,
    "laboratoire": PartnerCategory.LABORATORY,
    "organisme de formation": PartnerCategory.TRAINING_BODY,
    "organisme public": PartnerCategory.PUBLIC_BODY,
    "partenaire etranger": PartnerCategory.FOREIGN_PARTNER,
}
PROJECT_KINDS: Final[dict[str, ProjectKind]] = {
    **{k.value.replace("_", " "): k for k in ProjectKind},
    "r d": ProjectKind.RD_INNOVATION,
    "r d innovation": ProjectKind.RD_INNOVATION,
    "innovation": ProjectKind.RD_INNOVATION,
    "marche": ProjectKind.MARKET,
    "formation": ProjectKind.TRAINING,
    "structurant": ProjectKind.STRUCTURING,
}
STATUSES: Final[dict[str, ProjectStatus]] = {
    **{s.value: s for s in ProjectStatus},
    "idee": ProjectStatus.IDEA,
    "montage": ProjectStatus.DRAFTING,
    "labellise": ProjectStatus.LABELLED,
    "depose": ProjectStatus.SUBMITTED,
    "finance": ProjectStatus.FUNDED,
    "refuse": ProjectStatus.REJECTED,
    "en cours": ProjectStatus.RUNNING,
    "termine": ProjectStatus.COMPLETED,
    "abandonne": ProjectStatus.ABANDONED,
}
PROGRAMMES: Final[dict[str, Programme]] = {
    **{p.value.replace("_", " "): p for p in Programme},
    "bpi": Programme.BPIFRANCE,
    "bpi france": Programme.BPIFRANCE,
    "horizon": Programme.HORIZON_EUROPE,
    "autre": Programme.OTHER,
}
BOOLEANS: Final = {
    "true": True,
    "false": False,
    "oui": True,
    "non": False,
    "vrai": True,
    "faux": False,
    "1": True,
    "0": False,
    "o": True,
    "n": False,
}
DEFAULT_STATUS: Final = ProjectStatus.FUNDED  # what the ANR publishes: funded projects


@dataclass
class _Row:
    line: int
    values: dict[str, Any]


@dataclass
class _Files:
    """What one import reads and decides, file by file."""

    projects_file: str
    partners_file: str
    issues: list[ImportIssue] = field(default_factory=list)

    def report(self, file: str, row: _Row, column: str | None, reason: str, value: Any = None) -> None:
        shown = row.values.get(column) if column and value is None else value
        self.issues.append(
            ImportIssue(
                file=file,
                line=row.line,
                column=column,
                value=None if shown in (None, "") else bounds.shown(shown),
                reason=reason,
            )
        )


def _fold(text: str) -> str:
    """A header or a label compared without case, accents or punctuation."""
    return name_key(text)


# --- reading ---------------------------------------------------------------------------------


def read_table(path: Path, columns: Mapping[str, str], required: tuple[str, ...]) -> list[_Row]:
    """The rows of a CSV or XLSX file (:func:`grappe.kit.tables.values`), keyed by the field
    names ``columns`` maps headers to.

    Headers are compared without case, accents or punctuation; unknown columns are ignored.
    Cells meaning "not given" (:data:`~grappe.cooperation.models.NOT_GIVEN`) are left out.

    Raises
    ------
    FileFormatError
        Missing or unreadable file, unknown suffix, empty file, or a required column absent.
    """
    if not path.is_file():
        raise FileFormatError(f"{path} : fichier introuvable")
    lines = tables.values(path)  # the kit's one reader: CSV sniffed, XLSX with its cell types
    try:
        header = next(lines)
    except StopIteration:
        raise FileFormatError(f"{path} : fichier vide") from None
    folded = {_fold(name): target for name, target in columns.items()}
    mapped = [folded.get(_fold(str(h or "")), "") for h in header]
    absent = [name for name, target in columns.items() if target in required and target not in mapped]
    if absent:
        found = ", ".join(str(h) for h in header if h is not None)
        names = ", ".join(repr(a) for a in absent)
        raise FileFormatError(f"{path} : colonne {names} absente ; trouvé : {bounds.shown(found, 300)}")
    rows = []
    for number, cells in enumerate(lines, start=2):
        values: dict[str, Any] = {}
        for name, cell in zip(mapped, cells, strict=False):
            value = cell
            if isinstance(value, str):
                value = value.strip()
                if value.startswith(export.QUOTE):
                    # the `'` an export put before a formula start goes, so exports re-import
                    value = export.unquote(value)
                if len(value) <= NOT_GIVEN_LENGTH and name_key(value) in NOT_GIVEN:
                    continue
            if name and value is not None:
                values[name] = value
        if values:
            rows.append(_Row(number, values))
    return rows


# --- values ----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return parse_date(_text(value))


def _amount(value: Any) -> Decimal:
    if isinstance(value, int | float):
        return Decimal(str(value))
    text = "".join(str(value).replace("\u202f", "").replace("\xa0", "").split())
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # French decimal comma
    return Decimal(text.removesuffix("€"))


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return BOOLEANS[_fold(_text(value))]


def _year(value: Any) -> int:
    number = float(value) if isinstance(value, int | float) else float(_text(value).strip())
    if not number.is_integer():
        raise ValueError(value)
    return int(number)


_CHECKS: Final[dict[str, tuple[Callable[[Any], Any], str]]] = {
    "start": (_date, f"date invalide, {EXPECTED}"),
    "end_date": (_date, f"date invalide, {EXPECTED}"),
    "funding_eur": (_amount, "montant invalide (ex. : 125000 ou 125 000,50)"),
    "budget_eur": (_amount, "montant invalide (ex. : 125000 ou 125 000,50)"),
    "coordinator": (_boolean, "valeur invalide : oui/non ou true/false attendu"),
    "confidential": (_boolean, "valeur invalide : oui/non ou true/false attendu"),
    "edition": (_year, "année invalide"),
}
# The bounds of the text fields, built once: a row checks each of its cells against them.
PROJECT_TEXTS: Final = {
    name: bounds.Text(column)
    for name, column in (
        ("code", Project.code),
        ("title", Project.title),
        ("acronym", Project.acronym),
        ("call", Project.call),
        ("funder", ProjectFunding.funder),
    )
}
PARTNER_TEXTS: Final = {
    name: bounds.Text(column)
    for name, column in (
        ("project", Project.code),
        ("code", ProjectPartner.code),
        ("town", ProjectPartner.town),
        ("country", ProjectPartner.country),
        ("name", Organisation.name),
    )
}
AMOUNT: Final = bounds.Amount(ProjectFunding.amount_eur)


def _typed(name: str, value: Any, texts: Mapping[str, bounds.Text]) -> tuple[Any, str | None]:
    """The typed value of a field and why it is refused (None when it is fine)."""
    if name in _CHECKS:
        convert, reason = _CHECKS[name]
        try:
            value = convert(value)
        except (ValueError, KeyError, InvalidOperation, ArithmeticError):
            return value, reason
        if isinstance(value, bool):
            return value, None
        if isinstance(value, dt.date):
            return value, bounds.PLANNED.problem(value)
        if isinstance(value, Decimal):
            return value, AMOUNT.problem(value)
        return value, bounds.ACCOUNTING.problem(value)  # the edition, a year
    value = _text(value)
    if name == "summary":
        return value, bounds.text_problem(value, SUMMARY_LENGTH, multiline=True)
    if name in texts:
        return value, texts[name].problem(value)
    return value, None


def _clean(files: _Files, file: str, row: _Row, texts: Mapping[str, bounds.Text]) -> dict[str, Any] | None:
    """The row's typed values, or None after reporting its first bad value."""
    clean: dict[str, Any] = {}
    for name, raw in row.values.items():
        value, problem = _typed(name, raw, texts)
        if problem is not None:
            files.report(file, row, name, problem, raw)
            return None
        clean[name] = value
    return clean


def _choice(
    files: _Files, file: str, row: _Row, name: str, table: Mapping[str, Any], default: Any
) -> tuple[Any, bool]:
    """A coded value (kind, status, programme, category) and whether it is acceptable."""
    given = row.values.get(name)
    if given is None:
        return default, True
    value = table.get(_fold(_text(given)))
    if value is None:
        allowed = ", ".join(sorted({str(v) for v in table.values()}))
        files.report(file, row, name, f"valeur inconnue ; valeurs possibles : {allowed}")
        return None, False
    return value, True


@dataclass
class _Project:
    line: int
    values: dict[str, Any]
    funding: dict[str, Any] | None


@dataclass
class _Partner:
    line: int
    project: str
    code: str
    values: dict[str, Any]
    kind: OrganisationKind
    siren: str | None


def _read_projects(files: _Files, rows: list[_Row], fmt: ImportFormat) -> dict[str, _Project]:
    file = files.projects_file
    good: dict[str, _Project] = {}
    for row in rows:
        v = _clean(files, file, row, PROJECT_TEXTS)
        if v is None:
            continue
        missing = [name for name in REQUIRED["projects"] if name not in v]
        if missing:
            files.report(file, row, missing[0], "valeur manquante")
            continue
        if v["code"] in good:
            files.report(
                file, row, "code", f"projet en double dans le fichier (ligne {good[v['code']].line})"
            )
            continue
        if "end_date" in v and "start" in v and v["end_date"] < v["start"]:
            files.report(file, row, "end_date", "fin avant le début du projet")
            continue
        if fmt is ImportFormat.ANR:
            kind, status, programme, ok = ProjectKind.RD_INNOVATION, DEFAULT_STATUS, Programme.ANR, True
            v.setdefault("funder", "ANR")
        else:
            kind, ok_kind = _choice(files, file, row, "kind", PROJECT_KINDS, ProjectKind.RD_INNOVATION)
            status, ok_status = _choice(files, file, row, "status", STATUSES, DEFAULT_STATUS)
            programme, ok_programme = _choice(files, file, row, "programme", PROGRAMMES, Programme.OTHER)
            ok = ok_kind and ok_status and ok_programme
        if not ok:
            continue
        amount = v.pop("funding_eur", None)
        funder = v.pop("funder", None)
        v.pop("programme", None)
        funding = None
        if amount is not None:
            funding = {
                "funder": funder or programme.value.upper(),
                "programme": programme.value,
                "amount_eur": amount,
            }
        v.update(kind=kind.value, status=status.value)
        good[v["code"]] = _Project(row.line, v, funding)
    return good


def _read_partners(files: _Files, rows: list[_Row], fmt: ImportFormat, projects: set[str]) -> list[_Partner]:
    """Checked partner rows; ``projects``: codes of the projects they may belong to."""
    file = files.partners_file
    good: list[_Partner] = []
    seen: dict[str, int] = {}
    rank: dict[str, int] = {}
    for row in rows:
        project = _text(row.values.get("project", ""))
        rank[project] = rank.get(project, 0) + 1
        v = _clean(files, file, row, PARTNER_TEXTS)
        if v is None:
            continue
        if "project" not in v:
            files.report(file, row, "project", "valeur manquante")
            continue
        if project not in projects:
            files.report(file, row, "project", "projet inconnu : absent de la base et des projets importés")
            continue
        # Without partner codes (generic layout), a partner is its rank in its project's rows.
        code = v.get("code") or f"{project}#{rank[project]}"
        if code in seen:
            files.report(file, row, "code", f"partenaire en double dans le fichier (ligne {seen[code]})")
            continue
        if fmt is ImportFormat.ANR:
            source = v.get("category")
            category, kind = ANR_CATEGORIES.get(
                _fold(source) if source else "", (None, OrganisationKind.OTHER)
            )
            v["source_category"] = source
        else:
            category, ok = _choice(files, file, row, "category", TABLE_CATEGORIES, None)
            if not ok:
                continue
            kind = KIND_OF_CATEGORY.get(category, OrganisationKind.OTHER)
        siren = None
        if "siren" in v:
            try:
                siren = normalize_siren(v["siren"])
            except InputError as exc:
                files.report(file, row, "siren", str(exc).split(" : ", 1)[-1])
                continue
        v["category"] = category.value if category else None
        seen[code] = row.line
        good.append(_Partner(row.line, project, code, v, kind, siren))
    return good


def _organisations(
    session: Session, partners: list[_Partner], merges: list[ImportMerge], *, write: bool
) -> tuple[dict[int, int | None], int]:
    """The organisation id of every named partner (by line) and how many were created.

    A partner with a SIREN is that SIREN's organisation; one found by name key without SIREN
    gets it. The others are found, or created, by name key and kind; every spelling other
    than the kept name is listed in ``merges``.
    """
    named = [p for p in partners if "name" in p.values]
    by_siren = repository.organisations_by_siren(session, {p.siren for p in named if p.siren})
    keys = {(name_key(p.values["name"]), p.kind.value) for p in named}
    stored = repository.organisations_by_name_key(session, {key for key, _ in keys})
    chosen: dict[tuple[str, str], repository.OrganisationRef] = {}
    new: dict[tuple[str, str], dict[str, Any]] = {}
    siren_of: dict[int, str] = {}
    spellings: dict[tuple[str, str], dict[str, None]] = {}
    new_sirens: dict[str, tuple[str, str]] = {}  # SIRENs of the organisations to create
    for p in named:
        key = (name_key(p.values["name"]), p.kind.value)
        spellings.setdefault(key, {})[p.values["name"]] = None
        if p.siren and (p.siren in by_siren or p.siren in new_sirens):
            continue
        ref = stored.get(key)
        if ref is not None and repository.same_organisation(ref, p.siren):
            chosen[key] = ref
            if p.siren and ref.siren is None:
                siren_of[ref.id] = p.siren
                by_siren[p.siren] = ref.id  # the SIREN's organisation from now on
        elif key not in new:
            new[key] = {
                "name": p.values["name"],
                "name_key": key[0],
                "kind": key[1],
                "siren": p.siren,
                "town": p.values.get("town"),
                "country": p.values.get("country"),
            }
            if p.siren:
                new_sirens[p.siren] = key
        elif p.siren and new[key]["siren"] is None:  # known by name first, its SIREN further down
            new[key]["siren"] = p.siren
            new_sirens[p.siren] = key
    created = repository.insert_organisations(session, list(new.values())) if write and new else {}
    if write:
        repository.set_sirens(session, siren_of)
    result: dict[int, int | None] = {}
    for p in named:
        key = (name_key(p.values["name"]), p.kind.value)
        if p.siren and p.siren in by_siren:
            result[p.line] = by_siren[p.siren]
        elif p.siren and p.siren in new_sirens:
            result[p.line] = created.get(new_sirens[p.siren])
        elif key in chosen:
            result[p.line] = chosen[key].id
        else:
            result[p.line] = created.get(key)
    for key, names in spellings.items():
        kept = chosen[key].name if key in chosen else new[key]["name"] if key in new else None
        for spelling in names:
            if kept is not None and spelling != kept:
                ref_id = chosen[key].id if key in chosen else created.get(key)
                merges.append(
                    ImportMerge(name=spelling, merged_into=kept, organisation_id=ref_id, kind=key[1])
                )
    return result, len(new)


def import_projects(
    session: Session,
    actor: Actor,
    projects_path: Path,
    partners_path: Path,
    *,
    fmt: ImportFormat = ImportFormat.ANR,
    strict: bool = False,
) -> ProjectImportReport:
    """Import a projects file and its partners file (CSV or XLSX) as public projects.

    Parameters
    ----------
    fmt
        ``anr`` (the ANR open-data headers) or ``table`` (the generic layout of the README).
    strict
        Write nothing when any row is reported.

    Returns
    -------
    ProjectImportReport
        Per file: rows read, inserted, already stored (unchanged) and reported; every
        reported row (file, line, column, value, reason) and every merged spelling.

    Raises
    ------
    FileFormatError
        A file is missing, unreadable, or lacks a required column: nothing is written.
    """
    policy.require_admin(actor, "importer des projets")
    projects_path, partners_path = Path(projects_path), Path(partners_path)
    anr = fmt is ImportFormat.ANR
    project_rows = read_table(
        projects_path, ANR_PROJECT_COLUMNS if anr else TABLE_PROJECT_COLUMNS, REQUIRED["projects"]
    )
    partner_rows = read_table(
        partners_path, ANR_PARTNER_COLUMNS if anr else TABLE_PARTNER_COLUMNS, REQUIRED["partners"]
    )
    files = _Files(str(projects_path), str(partners_path))
    projects = _read_projects(files, project_rows, fmt)
    referenced = {_text(r.values["project"]) for r in partner_rows if "project" in r.values}
    stored_projects = repository.project_ids_by_code(session, set(projects) | referenced)
    partners = _read_partners(files, partner_rows, fmt, set(projects) | set(stored_projects))
    stored_partners = repository.stored_partner_codes(session, {p.code for p in partners})
    new_projects = {code: p for code, p in projects.items() if code not in stored_projects}
    new_partners = [p for p in partners if p.code not in stored_partners]
    write = not (strict and files.issues)
    merges: list[ImportMerge] = []
    organisation_of, created = _organisations(session, new_partners, merges, write=write)
    if write:
        ids = repository.insert_projects(session, [p.values for p in new_projects.values()])
        stored_projects.update(ids)
        repository.insert_project_details(
            session,
            fundings=[p.funding | {"project_id": ids[code]} for code, p in new_projects.items() if p.funding],
            transitions=[
                {"project_id": ids[code], "status": p.values["status"], "on": p.values.get("start")}
                for code, p in new_projects.items()
            ],
        )
        repository.insert_partners(
            session,
            [
                {
                    "project_id": stored_projects[p.project],
                    "organisation_id": organisation_of.get(p.line),
                    "code": p.code,
                    "coordinator": bool(p.values.get("coordinator", False)),
                    "category": p.values.get("category"),
                    "source_category": p.values.get("source_category"),
                    "town": p.values.get("town"),
                    "country": p.values.get("country"),
                    "budget_eur": p.values.get("budget_eur"),
                }
                for p in new_partners
            ],
        )
    reported = {"projects": 0, "partners": 0}
    for issue in files.issues:
        reported["projects" if issue.file == files.projects_file else "partners"] += 1
    return ProjectImportReport(
        projects=ImportCounts(
            file=files.projects_file,
            read=len(project_rows),
            inserted=len(new_projects),
            unchanged=len(projects) - len(new_projects),
            reported=reported["projects"],
        ),
        partners=ImportCounts(
            file=files.partners_file,
            read=len(partner_rows),
            inserted=len(new_partners),
            unchanged=len(partners) - len(new_partners),
            reported=reported["partners"],
        ),
        organisations_created=created,
        unnamed_partners=sum(1 for p in new_partners if "name" not in p.values),
        committed=write,
        issues=files.issues,
        merges=merges,
    )
