"""Fee schedules in files: JSON or TOML (for programs), XLSX (for people), and an example of each.

JSON and TOML hold the fields of :class:`FeeScheduleIn` as the API takes them::

    year = 2025
    due_days = 30
    letterhead = "Mécanique Rhône\\n12 rue de la Forge\\n69100 Villeurbanne"
    [[rules]]
    membership_type = "adherent"
    size_category = "TPE"
    amount_eur = 150

A workbook has two sheets (headers matched without case or accents):

* ``Paramètres``: columns ``paramètre`` and ``valeur``, one row per :data:`PARAMETERS` name;
* ``Règles``: columns :data:`RULE_COLUMNS`. A row without ``effectif_min`` is a fixed fee; the
  rows of one ``type_adhesion`` and ``taille`` with ``effectif_min`` are the brackets of one
  headcount rule, in the order written (an empty ``taille`` means any size).

A schedule is one document: any bad cell refuses the whole file, every bad cell named (file,
sheet, line, column, value) in French, on one line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from grappe.errors import FileFormatError, InputError
from grappe.kit.messages import message
from grappe.kit.tables import column_key, parse_decimal
from grappe.registry.fees.schemas import Bracket, FeeRuleIn, FeeScheduleIn
from grappe.registry.models import FeeMode, SizeCategory

SUFFIXES: Final = (".json", ".toml", ".xlsx")
PARAMETERS_SHEET: Final = "Paramètres"
RULES_SHEET: Final = "Règles"
PARAMETERS: Final = {
    "annee": "year",
    "plafond_eur": "cap_eur",
    "delai_paiement_jours": "due_days",
    "en_tete": "letterhead",
    "modalites_paiement": "payment_details",
}
"""Parameter names of the workbook (as matched) -> fields of the schedule."""
RULE_COLUMNS: Final = ("type_adhesion", "taille", "effectif_min", "montant_eur")
_RULE_FIELDS: Final = {"type_adhesion": "membership_type", "taille": "size_category"}
_AMOUNT_FIELDS: Final = {"cap_eur", "amount_eur"}

EXAMPLE: Final = FeeScheduleIn(
    year=2025,
    cap_eur=Decimal(5000),
    due_days=30,
    letterhead="Mécanique Rhône\n12 rue de la Forge\n69100 Villeurbanne",
    payment_details="Virement à Mécanique Rhône — IBAN FR76 3000 1007 9412 3456 7890 185",
    rules=[
        FeeRuleIn(membership_type="adherent", size_category=SizeCategory.TPE, amount_eur=Decimal(150)),
        FeeRuleIn(
            membership_type="adherent",
            mode=FeeMode.HEADCOUNT,
            brackets=[
                Bracket(min_headcount=0, amount_eur=Decimal(300)),
                Bracket(min_headcount=50, amount_eur=Decimal(1200)),
                Bracket(min_headcount=250, amount_eur=Decimal(3000)),
            ],
        ),
        FeeRuleIn(membership_type="partenaire", amount_eur=Decimal(0)),
    ],
)
"""The example schedule every template layout holds."""

Where = dict[tuple[Any, ...], str]
"""Where each value of the document was read (a field's loc -> sheet, line and column)."""


def read_schedule(path: Path) -> FeeScheduleIn:
    """The fee schedule of a ``.json``, ``.toml`` or ``.xlsx`` file.

    Raises
    ------
    InputError
        The file is missing, unreadable, or holds a bad value (every one named).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} : fichier introuvable")
    suffix = path.suffix.lower()
    where: Where = {}
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            at = f", ligne {exc.lineno}, colonne {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
            raise FileFormatError(f"{path.name}{at} : JSON illisible") from exc
    elif suffix == ".toml":
        data = _toml(path)
    elif suffix == ".xlsx":
        data, where = _workbook(path)
    else:
        raise _unsupported(path)
    if not isinstance(data, dict):
        raise FileFormatError(f"{path.name} : un objet attendu (year, due_days, rules…)")
    try:
        return FeeScheduleIn.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(path, error, where) for error in exc.errors()]
        raise InputError(f"{path.name} : barème refusé — " + " ; ".join(problems)) from exc


def write_example(path: Path) -> Path:
    """Write :data:`EXAMPLE` to a ``.json``, ``.toml`` or ``.xlsx`` file (the layout to fill)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise _unsupported(path)
    if not path.parent.is_dir():
        raise InputError(f"{path} : dossier {path.parent} introuvable")
    if suffix == ".json":
        path.write_text(EXAMPLE.model_dump_json(indent=2, exclude_none=True) + "\n", encoding="utf-8")
    elif suffix == ".toml":
        path.write_text(_toml_text(EXAMPLE), encoding="utf-8")
    else:
        _write_workbook(path, EXAMPLE)
    return path


# --------------------------------------------------------------------------------------------
# implementation


def _unsupported(path: Path) -> FileFormatError:
    return FileFormatError(
        f"{path.name} : extension {path.suffix or '?'} non prise en charge ({', '.join(SUFFIXES)})"
    )


def _problem(path: Path, error: Mapping[str, Any], where: Where) -> str:
    loc = tuple(error.get("loc", ()))
    place = where.get(loc) or _field_path(loc)
    value = error.get("input")
    shown = "" if isinstance(value, dict | list) or value is None else f" ({value!r})"
    return f"{path.name}, {place}{shown} : {message(error)}"


def _field_path(loc: tuple[Any, ...]) -> str:
    """``("rules", 1, "amount_eur")`` -> ``champ rules[2].amount_eur`` (items counted from 1)."""
    text = "".join(f"[{part + 1}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    return f"champ {text or 'racine'}"


_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def _toml(path: Path) -> Any:
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{path.name} : TOML illisible (UTF-8 attendu)") from exc
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_AT.search(str(exc))
        at = f", ligne {found[1]}, colonne {found[2]}" if found else ", fin du fichier"
        raise FileFormatError(f"{path.name}{at} : syntaxe TOML invalide") from exc


def _cell_value(value: Any, field: str) -> Any:
    """A workbook cell as the schema takes it: amounts typed with a comma or spaces parsed."""
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None
        if field in _AMOUNT_FIELDS:
            try:
                return parse_decimal(value)
            except ValueError:
                return value  # the schema refuses it, with its place
    if isinstance(value, float) and value.is_integer() and field not in _AMOUNT_FIELDS:
        return int(value)
    return value


def _sheet_rows(
    book: Any, path: Path, title: str
) -> tuple[dict[str, int], list[tuple[int, tuple[Any, ...]]]]:
    """A sheet's header (matched name -> column index) and its non-empty rows with their line."""
    sheet = next((ws for ws in book.worksheets if column_key(ws.title) == column_key(title)), None)
    if sheet is None:
        names = ", ".join(ws.title for ws in book.worksheets)
        raise FileFormatError(f"{path.name} : feuille « {title} » absente (feuilles : {names})")
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, ())
    columns = {column_key(name): i for i, name in enumerate(header) if name is not None}
    body = [
        (line, row)
        for line, row in enumerate(rows, start=2)
        if any(v is not None and str(v).strip() for v in row)
    ]
    return columns, body


def _require(path: Path, sheet: str, columns: dict[str, int], names: tuple[str, ...]) -> None:
    missing = [n for n in names if n not in columns]
    if missing:
        raise FileFormatError(
            f"{path.name}, feuille {sheet}, ligne 1 : colonne(s) {', '.join(missing)} manquante(s)"
        )


def _workbook(path: Path) -> tuple[dict[str, Any], Where]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a bad file
        raise FileFormatError(f"{path.name} : classeur XLSX illisible") from exc
    try:
        return _read_book(book, path)
    finally:
        book.close()


def _read_book(book: Any, path: Path) -> tuple[dict[str, Any], Where]:
    data: dict[str, Any] = {}
    where: Where = {}
    bad: list[str] = []
    columns, rows = _sheet_rows(book, path, PARAMETERS_SHEET)
    _require(path, PARAMETERS_SHEET, columns, ("parametre", "valeur"))
    for line, row in rows:
        name = str(row[columns["parametre"]] or "").strip()
        field = PARAMETERS.get(column_key(name))
        place = f"feuille {PARAMETERS_SHEET}, ligne {line}"
        if field is None:
            bad.append(f"{path.name}, {place}, colonne paramètre ({name!r}) : paramètre inconnu, "
                       f"attendu parmi : {', '.join(PARAMETERS)}")
            continue
        cell = row[columns["valeur"]] if columns["valeur"] < len(row) else None
        data[field] = _cell_value(cell, field)
        where[(field,)] = f"{place}, colonne valeur"
    columns, rows = _sheet_rows(book, path, RULES_SHEET)
    _require(path, RULES_SHEET, columns, RULE_COLUMNS)
    rules: list[dict[str, Any]] = []
    by_key: dict[tuple[Any, ...], int] = {}
    for line, row in rows:
        cells = {name: row[i] if i < len(row) else None for name, i in columns.items()}
        at = f"feuille {RULES_SHEET}, ligne {line}, colonne"
        headcount = _cell_value(cells["effectif_min"], "min_headcount")
        amount = _cell_value(cells["montant_eur"], "amount_eur")
        rule = {field: _cell_value(cells[name], field) for name, field in _RULE_FIELDS.items()}
        key = (rule["membership_type"], rule["size_category"], headcount is None)
        if headcount is None or key not in by_key:
            by_key[key] = len(rules)
            index = len(rules)
            rules.append(rule | ({"amount_eur": amount} if headcount is None else
                                 {"mode": FeeMode.HEADCOUNT.value, "brackets": []}))
            for name, field in _RULE_FIELDS.items():
                where[("rules", index, field)] = f"{at} {name}"
            where[("rules", index, "amount_eur")] = f"{at} montant_eur"
        if headcount is not None:
            index = by_key[key]
            brackets = rules[index]["brackets"]
            where[("rules", index, "brackets", len(brackets), "min_headcount")] = f"{at} effectif_min"
            where[("rules", index, "brackets", len(brackets), "amount_eur")] = f"{at} montant_eur"
            brackets.append({"min_headcount": headcount, "amount_eur": amount})
    if bad:
        raise InputError(f"{path.name} : barème refusé — " + " ; ".join(bad))
    data["rules"] = rules
    return data, where


def _toml_text(schedule: FeeScheduleIn) -> str:
    # JSON strings and numbers are valid TOML basic strings and numbers
    def value(v: Any) -> str:
        return str(v) if isinstance(v, int | Decimal) else json.dumps(str(v), ensure_ascii=False)

    head = schedule.model_dump(exclude={"rules"}, exclude_none=True)
    lines = [f"{k} = {value(v)}" for k, v in head.items()]
    for rule in schedule.rules:
        lines += ["", "[[rules]]"]
        fields = rule.model_dump(exclude={"brackets"}, exclude_none=True, mode="json")
        lines += [f"{k} = {value(Decimal(v) if k == 'amount_eur' else v)}" for k, v in fields.items()]
        if rule.brackets:
            items = ", ".join(
                f"{{ min_headcount = {b.min_headcount}, amount_eur = {b.amount_eur} }}" for b in rule.brackets
            )
            lines.append(f"brackets = [{items}]")
    return "\n".join(lines) + "\n"


def _write_workbook(path: Path, schedule: FeeScheduleIn) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    fields = {field: name for name, field in PARAMETERS.items()}
    book = Workbook()
    params = book.active
    assert params is not None  # a new workbook has its sheet
    params.title = PARAMETERS_SHEET
    params.append(["paramètre", "valeur"])
    for field, v in schedule.model_dump(exclude={"rules"}).items():
        params.append([fields[field], None if v is None else (float(v) if isinstance(v, Decimal) else v)])
        if isinstance(v, str) and "\n" in v:
            params.cell(params.max_row, 2).alignment = Alignment(wrap_text=True)
    rules = book.create_sheet(RULES_SHEET)
    rules.append(list(RULE_COLUMNS))
    for rule in schedule.rules:
        size = rule.size_category.value if rule.size_category else None
        if rule.mode is FeeMode.FIXED:
            rules.append([rule.membership_type, size, None, rule.amount_eur])
        for b in rule.brackets:
            rules.append([rule.membership_type, size, b.min_headcount, b.amount_eur])
    for sheet, widths in ((params, (24, 70)), (rules, (18, 10, 14, 14))):
        sheet.freeze_panes = "A2"
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for letter, width in zip("ABCD", widths, strict=False):
            sheet.column_dimensions[letter].width = width
    for row in rules.iter_rows(min_row=2, min_col=4, max_col=4):
        row[0].number_format = "#,##0.00"
    book.save(path)
