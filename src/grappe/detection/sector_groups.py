"""User-defined sector groups: named sets of NAF codes, read from and written to TOML."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from grappe.errors import FileFormatError, InputError
from grappe.refdata import clusters, naf

#: The sector level of the packaged cluster categories (``--sectors clusters``).
CLUSTER_LEVEL = clusters.LEVEL


@dataclass(frozen=True)
class SectorGroup:
    """A named set of NAF codes (any level, normalised), e.g. a value chain (filière)."""

    code: str
    name: str
    naf: tuple[str, ...]


def load(path: Path) -> list[SectorGroup]:
    """Read a sector-group file.

    The file holds one table per group::

        [groups.decolletage]
        name = "Décolletage et mécanique de précision"
        naf = ["25.62A", "25.62B", "28.41"]

    Codes may be written ``25.62A``, ``2562A`` or ``25.62a`` and at any NAF level.

    Raises
    ------
    FileFormatError
        The file is not TOML or has no ``[groups.*]`` tables.
    InputError
        A group misses ``naf`` or names an unknown NAF code (the message names the group).
    """
    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FileFormatError(f"{path}: not a readable TOML sector-group file ({exc})") from exc
    groups = document.get("groups")
    if not isinstance(groups, Mapping) or not groups:
        raise FileFormatError(f"{path}: expected [groups.<code>] tables, found none")
    result = []
    for code, body in groups.items():
        if not isinstance(body, Mapping) or not isinstance(body.get("naf"), list) or not body["naf"]:
            raise InputError(f"{path}: group {code!r} needs a non-empty list `naf`")
        try:
            codes = tuple(dict.fromkeys(naf.normalize(str(c)) for c in body["naf"]))
        except InputError as exc:
            raise InputError(f"{path}: group {code!r}: {exc}") from exc
        result.append(SectorGroup(code=str(code), name=str(body.get("name", code)), naf=codes))
    return result


def cluster_groups() -> list[SectorGroup]:
    """The packaged cluster categories as sector groups (their traded sous-classes)."""
    return list(_cluster_groups())


@lru_cache(maxsize=1)
def _cluster_groups() -> tuple[SectorGroup, ...]:
    return tuple(
        SectorGroup(code=code, name=name, naf=codes)
        for code, (name, codes) in clusters.members().items()
    )


def traded_sectors(
    sectors: Sequence[str], groups: Sequence[SectorGroup] | None
) -> npt.NDArray[np.bool_]:
    """Whether each sector is traded: a NAF code when it or one of its sous-classes is
    (:func:`grappe.refdata.clusters.traded`), a group when one of its codes is.

    Parameters
    ----------
    sectors : sequence of str
        The sector codes of a level (NAF codes, or the codes of ``groups``).
    groups : sequence of SectorGroup, optional
        The groups the codes name (None for a NAF level).
    """
    if groups is None:
        return np.array([clusters.traded(code) for code in sectors], dtype=bool)
    by_code = {g.code: any(clusters.traded(c) for c in g.naf) for g in groups}
    return np.array([by_code[code] for code in sectors], dtype=bool)


def dump(groups: Iterable[SectorGroup], path: Path, header: str = "") -> None:
    """Write sector groups to a TOML file that :func:`load` reads back unchanged."""
    lines = [f"# {line}" for line in header.splitlines()]
    for group in groups:
        lines += [
            "",
            f"[groups.{_toml_key(group.code)}]",
            f"name = {_toml_str(group.name)}",
            "naf = [" + ", ".join(_toml_str(c) for c in group.naf) + "]",
        ]
    Path(path).write_text("\n".join(lines).lstrip("\n") + "\n", encoding="utf-8")


def _toml_str(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _toml_key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else _toml_str(key)
