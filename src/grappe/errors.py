"""The one error root of grappe and its subclasses, each also a builtin error.

Each class carries the HTTP status its errors answer with, read by the API and the web pages alike.
"""

from __future__ import annotations

from typing import ClassVar


class GrappeError(Exception):
    """Root of every error grappe raises on purpose."""

    http_status: ClassVar[int] = 400
    #: The line (from 1) of a list the user gave that the error is about, when the service knows
    #: it (a budget line): a form shows the message on that row.
    line: int | None = None


class InputError(GrappeError, ValueError):
    """A value or a file given by a user is wrong; the message says where and why."""

    http_status: ClassVar[int] = 422


class UnknownCodeError(InputError, KeyError):
    """A code (NAF, commune, territory, size band...) that the reference data does not know."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class FileFormatError(InputError):
    """A file is not what its declared or detected format says."""


class NotFoundError(GrappeError, LookupError):
    """A requested object does not exist."""

    http_status: ClassVar[int] = 404


class PermissionDeniedError(GrappeError, PermissionError):
    """The acting user's role does not allow this operation."""

    http_status: ClassVar[int] = 403


class ConflictError(GrappeError, RuntimeError):
    """A write lost a race (stale version) or breaks a uniqueness rule."""

    http_status: ClassVar[int] = 409


class EngineError(GrappeError, RuntimeError):
    """An analytics engine is missing or failed."""

    http_status: ClassVar[int] = 503


class BusyError(GrappeError, RuntimeError):
    """The database stayed locked by other writers longer than a unit of work may wait."""

    http_status: ClassVar[int] = 503


class MailError(GrappeError, OSError):
    """The mail server refused a message or could not be reached."""

    http_status: ClassVar[int] = 503


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
