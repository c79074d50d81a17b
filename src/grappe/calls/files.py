"""The batch files of a call: reviewers, applications, affinities, conflicts; assignment and selection.

Layouts (CONTRACTS.md, "Batch layouts"): reviewers ``reviewer, load_cap`` (cap optional, else
``--load-cap``); applications ``application`` (for selection also ``score, amount`` in euros,
and optionally ``territory``, ``theme``); affinity ``reviewer, application, affinity`` (an
absent pair counts 0); conflicts ``reviewer, application``. Outputs: assignment
``application, reviewer, affinity``; selection ``application, amount`` (euros).

A refused row is reported with its file, line, column and value; the good rows are kept. Numbers
may use a decimal comma and spaces between thousands (``12 500,50``); amounts are in euros with
at most two decimals (cents).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from grappe.calls.assignment import MAX_AFFINITY, Assignment, ReviewProblem
from grappe.calls.selection import GROUP_COLUMNS, Candidate, Selection
from grappe.kit import export
from grappe.kit.tables import Issue, Row, parse_decimal, read_rows, unique_rows

CENT = Decimal("0.01")
ASSIGNMENT_LABELS = {"application": "Candidature", "reviewer": "Évaluateur", "affinity": "Affinité"}
SELECTION_LABELS = {"application": "Candidature", "amount": "Montant (€)"}


def parse_euros(text: str) -> int:
    """Euros as typed (``12 500,50``) to integer cents.

    Raises
    ------
    ValueError
        Not a number, negative, or more than two decimals; the message is French.
    """
    try:
        value = parse_decimal(text)
    except ValueError:
        raise ValueError("montant en euros attendu (ex. : 12500,50)") from None
    if value < 0:
        raise ValueError("montant négatif")
    if value != value.quantize(CENT):
        raise ValueError("au plus deux décimales (centimes)")
    return int(value * 100)


def read_review(
    reviewers: Path,
    applications: Path,
    affinity: Path,
    conflicts: Path,
    *,
    per_application: int,
    load_cap: int | None,
) -> tuple[ReviewProblem, list[Issue]]:
    """The review problem the four files describe, and the rows they refused.

    Raises
    ------
    InputError
        A file is unreadable or lacks a column.
    """
    reviewer_rows, issues = unique_rows(
        reviewers, read_rows(reviewers, ("reviewer",), ("load_cap",)), "reviewer"
    )
    caps: dict[str, int] = {}
    refused: dict[str, int] = {}
    for row in reviewer_rows:
        text = row.values.get("load_cap", "")
        if not text and load_cap is None:
            reason = "plafond absent : remplissez load_cap ou donnez --load-cap"
        elif text and not text.isdigit():
            reason = "plafond entier positif ou nul attendu"
        else:
            caps[row.values["reviewer"]] = int(text) if text else int(load_cap or 0)
            continue
        issues.append(Issue(reviewers, row.line, "load_cap", text, reason))
        refused[row.values["reviewer"]] = row.line
    app_rows, app_issues = unique_rows(
        applications, read_rows(applications, ("application",)), "application"
    )
    issues += app_issues
    names = tuple(caps)
    apps = tuple(row.values["application"] for row in app_rows)
    known_apps = set(apps)

    def pair(path: Path, row: Row) -> tuple[str, str] | None:
        r, a = row.values["reviewer"], row.values["application"]
        if r in refused:
            issues.append(Issue(path, row.line, "reviewer", r,
                                f"évaluateur écarté ({reviewers.name}, ligne {refused[r]})"))
        elif r not in caps:
            issues.append(
                Issue(path, row.line, "reviewer", r, f"évaluateur inconnu (absent de {reviewers.name})")
            )
        elif a not in known_apps:
            issues.append(Issue(path, row.line, "application", a,
                                f"candidature inconnue (absente de {applications.name})"))
        else:
            return r, a
        return None

    affinities: dict[tuple[str, str], float] = {}
    first: dict[tuple[str, str], int] = {}
    for row in read_rows(affinity, ("reviewer", "application", "affinity")):
        key = pair(affinity, row)
        if key is None:
            continue
        text = row.values["affinity"]
        try:
            value = float(parse_decimal(text))
        except ValueError:
            issues.append(Issue(affinity, row.line, "affinity", text, "nombre attendu (ex. : 0,75)"))
            continue
        if abs(value) > MAX_AFFINITY:
            issues.append(Issue(affinity, row.line, "affinity", text, f"affinité hors de ±{MAX_AFFINITY}"))
            continue
        if key in first:
            issues.append(Issue(affinity, row.line, "application", key[1],
                                f"paire en double (déjà ligne {first[key]})"))
            continue
        first[key] = row.line
        affinities[key] = value
    banned = {key for row in read_rows(conflicts, ("reviewer", "application"))
              if (key := pair(conflicts, row)) is not None}
    problem = ReviewProblem(names, caps, apps, affinities, frozenset(banned), per_application)
    return problem, issues


def read_candidates(applications: Path) -> tuple[list[Candidate], list[Issue]]:
    """The applications to select from, with their quota groups, and the rows refused.

    Raises
    ------
    InputError
        The file is unreadable or lacks a column.
    """
    rows, issues = unique_rows(
        applications,
        read_rows(applications, ("application", "score", "amount"), GROUP_COLUMNS),
        "application",
    )
    candidates = []
    for row in rows:
        score_text, amount_text = row.values["score"], row.values["amount"]
        try:
            score = float(parse_decimal(score_text))
        except ValueError:
            issues.append(Issue(applications, row.line, "score", score_text, "note numérique attendue"))
            continue
        try:
            cents = parse_euros(amount_text)
        except ValueError as exc:
            issues.append(Issue(applications, row.line, "amount", amount_text, str(exc)))
            continue
        if cents == 0:
            issues.append(Issue(applications, row.line, "amount", amount_text, "montant demandé nul"))
            continue
        groups = {c: row.values[c] for c in GROUP_COLUMNS if c in row.values}
        candidates.append(Candidate(row.values["application"], score, cents, groups))
    return candidates, issues


def write_assignment(path: Path, assignment: Assignment) -> None:
    """Write ``application, reviewer, affinity`` as CSV or XLSX (French headers), by the suffix."""
    export.write(path, assignment.rows, columns=("application", "reviewer", "affinity"),
                 labels=ASSIGNMENT_LABELS, sheet="Affectation")


def write_selection(path: Path, selection: Selection) -> None:
    """Write ``application, amount`` (euros, to the cent) as CSV or XLSX, by the suffix."""
    export.write(
        path,
        [(application, (Decimal(cents) / 100).quantize(CENT)) for application, cents in selection.funded],
        columns=("application", "amount"),
        labels=SELECTION_LABELS,
        number_formats={"amount": "#,##0.00"},
        sheet="Sélection",
    )
