"""The tables funders keep in spreadsheets: a contract's indicators and targets, thresholds.

Both are read through :mod:`grappe.kit.tables` (CSV or XLSX, sniffed, French spreadsheets
welcome). A contract or a set of thresholds is all or nothing: the first refused row refuses
the file, with its line, column, value and reason.

* targets: ``indicator, year, target`` and optionally ``baseline, weight`` (the baseline and
  weight of an indicator are read on its rows and must agree);
* thresholds: ``indicator, green, amber``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grappe.errors import InputError
from grappe.evaluation.indicators import BY_CODE
from grappe.kit.tables import Issue, Row, parse_decimal, read_rows

TARGET_COLUMNS = ("indicator", "year", "target")
TARGET_OPTIONAL = ("baseline", "weight")
THRESHOLD_COLUMNS = ("indicator", "green", "amber")


def _refuse(path: Path, row: Row, column: str, reason: str) -> InputError:
    return InputError(Issue(path, row.line, column, row.values.get(column, ""), reason).message)


def _number(path: Path, row: Row, column: str) -> float:
    try:
        return float(parse_decimal(row.values[column]))
    except (InputError, ValueError):
        raise _refuse(path, row, column, "nombre attendu (ex. : 12 ou 0,75)") from None


def _indicator(path: Path, row: Row) -> str:
    code = row.values["indicator"]
    if code not in BY_CODE:
        raise _refuse(path, row, "indicator", f"indicateur inconnu (attendu l'un de {', '.join(BY_CODE)})")
    return code


def read_targets(path: Path) -> list[dict[str, Any]]:
    """A contract's indicators from a targets table: ``[{indicator, baseline, weight, targets}]``."""
    found: dict[str, dict[str, Any]] = {}
    for row in read_rows(path, TARGET_COLUMNS, TARGET_OPTIONAL):
        code = _indicator(path, row)
        year_text = row.values["year"]
        if not (year_text.isdigit() and 1990 <= int(year_text) <= 2100):
            raise _refuse(path, row, "year", "année attendue entre 1990 et 2100")
        entry = found.setdefault(code, {"indicator": code, "baseline": None, "weight": 1.0, "targets": {}})
        if int(year_text) in entry["targets"]:
            raise _refuse(path, row, "year", f"deuxième cible de « {code} » pour cette année")
        entry["targets"][int(year_text)] = _number(path, row, "target")
        for column, default in (("baseline", None), ("weight", 1.0)):
            if row.values.get(column, ""):
                value = _number(path, row, column)
                if entry.get(f"_{column}_seen") and entry[column] != value:
                    raise _refuse(path, row, column, f"diffère de la valeur lue plus haut pour « {code} »")
                entry[column], entry[f"_{column}_seen"] = value, True
            elif entry[column] is None:
                entry[column] = default
    if not found:
        raise InputError(f"{path.name} : aucune cible (colonnes {', '.join(TARGET_COLUMNS)})")
    return [{k: v for k, v in entry.items() if not k.startswith("_")} for entry in found.values()]


def read_thresholds(path: Path) -> dict[str, tuple[float, float]]:
    """Thresholds that replace the defaults: indicator -> (green, amber)."""
    out: dict[str, tuple[float, float]] = {}
    for row in read_rows(path, THRESHOLD_COLUMNS):
        code = _indicator(path, row)
        if code in out:
            raise _refuse(path, row, "indicator", "indicateur déjà lu plus haut")
        out[code] = (_number(path, row, "green"), _number(path, row, "amber"))
    return out
