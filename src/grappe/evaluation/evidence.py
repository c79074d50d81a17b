"""Evidence files of declared values and self-assessments, stored safely under GRAPPE_HOME.

A file is stored under ``GRAPPE_HOME/evidence/<first two hex digits>/<sha256>`` — a name
derived from its content, never from what the user called it, so no path given by a user
ever reaches the file system — written to a temporary file then renamed (atomic), with
owner-only permissions. Its type is checked by extension *and* by its first bytes; its size
is capped. The name the user gave is kept in the database for display only.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Final

from grappe.config import get_settings
from grappe.errors import InputError, NotFoundError

MAX_BYTES: Final = 10 * 1024 * 1024
"""The largest evidence file accepted (10 Mo)."""

#: Accepted extensions and the first bytes their content must start with (None: text, checked
#: to be UTF-8 without NUL byte).
SIGNATURES: Final[dict[str, tuple[bytes, ...] | None]] = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".xlsx": (b"PK\x03\x04",),
    ".docx": (b"PK\x03\x04",),
    ".odt": (b"PK\x03\x04",),
    ".ods": (b"PK\x03\x04",),
    ".csv": None,
    ".txt": None,
}


@dataclass(frozen=True)
class Evidence:
    """A file sent as evidence: the name its sender gave it and its content."""

    name: str
    content: bytes


def folder() -> Path:
    return get_settings().home / "evidence"


def check(evidence: Evidence) -> str:
    """The display name of a valid evidence file; InputError saying what is wrong otherwise."""
    name = PurePath(evidence.name.replace("\\", "/")).name.strip()
    if not name:
        raise InputError("pièce justificative : nom de fichier vide")
    if len(name) > 200:
        raise InputError(f"pièce justificative « {name[:40]}… » : nom de plus de 200 caractères")
    suffix = PurePath(name).suffix.lower()
    if suffix not in SIGNATURES:
        raise InputError(
            f"pièce justificative « {name} » : type {suffix or '(sans extension)'} refusé "
            f"(acceptés : {', '.join(SIGNATURES)})"
        )
    size = len(evidence.content)
    if size == 0:
        raise InputError(f"pièce justificative « {name} » : fichier vide")
    if size > MAX_BYTES:
        raise InputError(f"pièce justificative « {name} » : {size} octets, au-delà de {MAX_BYTES} (10 Mo)")
    signatures = SIGNATURES[suffix]
    if signatures is None:
        if b"\x00" in evidence.content:
            raise InputError(f"pièce justificative « {name} » : le contenu n'est pas du texte")
        try:
            evidence.content.decode("utf-8")
        except UnicodeDecodeError:
            try:
                evidence.content.decode("cp1252")
            except UnicodeDecodeError:
                raise InputError(f"pièce justificative « {name} » : texte illisible") from None
    elif not evidence.content.startswith(signatures):
        raise InputError(
            f"pièce justificative « {name} » : le contenu ne correspond pas à un fichier {suffix}"
        )
    return name


def store(evidence: Evidence) -> tuple[str, str]:
    """Check and store an evidence file; its (display name, SHA-256)."""
    name = check(evidence)
    digest = hashlib.sha256(evidence.content).hexdigest()
    target = folder() / digest[:2] / digest
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(evidence.content)
            os.chmod(temporary, 0o600)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return name, digest


def read(digest: str) -> bytes:
    """The content of a stored evidence file."""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise NotFoundError("pièce justificative introuvable")
    path = folder() / digest[:2] / digest
    if not path.is_file():
        raise NotFoundError("pièce justificative introuvable")
    return path.read_bytes()
