"""French error bodies of the API: request validation, HTTP statuses, server paths kept out.

Every error the API answers is ``{"detail": "<one French line>", "error": "<kind>"}``;
validation errors add ``errors``, one entry per problem with its ``loc`` (as FastAPI gives
it: ``["body", "clusters", 0]``), its pydantic ``type`` and a French ``msg``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel

#: Where a request value comes from, as FastAPI names it in ``loc``.
PLACES: dict[str, str] = {
    "body": "corps",
    "query": "paramètre",
    "path": "chemin",
    "header": "en-tête",
    "cookie": "cookie",
}

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

#: French texts of the HTTP errors Starlette and FastAPI raise with an English phrase.
STATUS_TEXT: dict[int, str] = {
    400: "requête mal formée",
    401: "authentification requise : jeton d'API attendu (Authorization: Bearer grp_...)",
    403: "accès refusé",
    404: "adresse inconnue de l'API (voir /docs)",
    405: "méthode HTTP non permise sur cette adresse (voir /docs)",
    406: "format de réponse demandé non disponible",
    413: "corps de la requête trop volumineux",
    415: "type de contenu non pris en charge : JSON ou formulaire attendu",
    429: "trop de requêtes : réessayez dans un instant",
    500: "erreur interne du serveur",
    503: "service momentanément indisponible : réessayez dans un instant",
}

#: What an unexpected failure answers: nothing of the server's internals.
INTERNAL_ERROR = (
    "erreur interne du serveur : l'incident est enregistré dans son journal ; "
    "réessayez ou signalez-le à l'administrateur de la plateforme"
)

# The English details FastAPI and Starlette put in the HTTP errors they raise themselves.
_FRAMEWORK_DETAILS = {"There was an error parsing the body", "Content Too Large", "Not authenticated"}

# Absolute file paths (POSIX, or Windows with a drive letter) of two components or more, not
# part of a URL (``//`` or ``:/`` before them): the last component is kept, the folders go.
_POSIX_PATH = re.compile(r"(?<![\w.:/~-])(?:/[^\s/'\"(),;:<>|*?]+){2,}")
_BREAKS = re.compile(r"\s*[\r\n\t\v\f]+\s*")
_WINDOWS_PATH = re.compile(r"\b[A-Za-z]:\\(?:[^\s\\'\"<>|*?]+\\)+([^\s\\'\"<>|*?]*)")


class ErrorDetail(BaseModel):
    """One problem of an invalid request."""

    loc: list[str | int]
    type: str
    msg: str


class ErrorOut(BaseModel):
    """The body of every error answer."""

    detail: str
    error: str | None = None
    errors: list[ErrorDetail] | None = None


def scrub_paths(text: str) -> str:
    """``text`` without the folders of any absolute file path it quotes (server paths)."""
    text = _POSIX_PATH.sub(lambda m: m.group(0).rsplit("/", 1)[1] or "…", text)
    return _WINDOWS_PATH.sub(lambda m: m.group(1) or "…", text)


def body(detail: str, error: str, **extra: Any) -> dict[str, Any]:
    """An error body: one French line, server paths removed."""
    line = _BREAKS.sub(" ", scrub_paths(detail)).strip()
    return {"detail": line, "error": error, **extra}


def where(loc: Sequence[Any]) -> str:
    """A French reading of a FastAPI ``loc``: ``("body", "clusters", 0)`` -> ``clusters.0 (corps)``."""
    if not loc:
        return "requête"
    place, rest = (PLACES.get(str(loc[0])), list(loc[1:])) if str(loc[0]) in PLACES else (None, list(loc))
    field = ".".join(str(part) for part in rest)
    if place is None:
        return field
    return f"{field} ({place})" if field else place


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


def validation_body(errors: Sequence[Mapping[str, Any]], *, shown: int = 5) -> dict[str, Any]:
    """The body of a 422 answer for pydantic errors: one line naming the first problems."""
    items = [
        {
            "loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
            "type": str(e.get("type")),
            "msg": message(e),
        }
        for e in errors
    ]
    # a JSON syntax error's loc ends with a character position, not a field
    parts = [
        f"{'corps' if item['type'] == 'json_invalid' else where(item['loc'])} : {item['msg']}"
        for item in items[:shown]
    ]
    if len(items) > shown:
        parts.append(f"et {len(items) - shown} autre(s) problème(s)")
    return body("requête invalide — " + " ; ".join(parts), "InputError", errors=items)


def http_detail(status: int, detail: Any, *, max_body: int | None = None) -> str:
    """The French detail of an HTTP error: ours as they are, the framework's translated."""
    if isinstance(detail, str) and detail and detail not in _FRAMEWORK_DETAILS:
        try:
            english = HTTPStatus(status).phrase
        except ValueError:
            english = ""
        if detail != english:
            return detail
    text = STATUS_TEXT.get(status) or ("requête refusée" if status < 500 else "erreur du serveur")
    if status == 413 and max_body is not None:
        text += f" : au plus {max_body:,} octets".replace(",", "\u202f")
    return text
