"""Establishment look-ups for the other domains: by SIRET, by SIREN, open at a date in a scope.

These functions are the way out of the fabric store for establishment rows: they list the
Parquet files through the store's catalogue (under its shared lock, see
:mod:`grappe.fabric.store`) and scan them with one query per shape of look-up, an Ibis
expression that applies :func:`grappe.fabric.query.open_at`, the one rule of "open at a
date", compiled once per process. The values asked (SIRETs, communes, NAF codes, the date)
reach DuckDB as registered tables, never as SQL text. A store that was never created answers
empty tables: reading never creates a store.

One row per SIRET: when several rows describe the same establishment (two snapshots, or a
snapshot and a history), the row kept is the one with the latest ``valid_from``, a snapshot
row (no ``valid_from``: the establishment's whole life) first; ties are broken by the latest
closure (open rows first), then by the source id, so the answer never depends on scan order.

Examples
--------
>>> import datetime as dt
>>> from grappe.fabric import Scope, open_establishments
>>> table = open_establishments(
...     dt.date(2019, 1, 1),
...     territory=Scope("departement", ["67"]),
...     sectors=Scope("division", ["25", "28"]),
...     store="/tmp/grappe-doc-absent-store",
... )
>>> table.num_rows, table.column_names[:3]
(0, ['siret', 'siren', 'nic'])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final, TypeAlias

import pyarrow as pa

from grappe.config import get_settings
from grappe.errors import EngineError, InputError
from grappe.fabric.query import as_date, open_at
from grappe.fabric.schema import arrow_schema
from grappe.fabric.store import FabricStore

StoreRef: TypeAlias = FabricStore | Path | str | None
"""A fabric store, its directory, or None for ``Settings.store_dir``."""

ESTABLISHMENT_FIELDS: Final[pa.Schema] = pa.schema(
    [f for f in arrow_schema("establishments") if f.name != "source"]
)
"""Columns of the tables the look-ups answer (the store's columns but ``source``)."""

DAMAGED: Final = (
    "magasin du tissu productif endommagé : un des fichiers Parquet de son catalogue est "
    "absent ou illisible"
)
"""The one French line for a listed file that cannot be read; the engine's own message names
the server's paths, so it stays in the chained cause."""
_VIEW: Final = "establishments"
_ASKED: Final = "asked_"


@dataclass(frozen=True, init=False)
class Scope:
    """Codes at one level of a nomenclature: territories (COG) or activities (NAF rév. 2).

    Attributes
    ----------
    level
        For a territory: ``commune``, ``epci``, ``ze``, ``departement`` or ``region``; for a
        sector: ``section``, ``division``, ``groupe``, ``classe`` or ``sous-classe``.
    codes
        The codes of that level (NAF codes in any accepted spelling: ``25.62A``, ``2562A``).

    Examples
    --------
    >>> Scope("departement", ["67", "68"])
    Scope(level='departement', codes=('67', '68'))
    """

    level: str
    codes: tuple[str, ...]

    def __init__(self, level: str, codes: Iterable[str]) -> None:
        object.__setattr__(self, "level", level)
        object.__setattr__(self, "codes", tuple(str(c) for c in codes))


Scopes: TypeAlias = Scope | Sequence[Scope] | None
"""One scope, several (their union), or None for no restriction."""


def find_store(store: StoreRef = None) -> FabricStore | None:
    """The fabric store at ``store`` if one was created there, else None (nothing is created).

    Parameters
    ----------
    store
        A store, its directory, or None for ``Settings.store_dir``.
    """
    if isinstance(store, FabricStore):
        return store
    path = Path(store) if store is not None else get_settings().store_dir
    return FabricStore.open(path) if FabricStore.exists(path) else None


def holds_establishments(store: StoreRef = None) -> bool:
    """Whether the store exists and holds at least one imported file of establishments."""
    found = find_store(store)
    return found is not None and bool(found.establishment_files())


def by_siret(sirets: Iterable[str], store: StoreRef = None) -> pa.Table:
    """The establishments with these SIRETs, one row per SIRET found, sorted by SIRET.

    Parameters
    ----------
    sirets
        14-digit SIRETs; those the store does not hold have no row.
    store
        A store, its directory, or None for ``Settings.store_dir``.

    Returns
    -------
    pyarrow.Table
        Columns :data:`ESTABLISHMENT_FIELDS`, whether open or closed: ``active`` and
        ``closed`` say which.

    Raises
    ------
    EngineError
        A file the catalogue lists is missing or damaged.
    """
    return _scan(store, {"siret": _strings(sirets)})


def by_siren(sirens: Iterable[str], store: StoreRef = None) -> pa.Table:
    """Every establishment of these legal units (SIRENs), one row per SIRET, sorted by SIRET.

    Parameters
    ----------
    sirens
        9-digit SIRENs; those the store does not hold have no row.
    store
        A store, its directory, or None for ``Settings.store_dir``.

    Returns
    -------
    pyarrow.Table
        Columns :data:`ESTABLISHMENT_FIELDS`, open and closed establishments alike.

    Raises
    ------
    EngineError
        A file the catalogue lists is missing or damaged.
    """
    return _scan(store, {"siren": _strings(sirens)})


def open_establishments(
    at: dt.date | str,
    territory: Scopes = None,
    sectors: Scopes = None,
    store: StoreRef = None,
) -> pa.Table:
    """The establishments open at a date in a territory and sector scope, one row per SIRET.

    "Open at a date" is :func:`grappe.fabric.query.open_at`; the row kept for a SIRET is
    one of its rows open at that date (see the module notes).

    Parameters
    ----------
    at
        The date: a ``datetime.date`` or a string (``AAAA-MM-JJ`` or ``JJ/MM/AAAA``).
    territory
        Where the establishments are: one scope or several (their union) of a territory
        level; None for everywhere. A commune code is the one the store holds; a code that
        no current territory has matches nothing.
    sectors
        What they do: one scope or several of a NAF level; None for every activity.
    store
        A store, its directory, or None for ``Settings.store_dir``.

    Returns
    -------
    pyarrow.Table
        Columns :data:`ESTABLISHMENT_FIELDS`, sorted by SIRET.

    Raises
    ------
    InputError
        The date cannot be read, a level is unknown, or a NAF code is unknown.
    EngineError
        A file the catalogue lists is missing or damaged.
    """
    asked: dict[str, pa.Array] = {"at": pa.array([as_date(at)], pa.date32())}
    communes = _territory_communes(territory)
    if communes is not None:
        asked["commune"] = _strings(communes)
    naf_codes = _sector_sous_classes(sectors)
    if naf_codes is not None:
        asked["naf"] = _strings(naf_codes)
    return _scan(store, asked)


def _strings(values: Iterable[str]) -> pa.Array:
    return pa.array(sorted(set(values)), pa.string())


def _scopes(scopes: Scopes) -> list[Scope] | None:
    if scopes is None:
        return None
    return [scopes] if isinstance(scopes, Scope) else list(scopes)


def _territory_communes(territory: Scopes) -> list[str] | None:
    """The commune codes a territory scope covers, sorted; None for no restriction."""
    import pyarrow.compute as pc

    from grappe.refdata import territories

    scopes = _scopes(territory)
    if scopes is None:
        return None
    communes: set[str] = set()
    levels: pa.Table | None = None
    for scope in scopes:
        if scope.level not in territories.LEVELS:
            raise InputError(
                f"niveau territorial inconnu : {scope.level!r} "
                f"(attendu : {', '.join(territories.LEVELS)})"
            )
        if scope.level == "commune":
            communes.update(scope.codes)
            continue
        levels = levels if levels is not None else territories.commune_levels()
        inside = pc.is_in(levels[scope.level], value_set=pa.array(scope.codes, pa.string()))
        communes.update(levels.filter(inside)["commune"].to_pylist())
    return sorted(communes)


def _sector_sous_classes(sectors: Scopes) -> list[str] | None:
    """The NAF sous-classes a sector scope covers, sorted; None for no restriction."""
    import pyarrow.compute as pc

    from grappe.refdata import naf

    scopes = _scopes(sectors)
    if scopes is None:
        return None
    table = naf.sous_classes()
    covered: set[str] = set()
    for scope in scopes:
        if scope.level not in naf.LEVELS:
            raise InputError(
                f"niveau NAF inconnu : {scope.level!r} (attendu : {', '.join(naf.LEVELS)})"
            )
        normalised = [naf.normalize(c) for c in scope.codes]
        for raw, code in zip(scope.codes, normalised, strict=True):
            if naf.level(code) != scope.level:
                raise InputError(
                    f"code NAF {raw!r} de niveau {naf.level(code)}, pas {scope.level}"
                )
        codes = pa.array(normalised, pa.string())
        column = table["code" if scope.level == "sous-classe" else scope.level]
        covered.update(table.filter(pc.is_in(column, value_set=codes))["code"].to_pylist())
    return sorted(covered)


def _scan(store: StoreRef, asked: dict[str, pa.Array]) -> pa.Table:
    """The store's establishment rows that match ``asked``, one row per SIRET, sorted.

    ``asked`` maps a filter of :func:`_query` to its values; the values reach the engine as
    registered tables, never as SQL text. A filter with no value (an empty list of SIRETs,
    a scope covering nothing) answers the empty table without opening anything.
    """
    found = find_store(store) if all(len(v) for v in asked.values()) else None
    files = found.establishment_files() if found is not None else []
    if not files:
        return ESTABLISHMENT_FIELDS.empty_table()
    import duckdb

    settings = get_settings()
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": settings.memory_limit
    }
    if settings.threads:
        config["threads"] = settings.threads
    conn = duckdb.connect(config=config)
    try:
        conn.read_parquet([str(f) for f in files]).create_view(_VIEW)
        for name, values in asked.items():
            conn.register(_ASKED + name, pa.table({name: values}))
        table = conn.sql(_query(tuple(sorted(asked)))).to_arrow_table()
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:  # missing, not Parquet
        raise EngineError(DAMAGED) from exc
    finally:
        conn.close()
    return table.cast(ESTABLISHMENT_FIELDS)


@lru_cache(maxsize=8)
def _query(filters: tuple[str, ...]) -> str:
    """The SQL of one shape of look-up, compiled by Ibis once per process.

    ``filters`` names the tables of wanted values it reads (each ``asked_<name>``, one
    column ``<name>``): ``siret``, ``siren``, ``commune`` and ``naf`` keep the rows whose
    column is among the values; ``at`` (one date) keeps the rows open at that date by
    :func:`grappe.fabric.query.open_at`. Then one row per SIRET (the module notes).
    """
    import ibis

    rows = ibis.table(ibis.schema(arrow_schema("establishments")), name=_VIEW)
    for name in filters:
        wanted = ibis.table({name: "date" if name == "at" else "string"}, name=_ASKED + name)
        if name == "at":
            rows = rows.filter(open_at(rows, wanted.at.max().as_scalar()))
        else:
            rows = rows.filter(rows[name].isin(wanted[name]))
    ranked = rows.mutate(
        _rank=ibis.row_number().over(
            group_by=rows.siret,
            order_by=[
                rows.valid_from.desc(nulls_first=True),
                rows.closed.desc(nulls_first=True),
                rows.source.desc(),
            ],
        )
    )
    latest = ranked.filter(ranked._rank == 0).select(*ESTABLISHMENT_FIELDS.names)
    return str(ibis.to_sql(latest.order_by("siret"), dialect="duckdb"))
