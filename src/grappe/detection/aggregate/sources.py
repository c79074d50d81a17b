"""What the aggregation reads: the store or its files, the engine connection, the checked levels."""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from grappe.detection.counts import SECTOR_LEVELS, TERRITORY_LEVELS
from grappe.detection.sector_groups import CLUSTER_LEVEL, SectorGroup, cluster_groups
from grappe.detection.sector_groups import load as load_sector_groups
from grappe.errors import FileFormatError, InputError
from grappe.storage.analytics import Analytics, connect

Source = Literal["auto", "establishments", "aggregates"]
SectorSpec = str | Path | Sequence[SectorGroup]
_ESTABLISHMENT_MARK = "siret"
_AGGREGATE_MARK = "territory_level"
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@runtime_checkable
class FabricSource(Protocol):
    """What the aggregation reads from a fabric store (``grappe.fabric.store.FabricStore``)."""

    def establishment_files(self) -> list[Path]:
        """Parquet files of establishment rows."""
        ...

    def aggregate_files(self) -> list[Path]:
        """Parquet files of aggregated counts (URSSAF, generic tables)."""
        ...


StoreOrFiles = FabricSource | Path | str | Sequence[Path | str]


def _check_territory_level(level: str) -> None:
    if level not in TERRITORY_LEVELS:
        raise InputError(f"niveau territorial {level!r} inconnu (attendu : {', '.join(TERRITORY_LEVELS)})")


def _sector_spec(spec: SectorSpec) -> tuple[str, list[SectorGroup] | None]:
    """The sector level's name and, for sector groups, the groups.

    ``"clusters"`` is the level of the packaged cluster categories: groups of traded
    sous-classes (``grappe.refdata.clusters``); the local sous-classes are in no group and
    count in the territories' totals only.
    """
    if spec == CLUSTER_LEVEL:
        return CLUSTER_LEVEL, cluster_groups()
    if isinstance(spec, str) and not spec.lower().endswith(".toml"):
        if spec not in SECTOR_LEVELS:
            raise InputError(
                f"niveau sectoriel {spec!r} inconnu (attendu : {', '.join(SECTOR_LEVELS)}, "
                f"{CLUSTER_LEVEL} ou un fichier de groupes de secteurs .toml)"
            )
        return spec, None
    if isinstance(spec, str | Path):
        path = Path(spec)
        return path.stem, load_sector_groups(path)
    groups = list(spec)
    if not groups or not all(isinstance(g, SectorGroup) for g in groups):
        raise InputError("groupes de secteurs : une liste non vide de SectorGroup est attendue")
    codes = [g.code for g in groups]
    if len(set(codes)) != len(codes):
        raise InputError(f"groupes de secteurs : codes de groupe en double dans {codes}")
    return "groups", groups


def _resolve_files(store_or_files: StoreOrFiles) -> tuple[list[Path], list[Path]]:
    """Establishment files and aggregate files of a store, a store directory or file list."""
    if isinstance(store_or_files, FabricSource):
        return list(store_or_files.establishment_files()), list(store_or_files.aggregate_files())
    if isinstance(store_or_files, str | Path) and Path(store_or_files).is_dir():
        from grappe.fabric.store import FabricStore

        store = FabricStore.open(Path(store_or_files))
        return list(store.establishment_files()), list(store.aggregate_files())
    files = (
        [Path(store_or_files)]
        if isinstance(store_or_files, str | Path)
        else [Path(f) for f in store_or_files]
    )
    establishments: list[Path] = []
    aggregates: list[Path] = []
    for path in files:
        try:
            names = set(pq.read_schema(path).names)
        except (OSError, pa.ArrowInvalid) as exc:
            raise FileFormatError(f"{path} : fichier Parquet illisible ({exc})") from exc
        if _ESTABLISHMENT_MARK in names:
            establishments.append(path)
        elif _AGGREGATE_MARK in names:
            aggregates.append(path)
        else:
            raise FileFormatError(
                f"{path} : colonnes du magasin du tissu attendues (siret, naf, commune, ... ou "
                f"territory_level, territory_code, naf, year, ...) ; trouvées : {', '.join(sorted(names))}"
            )
    return establishments, aggregates


def _pick_source(
    source: Source, establishments: list[Path], aggregates: list[Path], where: object
) -> Literal["establishments", "aggregates"]:
    if source not in ("auto", "establishments", "aggregates"):
        raise InputError(f"source {source!r} inconnue (attendu : auto, establishments ou aggregates)")
    if source == "establishments" or (source == "auto" and establishments):
        if not establishments:
            raise InputError(f"aucune ligne d'établissement dans {_describe(where)}")
        return "establishments"
    if not aggregates:
        raise InputError(
            f"aucune donnée dans {_describe(where)} : importez d'abord des établissements ou des tables "
            "agrégées (grappe fabric import)"
        )
    return "aggregates"


def _describe(where: object) -> str:
    path = getattr(where, "path", None)
    if path is not None:
        return f"le magasin du tissu {path}"
    if isinstance(where, str | Path):
        return str(where)
    return "les fichiers donnés"


_OWNED: weakref.WeakSet[Analytics] = weakref.WeakSet()


@contextmanager
def _analytics(engine: str | Analytics | None) -> Iterator[Analytics]:
    if isinstance(engine, Analytics):
        yield engine
        return
    analytics = connect(engine)
    _OWNED.add(analytics)
    try:
        yield analytics
    finally:
        analytics.close()


def _release(analytics: Analytics) -> None:
    """Close a connection opened here once its last result is in: DuckDB then frees its
    buffers before the NumPy assembly (an engine given by the caller stays open)."""
    if analytics in _OWNED:
        analytics.close()


def _column(table: pa.Table, name: str) -> IntArray:
    """An integer (or boolean) engine column as numpy, in its own type (no copy if it can)."""
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False))


def _column_list(table: pa.Table, name: str) -> list[int]:
    return [int(v) for v in table.column(name).to_pylist() if v is not None]

