"""What the batch commands (B2B schedule, reviewer assignment, selection) share: options and reports."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from grappe.cli._console import console, err_console
from grappe.errors import EngineError, InputError

if TYPE_CHECKING:
    from grappe.kit.tables import Issue

StrictOption = Annotated[
    bool,
    typer.Option("--strict", help="Tout ou rien : une seule ligne écartée et rien n'est écrit "
                 "(statut de sortie 2)."),
]


def input_option(flag: str, help_text: str) -> typer.models.OptionInfo:
    """A required input table (CSV or XLSX)."""
    return typer.Option(flag, help=help_text, exists=True, dir_okay=False)


OutOption = Annotated[
    Path,
    typer.Option("--out", help="Fichier de sortie, CSV (pour les programmes) ou XLSX (en-têtes "
                 "français), selon l'extension."),
]


def require_solvers(command: str) -> None:
    """Refuse with the extra to install when OR-Tools is absent (a base install)."""
    from grappe.cli import missing_module  # the package is loaded when a command runs

    if missing_module(("ortools",)) is not None:
        raise EngineError(
            f"`grappe {command}` nécessite l'extra solvers (ortools absent) : pip install 'grappe[solvers]'"
        )


def require_search(command: str) -> None:
    """Refuse with the extra to install when the French ranking libraries are absent (a base install)."""
    from grappe.cli import missing_module

    absent = missing_module(("bm25s", "Stemmer"))
    if absent is not None:
        raise EngineError(
            f"`grappe {command}` nécessite l'extra search ({absent} absent) : pip install 'grappe[search]'"
        )


def nothing_left(path: Path, what: str) -> InputError:
    """The error of a run left with nothing to solve once the bad rows are set aside."""
    return InputError(f"{path} : {what} ; rien à calculer")


def say(text: str) -> None:
    """One line of the command's summary on stdout, never wrapped (file paths stay whole)."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def warn(text: str) -> None:
    """One line on stderr, never wrapped."""
    err_console.print(text, markup=False, highlight=False, soft_wrap=True)


def report_issues(issues: Sequence[Issue], strict: bool) -> None:
    """Print each refused row on stderr; with ``strict``, stop with status 2 before any write."""
    for issue in issues:
        warn(f"Ligne écartée — {issue.message}")
    if issues:
        kept = "rien n'est écrit (--strict)" if strict else "les autres lignes sont retenues"
        warn(f"{len(issues)} ligne(s) écartée(s) ; {kept}")
    if strict and issues:
        raise typer.Exit(2)


def decimal_fr(value: float, digits: int = 2) -> str:
    """A number with French separators: narrow no-break space for thousands, decimal comma."""
    return f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


def percent(share: float) -> str:
    """A share (0.0123) as a French percentage (« 1,23 % »)."""
    return f"{decimal_fr(100 * share)}\u00a0%"


def gain(value: float, baseline: float) -> str:
    """How much ``value`` improves on ``baseline``, as a signed French percentage."""
    if baseline == 0:
        return "sans objet (référence nulle)"
    change = (value - baseline) / abs(baseline)
    return ("+" if change >= 0 else "−") + percent(abs(change))
