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

from grappe.errors import STATUS_TEXT
from grappe.kit.messages import message

#: Where a request value comes from, as FastAPI names it in ``loc``.
PLACES: dict[str, str] = {
    "body": "corps",
    "query": "paramètre",
    "path": "chemin",
    "header": "en-tête",
    "cookie": "cookie",
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
