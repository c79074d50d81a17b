"""`grappe calls` commands: the batch reviewer assignment and selection of a call for projects."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from grappe.cli._batch import (
    OutOption,
    StrictOption,
    decimal_fr,
    gain,
    input_option,
    nothing_left,
    percent,
    report_issues,
    require_solvers,
    say,
    warn,
)
from grappe.cli._console import handle_errors, number
from grappe.errors import InputError

app = typer.Typer(
    help="Appels à projets : affectation des évaluateurs et sélection dans le budget, par solveur exact.",
    epilog="Exemple : grappe calls select --applications candidatures.csv --budget 2000000 "
    "--out selection.csv",
    no_args_is_help=True,
)


@app.command(
    "assign",
    epilog="Exemple : grappe calls assign --reviewers evaluateurs.csv --applications candidatures.csv "
    "--affinity affinites.csv --conflicts conflits.csv --per-application 3 --load-cap 12 "
    "--out affectation.csv",
)
def assign_command(
    reviewers: Annotated[Path, input_option(
        "--reviewers", "Évaluateurs en CSV ou XLSX : colonnes reviewer, load_cap (facultative)."
    )],
    applications: Annotated[Path, input_option(
        "--applications", "Candidatures en CSV ou XLSX : colonne application."
    )],
    affinity: Annotated[Path, input_option(
        "--affinity", "Affinités : colonnes reviewer, application, affinity (paire absente : 0)."
    )],
    conflicts: Annotated[Path, input_option(
        "--conflicts", "Conflits d'intérêts : colonnes reviewer, application."
    )],
    per_application: Annotated[int, typer.Option(
        "--per-application", min=1, help="Évaluateurs distincts par candidature (ex. : 3)."
    )],
    out: OutOption,
    load_cap: Annotated[int | None, typer.Option(
        "--load-cap", min=0, help="Plafond de candidatures par évaluateur quand load_cap est vide (ex. : 12)."
    )] = None,
    strict: StrictOption = False,
) -> None:
    """Affecter les évaluateurs : affinité totale maximale, exactement (flot de coût minimal).

    Chaque candidature reçoit exactement --per-application évaluateurs distincts, aucun en
    conflit, aucun plafond dépassé. Si c'est impossible, la contrainte en cause est nommée.
    L'affectation exacte est comparée à l'affectation gloutonne.
    """
    with handle_errors():
        require_solvers("calls assign")
        from grappe.calls.assignment import greedy_assignment, optimal_assignment
        from grappe.calls.files import read_review, write_assignment

        problem, issues = read_review(
            reviewers, applications, affinity, conflicts,
            per_application=per_application, load_cap=load_cap,
        )
        report_issues(issues, strict)
        if not problem.reviewers:
            raise nothing_left(reviewers, "aucun évaluateur valable")
        if not problem.applications:
            raise nothing_left(applications, "aucune candidature valable")
        exact = optimal_assignment(problem)
        greedy = greedy_assignment(problem)
        write_assignment(out, exact)
    missing = f", {number(greedy.missing)} évaluation(s) manquante(s)" if greedy.missing else ""
    say(f"Affectation écrite : {out} — {number(len(exact.rows))} évaluations, "
        f"{number(len(problem.applications))} candidatures, "
        f"{number(len(problem.reviewers))} évaluateurs")
    say(f"Affinité totale : {decimal_fr(exact.total, 3)} — optimum exact ; glouton : "
        f"{decimal_fr(greedy.total, 3)} ({gain(exact.total, greedy.total)}{missing})")
    say(f"Durée du solveur : {exact.seconds:.2f} s".replace(".", ","))


@app.command(
    "select",
    epilog="Exemple : grappe calls select --applications candidatures.csv --budget 2000000 "
    "--min-score 12 --partial --out selection.csv",
)
def select_command(
    applications: Annotated[Path, input_option(
        "--applications",
        "Candidatures en CSV ou XLSX : colonnes application, score, amount (euros) ; territory et "
        "theme facultatives (quotas).",
    )],
    budget: Annotated[
        str, typer.Option("--budget", help="Budget en euros (ex. : 2000000 ou « 2 000 000,50 »).")
    ],
    out: OutOption,
    min_score: Annotated[float | None, typer.Option(
        "--min-score", help="Note minimale : en dessous, une candidature n'est pas éligible (ex. : 12)."
    )] = None,
    partial: Annotated[bool, typer.Option(
        "--partial", help="Autoriser le financement partiel d'un dernier projet ; sa note compte au "
        "prorata du montant accordé.",
    )] = False,
    max_share: Annotated[float | None, typer.Option(
        "--max-share", min=0.0, max=1.0,
        help="Quota : part du budget au plus par territoire et par thème (colonnes territory, theme ; "
        "ex. : 0.4).",
    )] = None,
    strict: StrictOption = False,
) -> None:
    """Sélectionner les candidatures : note totale financée maximale dans le budget, optimum prouvé.

    Montants en centimes entiers, programme en nombres entiers résolu par HiGHS jusqu'à un écart
    nul. La sélection exacte est comparée à l'ordre glouton (par note décroissante).
    """
    with handle_errors():
        from grappe.calls.files import parse_euros, read_candidates, write_selection
        from grappe.calls.selection import SelectionProblem, greedy_selection, optimal_selection

        try:
            cents = parse_euros(budget)
        except ValueError as exc:
            raise InputError(f"--budget {budget!r} : {exc}") from None
        candidates, issues = read_candidates(applications)
        report_issues(issues, strict)
        if not candidates:
            raise nothing_left(applications, "aucune candidature valable")
        problem = SelectionProblem(tuple(candidates), cents, min_score, partial, max_share)
        exact = optimal_selection(problem)
        greedy = greedy_selection(problem)
        write_selection(out, exact)
    if not exact.funded:
        warn("Sélection vide : aucune candidature éligible ne tient dans le budget "
             "(le fichier ne contient que l'en-tête)")
    requested = {c.application: c.amount for c in candidates}
    partial_rows = [(a, c) for a, c in exact.funded if c < requested[a]]
    say(
        f"Sélection écrite : {out} — {number(len(exact.funded))} candidatures financées sur "
        f"{number(len(problem.eligible()))} éligibles, {decimal_fr(exact.spent / 100)} € sur "
        f"{decimal_fr(cents / 100)} €"
        + "".join(f" ; {a} financée en partie ({decimal_fr(c / 100)} € sur "
                  f"{decimal_fr(requested[a] / 100)} €)" for a, c in partial_rows)
    )
    proof = "optimum prouvé" if exact.optimal else f"écart prouvé {percent(exact.gap or 0)}"
    say(f"Note totale : {decimal_fr(exact.score)} — {proof} ; glouton : "
        f"{decimal_fr(greedy.score)} ({gain(exact.score, greedy.score)})")
    say(f"Durée du solveur : {exact.seconds:.2f} s".replace(".", ","))


def _stored_groups() -> None:
    """The stored calls' command groups (calls, applications, review, selection)."""
    from grappe.cli import calls_records as records

    app.add_typer(records.calls_app, name="call")
    app.add_typer(records.applications_app, name="application")
    app.add_typer(records.reviewers_app, name="reviewer")
    app.add_typer(records.reviews_app, name="review")
    app.add_typer(records.selection_app, name="selection")


_stored_groups()
