"""The one error root of grappe and its subclasses, each also a builtin error."""

from __future__ import annotations


class GrappeError(Exception):
    """Root of every error grappe raises on purpose."""


class InputError(GrappeError, ValueError):
    """A value or a file given by a user is wrong; the message says where and why."""


class UnknownCodeError(InputError, KeyError):
    """A code (NAF, commune, territory, size band...) that the reference data does not know."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class FileFormatError(InputError):
    """A file is not what its declared or detected format says."""


class NotFoundError(GrappeError, LookupError):
    """A requested object does not exist."""


class PermissionDeniedError(GrappeError, PermissionError):
    """The acting user's role does not allow this operation."""


class ConflictError(GrappeError, RuntimeError):
    """A write lost a race (stale version) or breaks a uniqueness rule."""


class EngineError(GrappeError, RuntimeError):
    """An analytics engine is missing or failed."""


class BusyError(GrappeError, RuntimeError):
    """The database stayed locked by other writers longer than a unit of work may wait."""
