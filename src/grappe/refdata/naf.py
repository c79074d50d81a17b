"""NAF rév. 2: the five levels of the French activity nomenclature, codes and labels.

Codes are accepted in the usual spellings (``25.62A``, ``2562A``, ``25.62a``,
`` 25.62 A``) and returned in their canonical form (``25.62A``); see :func:`normalize`.

Examples
--------
>>> from grappe.refdata import naf
>>> naf.normalize("2562a")
'25.62A'
>>> naf.ancestor("25.62A", "section")
'C'
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

from grappe.errors import InputError, UnknownCodeError
from grappe.refdata._files import read_table

LEVELS = ("section", "division", "groupe", "classe", "sous-classe")

# Digits of a division/groupe/classe/sous-classe code, with the dot optional but only
# after the division (as INSEE writes it) and an optional sous-classe letter.
_NUMERIC = re.compile(r"^(\d{2})(?:\.?(\d{1,2}))?([A-Z])?$")
_SECTION = re.compile(r"^[A-Z]$")


@lru_cache(maxsize=1)
def table() -> pa.Table:
    """Every NAF code of the five levels.

    Returns
    -------
    pyarrow.Table
        ``code, level, label, parent`` (parent is null for sections), sections first,
        then divisions, groupes, classes and sous-classes, each sorted by code.
    """
    return read_table("naf")


@lru_cache(maxsize=1)
def _index() -> dict[str, tuple[str, str, str | None]]:
    """code -> (level, label, parent)."""
    rows = table().to_pydict()
    return {
        code: (lvl, lab, par)
        for code, lvl, lab, par in zip(
            rows["code"], rows["level"], rows["label"], rows["parent"], strict=True
        )
    }


def _canonical_spelling(raw: str) -> str | None:
    """The canonical spelling of a code (without checking that it exists), or None."""
    text = "".join(raw.split()).upper()
    if _SECTION.match(text):
        return text
    match = _NUMERIC.match(text)
    if match is None:
        return None
    division, rest, letter = match.groups()
    if rest is None:
        return division if letter is None else None
    if letter is not None and len(rest) != 2:
        return None
    return f"{division}.{rest}{letter or ''}"


def normalize(code: str) -> str:
    """Return the canonical form of a NAF code of any level.

    Parameters
    ----------
    code : str
        A code as users write it: ``25.62A``, ``2562A``, ``25.62a``, `` 25.62 A`` (sous-
        classe), ``25.62``/``2562`` (classe), ``25.6``/``256`` (groupe), ``25`` (division)
        or ``C`` (section).

    Returns
    -------
    str
        The canonical code: ``25.62A``, ``25.62``, ``25.6``, ``25`` or ``C``.

    Raises
    ------
    UnknownCodeError
        When the code is not a NAF rév. 2 code; the message names it and suggests
        close codes.

    Examples
    --------
    >>> normalize(" 25.62 a")
    '25.62A'
    >>> normalize("256")
    '25.6'
    """
    if not isinstance(code, str):
        raise UnknownCodeError(f"code NAF invalide : {code!r} (une chaîne est attendue)")
    canonical = _canonical_spelling(code)
    if canonical is not None and canonical in _index():
        return canonical
    known = list(_index())
    close = difflib.get_close_matches(canonical or code.strip().upper(), known, n=3, cutoff=0.7)
    hint = f" ; vouliez-vous dire {', '.join(close)} ?" if close else ""
    raise UnknownCodeError(f"code NAF inconnu : {code!r} (NAF rév. 2){hint}")


def level(code: str) -> str:
    """The level of a code: one of :data:`LEVELS`."""
    return _index()[normalize(code)][0]


def label(code: str) -> str:
    """The French label of a code of any level."""
    return _index()[normalize(code)][1]


def parent(code: str) -> str | None:
    """The code one level up (None for a section)."""
    return _index()[normalize(code)][2]


def ancestor(code: str, level: str) -> str:
    """The code at ``level`` that contains ``code`` (the code itself at its own level).

    Parameters
    ----------
    code : str
        Any NAF code, in any accepted spelling.
    level : str
        One of :data:`LEVELS`, at or above the level of ``code``.

    Raises
    ------
    InputError
        When ``level`` is not a level name, or is below the level of ``code``.

    Examples
    --------
    >>> ancestor("2562A", "division")
    '25'
    """
    if level not in LEVELS:
        raise InputError(f"niveau NAF inconnu : {level!r} (attendu : {', '.join(LEVELS)})")
    current = normalize(code)
    index = _index()
    own = index[current][0]
    if LEVELS.index(level) > LEVELS.index(own):
        raise InputError(f"le code {current} ({own}) n'a pas d'ancêtre au niveau {level}")
    while index[current][0] != level:
        up = index[current][2]
        if up is None:  # pragma: no cover - the table is checked when it is built
            raise InputError(f"le code {current} n'a pas de parent")
        current = up
    return current


def codes(level: str) -> list[str]:
    """All canonical codes of one level, sorted."""
    if level not in LEVELS:
        raise InputError(f"niveau NAF inconnu : {level!r} (attendu : {', '.join(LEVELS)})")
    t = table()
    return t.filter(pc.equal(t["level"], level))["code"].to_pylist()


@lru_cache(maxsize=1)
def sous_classes() -> pa.Table:
    """The 732 sous-classes with every level above them.

    Returns
    -------
    pyarrow.Table
        ``code, label, section, division, groupe, classe``: the mapping that the
        aggregation joins establishments on.
    """
    index = _index()
    rows = [c for c, (lvl, _, _) in index.items() if lvl == "sous-classe"]
    classe = [ancestor(c, "classe") for c in rows]
    groupe = [ancestor(c, "groupe") for c in rows]
    division = [ancestor(c, "division") for c in rows]
    section = [ancestor(c, "section") for c in rows]
    return pa.table({
        "code": pa.array(rows, pa.string()),
        "label": pa.array([index[c][1] for c in rows], pa.string()),
        "section": pa.array(section, pa.string()),
        "division": pa.array(division, pa.string()),
        "groupe": pa.array(groupe, pa.string()),
        "classe": pa.array(classe, pa.string()),
    })


@lru_cache(maxsize=1)
def accepted_forms() -> pa.Table:
    """Every accepted spelling of a sous-classe and its canonical code.

    Returns
    -------
    pyarrow.Table
        ``raw, code``: for ``25.62A`` the rows ``25.62A``, ``2562A``, ``25.62a`` and
        ``2562a``, all -> ``25.62A``. Join trimmed raw values on ``raw`` to validate and
        normalise a column in DuckDB without a Python loop.
    """
    canonical = sous_classes()["code"]
    compact = pc.replace_substring(canonical, ".", "")
    raws = [canonical, compact, pc.utf8_lower(canonical), pc.utf8_lower(compact)]
    return pa.table({
        "raw": pa.concat_arrays([r.combine_chunks() for r in raws]),
        "code": pa.concat_arrays([canonical.combine_chunks()] * len(raws)),
    })
