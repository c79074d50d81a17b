"""Reference-data checks the registry needs: territory codes, NAF scopes, firm size categories."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from grappe.errors import InputError, UnknownCodeError
from grappe.refdata import naf, sizes, territories

LEVEL_NAMES = {
    "commune": "commune",
    "epci": "EPCI",
    "departement": "département",
    "region": "région",
}


@lru_cache(maxsize=1)
def _levels() -> dict[str, dict[str, str | None]]:
    """commune -> {epci, departement, region} for every current commune."""
    table = territories.commune_levels().select(["commune", "epci", "departement", "region"])
    rows = table.to_pylist()
    return {row["commune"]: row for row in rows}


@lru_cache(maxsize=1)
def _population() -> dict[str, int]:
    table = territories.communes().select(["code", "population"]).to_pylist()
    return {row["code"]: int(row["population"] or 0) for row in table}


@lru_cache(maxsize=4)
def _codes(level: str) -> frozenset[str]:
    table = {
        "epci": territories.epcis,
        "departement": territories.departements,
        "region": territories.regions,
    }[level]()
    return frozenset(str(c) for c in table.column("code").to_pylist())


def preload() -> None:
    """Load the reference tables the checks use now rather than on a first request.

    A server calls it at start-up: loading the COG and NAF tables takes a few hundred
    milliseconds, which the first request of each process would otherwise wait for.
    """
    _levels()
    _population()
    for level in ("epci", "departement", "region"):
        _codes(level)
    sector_and_ancestors("25.62A")


def communes_of(level: str, code: str) -> list[str]:
    """Current communes of a territory (validated code), sorted."""
    if level == "commune":
        return [code]
    return sorted(c for c, row in _levels().items() if row.get(level) == code)


def normalize_territory(level: str, code: str) -> tuple[str, str | None]:
    """Validate a territory; return its canonical code and the région holding most of its people.

    Raises
    ------
    UnknownCodeError
        The code is not a current territory of that level (the message names both).
    """
    if level not in LEVEL_NAMES:
        raise InputError(
            f"niveau de territoire {level!r} inconnu : attendu {', '.join(LEVEL_NAMES)}"
        )
    raw = str(code).strip()
    if level == "commune":
        canonical = territories.normalize_commune(raw)
        return canonical, _levels()[canonical]["region"]
    canonical = raw.upper() if level == "departement" else raw
    if canonical not in _codes(level):
        raise UnknownCodeError(f"{LEVEL_NAMES[level]} {code!r} inconnu(e) du COG")
    if level == "region":
        return canonical, canonical
    weights: Counter[str] = Counter()
    population = _population()
    for commune in communes_of(level, canonical):
        region = _levels()[commune]["region"]
        if region:
            weights[region] += population.get(commune, 0) + 1
    return canonical, (weights.most_common(1)[0][0] if weights else None)


def normalize_sector(code: str) -> tuple[str, str]:
    """Canonical NAF code (any level) and its section; UnknownCodeError when unknown."""
    canonical = naf.normalize(code)
    section = canonical if naf.level(canonical) == "section" else naf.ancestor(canonical, "section")
    return canonical, section


def sector_and_ancestors(code: str) -> list[str]:
    """A canonical NAF code followed by its parents up to the section."""
    chain = [naf.normalize(code)]
    while (parent := naf.parent(chain[-1])) is not None:
        chain.append(parent)
    return chain


def scope_sous_classes(codes: Iterable[str]) -> dict[str, str]:
    """Sous-classes covered by a sector scope -> the level of the scope code that covers them.

    The level is the most precise scope code matching the sous-classe (used as "sector fit").
    """
    table = naf.sous_classes().to_pylist()
    order = ["section", "division", "groupe", "classe", "sous-classe"]
    by_level: dict[str, set[str]] = {}
    for code in codes:
        by_level.setdefault(naf.level(code), set()).add(code)
    covered: dict[str, str] = {}
    for row in table:
        for level in reversed(order):
            key = "code" if level == "sous-classe" else level
            if row[key] in by_level.get(level, ()):
                covered[row["code"]] = level
                break
    return covered


def size_category(
    size_band: str | None, headcount: int | None, turnover_eur: float | None
) -> str | None:
    """The firm category: declared headcount (and turnover) when given, else the SIRENE band."""
    if headcount is not None:
        return sizes.firm_category(headcount, turnover_eur)
    if size_band:
        try:
            return sizes.category_of_band(size_band)
        except (UnknownCodeError, KeyError, ValueError):
            return None
    return None


def check_size_band(band: str | None) -> str | None:
    """A SIRENE headcount band code, validated (NN and empty mean unknown -> None)."""
    if band is None or str(band).strip() in {"", "NN"}:
        return None
    value = str(band).strip().zfill(2)
    known = set(sizes.size_bands().column("code").to_pylist())
    if value not in known:
        raise UnknownCodeError(f"tranche d'effectif {band!r} inconnue : attendu {sorted(known)}")
    return value
