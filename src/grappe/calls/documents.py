"""Attachments of applications: type and size checked, stored by content hash under ``GRAPPE_HOME``.

A document's bytes are written to ``GRAPPE_HOME/calls/documents/<2 hex>/<sha256>``: the path
comes from the SHA-256 of the content alone, never from a name or path a user gave, so no
upload can reach outside that folder or overwrite another document (equal contents share one
file). The name users gave is kept for display only, reduced to its last component.

The type is checked on the content, not only the name: a PDF starts with ``%PDF-``, the
OpenDocument and Office Open XML formats are ZIP archives, a CSV or text file is UTF-8 text.
A file written before its unit of work rolls back stays on disk, unreferenced and harmless
(the next upload of the same content reuses it).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from grappe.errors import InputError, NotFoundError

MAX_BYTES: Final = 10 * 1024 * 1024
"""The largest attachment accepted (10 Mio)."""

#: Extension -> (media type, the content's first bytes; None for UTF-8 text).
TYPES: Final[dict[str, tuple[str, bytes | None]]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".odt": ("application/vnd.oasis.opendocument.text", b"PK\x03\x04"),
    ".ods": ("application/vnd.oasis.opendocument.spreadsheet", b"PK\x03\x04"),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
    ".csv": ("text/csv", None),
    ".txt": ("text/plain", None),
}


@dataclass(frozen=True)
class StoredDocument:
    """What the database keeps of an attachment."""

    filename: str
    media_type: str
    size_bytes: int
    sha256: str


def folder(home: Path) -> Path:
    """Where attachments live under ``GRAPPE_HOME``."""
    return home / "calls" / "documents"


def display_name(name: str) -> str:
    """The last component of a user's file name, without control characters, at most 200 characters."""
    last = re.split(r"[\\/]", name.strip())[-1]
    clean = "".join(c for c in unicodedata.normalize("NFC", last) if unicodedata.category(c)[0] != "C")
    return clean.strip()[:200]


def check(content: bytes, name: str) -> tuple[str, str]:
    """The display name and media type of an upload, or InputError saying why it is refused."""
    shown = display_name(name)
    if not shown or shown in {".", ".."}:
        raise InputError(f"pièce jointe : nom de fichier {name!r} invalide")
    extension = Path(shown).suffix.lower()
    if extension not in TYPES:
        raise InputError(
            f"pièce jointe « {shown} » : type {extension or '(sans extension)'} refusé ; "
            f"types acceptés : {', '.join(TYPES)}"
        )
    if not content:
        raise InputError(f"pièce jointe « {shown} » : fichier vide")
    if len(content) > MAX_BYTES:
        raise InputError(
            f"pièce jointe « {shown} » : {len(content)} octets, au-delà du maximum "
            f"de {MAX_BYTES} octets (10 Mio)"
        )
    media_type, magic = TYPES[extension]
    if magic is not None and not content.startswith(magic):
        raise InputError(f"pièce jointe « {shown} » : le contenu n'est pas un fichier {extension}")
    if magic is None:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"pièce jointe « {shown} » : le contenu n'est pas du texte UTF-8") from None
    return shown, media_type


def path_of(home: Path, sha256: str) -> Path:
    """The file of a stored document (the hash is checked: it is never a user's string)."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise InputError("empreinte de document invalide")
    return folder(home) / sha256[:2] / sha256


def store(home: Path, content: bytes, name: str) -> StoredDocument:
    """Check an upload and write its bytes under ``home`` (atomically; once per content)."""
    shown, media_type = check(content, name)
    digest = hashlib.sha256(content).hexdigest()
    target = path_of(home, digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{digest}.part")
        partial.write_bytes(content)
        partial.replace(target)
    return StoredDocument(shown, media_type, len(content), digest)


def load(home: Path, sha256: str) -> bytes:
    """The bytes of a stored document, checked against their hash."""
    try:
        content = path_of(home, sha256).read_bytes()
    except FileNotFoundError:
        raise NotFoundError(
            "document absent du dossier des pièces jointes (GRAPPE_HOME/calls/documents) : "
            "restaurez-le depuis une sauvegarde"
        ) from None
    if hashlib.sha256(content).hexdigest() != sha256:
        raise InputError("document altéré sur le disque : son empreinte ne correspond plus")
    return content
