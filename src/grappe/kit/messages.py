"""French messages of pydantic's refusals: one table for the API, the command line and file readers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_DATE = "date attendue (AAAA-MM-JJ)"
_DATETIME = "date et heure attendues (AAAA-MM-JJTHH:MM:SS)"
_INTEGER = "nombre entier attendu"
_NUMBER = "nombre attendu"
_BOOLEAN = "booléen attendu (true ou false)"
_OBJECT = "objet JSON attendu"
_CHOICE = "valeur attendue parmi : {expected}"

#: French messages of the pydantic error types the API's schemas can raise; ``{name}`` is
#: filled from the error's ``ctx``. A type missing here falls back to ``valeur invalide``.
MESSAGES: dict[str, str] = {
    "missing": "valeur obligatoire absente",
    "extra_forbidden": "champ inconnu",
    "string_type": "texte attendu",
    "string_too_short": "au moins {min_length} caractère(s)",
    "string_too_long": "au plus {max_length} caractères",
    "string_pattern_mismatch": "format invalide",
    "string_unicode": "texte Unicode attendu",
    "int_type": _INTEGER,
    "int_parsing": _INTEGER,
    "int_from_float": "nombre entier attendu (sans partie décimale)",
    "int_parsing_size": "nombre entier trop grand",
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "finite_number": "nombre fini attendu",
    "decimal_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "decimal_max_digits": "au plus {max_digits} chiffres",
    "decimal_max_places": "au plus {decimal_places} décimales",
    "decimal_whole_digits": "au plus {whole_digits} chiffres avant la virgule",
    "greater_than": "doit être supérieur à {gt}",
    "greater_than_equal": "doit être supérieur ou égal à {ge}",
    "less_than": "doit être inférieur à {lt}",
    "less_than_equal": "doit être inférieur ou égal à {le}",
    "multiple_of": "doit être un multiple de {multiple_of}",
    "bool_type": _BOOLEAN,
    "bool_parsing": _BOOLEAN,
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": "date sans heure attendue (AAAA-MM-JJ)",
    "date_past": "date passée attendue",
    "date_future": "date future attendue",
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "timezone_aware": "date et heure avec fuseau horaire attendues",
    "enum": _CHOICE,
    "literal_error": _CHOICE,
    "list_type": "liste attendue",
    "tuple_type": "liste attendue",
    "set_type": "liste attendue",
    "too_short": "au moins {min_length} élément(s)",
    "too_long": "au plus {max_length} éléments",
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "dataclass_type": _OBJECT,
    "json_invalid": "JSON invalide",
    "json_type": "document JSON attendu",
    "bytes_type": "fichier ou octets attendus",
    "url_parsing": "adresse web invalide",
    "url_type": "adresse web invalide",
    "url_scheme": "adresse web invalide (http ou https)",
    "uuid_parsing": "identifiant UUID invalide",
    "none_required": "aucune valeur attendue (null)",
    "union_tag_invalid": "type d'objet inconnu",
    "value_error": "{error}",
    # grappe.registry.bounds raises its refusals already in French: the message is the text
    "bounds": "{message}",
    "assertion_error": "{error}",
}


def message(error: Mapping[str, Any]) -> str:
    """The French message of one pydantic error."""
    kind = str(error.get("type", ""))
    context = {key: str(value) for key, value in (error.get("ctx") or {}).items()}
    if "expected" in context:
        context["expected"] = context["expected"].replace(" or ", " ou ")
    template = MESSAGES.get(kind, "valeur invalide")
    context.setdefault("message", str(error.get("msg", "")))
    try:
        text = template.format(**context)
    except (KeyError, IndexError, ValueError):
        text = template if "{" not in template else "valeur invalide"
    if kind == "json_invalid" and len(error.get("loc", ())) > 1:
        text += f" à la position {error['loc'][-1]}"
    return text
