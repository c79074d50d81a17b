"""The same aggregation on DuckDB and on Spark gives identical Counts, bit for bit."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp

from grappe.detection.aggregate import aggregate, cohort_survival
from grappe.detection.counts import Counts
from grappe.detection.sector_groups import SectorGroup
from grappe.fabric.schema import arrow_schema
from grappe.refdata import naf, sizes, territories
from grappe.storage.analytics import spark_session

pytestmark = pytest.mark.spark

MATRICES = (
    "establishments",
    "employment",
    "employment_low",
    "employment_high",
    "sme_establishments",
    "employment_sq",
)
FLOWS = ("stock_start", "stock_end", "created", "closed", "employment_start", "employment_end")
TOTALS = ("establishments", "employment", "employment_low", "employment_high", "sme_establishments")
EPOCH = np.datetime64("1990-01-01")


@pytest.fixture(scope="session")
def spark() -> None:
    """The process-wide Spark session (about 5 s to start), shared by every Spark test."""
    spark_session()


@pytest.fixture(scope="module")
def ze_parquet(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Path:
    home = tmp_path_factory.mktemp("ze_home")
    territories.import_ze(real_data / "insee_communes_ze2020_geo2022.xlsx", home=home)
    return territories.ze_path(home)


@pytest.fixture
def with_ze(ze_parquet: Path, grappe_home: Path) -> None:
    target = territories.ze_path(grappe_home)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(ze_parquet, target)


@pytest.fixture(scope="module")
def fabric(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 4,000 seeded rows: stock rows, history periods, closures, every size band."""
    rng = np.random.default_rng(20240611)
    levels = territories.commune_levels()
    communes = rng.choice(np.asarray(levels["commune"].to_pylist()), size=120, replace=False)
    sous_classes = rng.choice(np.asarray(naf.sous_classes()["code"].to_pylist()), 90, replace=False)
    bands = np.asarray([*sizes.size_bands()["code"].to_pylist(), None], dtype=object)
    n = 3_000
    created = EPOCH + rng.integers(0, 34 * 365, n).astype("timedelta64[D]")
    lifetime = rng.integers(30, 20 * 365, n).astype("timedelta64[D]")
    closed = np.where(rng.random(n) < 0.35, created + lifetime, np.datetime64("NaT", "D"))
    closed = np.where(closed > np.datetime64("2024-06-30"), np.datetime64("NaT", "D"), closed)
    active = np.isnat(closed) & (rng.random(n) > 0.02)  # a few closed at an unknown date
    stock = pa.table(
        {
            "siret": [f"{i:014d}" for i in range(n)],
            "naf": rng.choice(sous_classes, n),
            "commune": rng.choice(communes, n),
            "size_band": rng.choice(bands, n),
            "created": created.astype("datetime64[D]"),
            "closed": closed.astype("datetime64[D]"),
            "active": active,
        }
    )
    # 400 establishments with two periods: a change of activity, sometimes a closure.
    m = 400
    h_created = EPOCH + rng.integers(0, 30 * 365, m).astype("timedelta64[D]")
    change = h_created + rng.integers(1, 10 * 365, m).astype("timedelta64[D]")
    ends = np.where(rng.random(m) < 0.4, change + rng.integers(1, 3 * 365, m), np.datetime64("NaT", "D"))
    ends = ends.astype("datetime64[D]")
    sirets = [f"{n + i:014d}" for i in range(m)]
    first = {
        "siret": sirets,
        "naf": rng.choice(sous_classes, m),
        "commune": rng.choice(communes, m),
        "size_band": rng.choice(bands, m),
        "created": h_created,
        "closed": ends,
        "active": np.ones(m, bool),
        "valid_from": h_created,
        "valid_to": change - np.timedelta64(1, "D"),  # SIRENE period ends are inclusive
    }
    second = {
        **first,
        "naf": rng.choice(sous_classes, m),
        "active": np.ones(m, bool),
        "valid_from": change,
        "valid_to": ends - np.timedelta64(1, "D"),
    }
    third = {
        **first,
        "active": np.zeros(m, bool),
        "valid_from": ends,
        "valid_to": np.full(m, np.datetime64("NaT", "D")),
    }
    has_end = ~np.isnat(ends)
    parts = [
        stock,
        pa.table(first),
        pa.table(second),
        pa.table({k: np.asarray(v)[has_end] for k, v in third.items()}),
    ]
    schema = arrow_schema("establishments")
    tables = []
    for part in parts:
        columns = {}
        for field in schema:
            if field.name in part.column_names:
                columns[field.name] = part[field.name].cast(field.type)
            elif field.name == "source":
                columns[field.name] = pa.array(["synthetic"] * part.num_rows)
            elif field.name in ("siren", "nic"):
                sl = (0, 9) if field.name == "siren" else (9, 14)
                columns[field.name] = pa.compute.utf8_slice_codeunits(part["siret"], *sl)
            else:
                columns[field.name] = pa.nulls(part.num_rows, field.type)
        tables.append(pa.table(columns, schema=schema))
    path = tmp_path_factory.mktemp("engines") / "fabric.parquet"
    pq.write_table(pa.concat_tables(tables), path)
    return path


@pytest.fixture(scope="module")
def table_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A URSSAF-like aggregated table: communes x sous-classes x three years."""
    rng = np.random.default_rng(7)
    communes = rng.choice(np.asarray(territories.commune_levels()["commune"].to_pylist()), 80)
    codes = rng.choice(np.asarray(naf.sous_classes()["code"].to_pylist()), 60)
    n = 2_000
    # Headcounts with decimals (e.g. full-time equivalents): sums must still agree exactly.
    employees = np.round(rng.random(n) * 400, 2)
    table = pa.table(
        {
            "territory_level": ["commune"] * n,
            "territory_code": rng.choice(communes, n),
            "naf": rng.choice(codes, n),
            "year": pa.array(rng.integers(2020, 2023, n), pa.int16()),
            "establishments": rng.integers(1, 30, n),
            "employees": pa.array(np.where(rng.random(n) < 0.1, np.nan, employees), from_pandas=True),
            "source": ["synthetic"] * n,
        }
    )
    path = tmp_path_factory.mktemp("engines") / "table.parquet"
    pq.write_table(table.cast(arrow_schema("aggregates")), path)
    return path


def assert_identical(left: Counts, right: Counts) -> None:
    assert left.territories.tolist() == right.territories.tolist()
    assert left.sectors.tolist() == right.sectors.tolist()
    assert left.from_establishments == right.from_establishments
    pairs = [(getattr(left, m), getattr(right, m), m) for m in MATRICES]
    assert (left.dynamics is None) == (right.dynamics is None)
    if left.dynamics is not None and right.dynamics is not None:
        assert (left.dynamics.start, left.dynamics.end) == (right.dynamics.start, right.dynamics.end)
        pairs += [(getattr(left.dynamics, m), getattr(right.dynamics, m), m) for m in FLOWS]
    for a, b, name in pairs:
        assert_same_matrix(a, b, name)
    # the whole-economy totals of each territory, and their flows, exactly
    assert left.totals is not None
    assert right.totals is not None
    vectors = [(getattr(left.totals, n), getattr(right.totals, n), n) for n in TOTALS]
    assert (left.totals.flows is None) == (right.totals.flows is None)
    if left.totals.flows is not None and right.totals.flows is not None:
        vectors += [(getattr(left.totals.flows, n), getattr(right.totals.flows, n), n) for n in FLOWS]
    for a, b, name in vectors:
        assert np.array_equal(a, b), f"totals {name}"


def assert_same_matrix(a: sp.csr_array, b: sp.csr_array, name: str) -> None:
    assert a.shape == b.shape, name
    assert np.array_equal(a.toarray(), b.toarray()), name  # exact, not approximate


@pytest.mark.parametrize(
    ("territory_level", "sector_level"),
    [
        ("commune", "sous-classe"),
        ("epci", "classe"),
        ("ze", "groupe"),
        ("departement", "division"),
        ("region", "section"),
    ],
)
@pytest.mark.usefixtures("spark", "with_ze")
def test_same_counts_on_both_engines(fabric: Path, territory_level: str, sector_level: str) -> None:
    at = dt.date(2015, 6, 30)
    duck = aggregate([fabric], territory_level, sector_level, at=at, engine="duckdb")
    spark = aggregate([fabric], territory_level, sector_level, at=at, engine="spark")
    assert duck.establishments.sum() > 100  # the data are not trivially empty at this level
    assert duck.dynamics is not None
    assert duck.dynamics.created.sum() > 0
    assert duck.dynamics.closed.sum() > 0
    assert_identical(duck, spark)
    # a NAF level partitions the economy: its totals are the row sums
    assert duck.totals is not None
    for name in TOTALS:
        rows = np.asarray(getattr(duck, name).sum(axis=1)).ravel()
        assert np.array_equal(getattr(duck.totals, name), rows), name


@pytest.mark.usefixtures("spark")
def test_same_groups_tables_and_survival(fabric: Path, table_file: Path) -> None:
    groups = [
        SectorGroup("industrie", "Industrie", ("C",)),
        SectorGroup("services", "Services", ("J", "M", "N")),
        SectorGroup("mixte", "Mixte", ("25", "62", "71.12B")),
    ]
    duck_groups = aggregate([fabric], "region", groups, engine="duckdb")
    assert_identical(duck_groups, aggregate([fabric], "region", groups, engine="spark"))
    # overlapping groups covering part of the economy: totals are still the whole economy's
    assert duck_groups.totals is not None
    whole = aggregate([fabric], "region", "section", engine="duckdb", dynamics=False)
    assert whole.totals is not None
    assert duck_groups.territories.tolist() == whole.territories.tolist()
    assert np.array_equal(duck_groups.totals.employment_high, whole.totals.employment_high)
    row_sums = np.asarray(duck_groups.establishments.sum(axis=1)).ravel()
    assert (row_sums != duck_groups.totals.establishments).any()
    assert_identical(
        aggregate([table_file], "departement", "division", engine="duckdb"),
        aggregate([table_file], "departement", "division", engine="spark"),
    )
    small_groups = [SectorGroup("metal", "Métal", ("24", "25")), SectorGroup("fin", "Fin", ("25.62A",))]
    assert_identical(
        aggregate([table_file], "departement", small_groups, engine="duckdb"),
        aggregate([table_file], "departement", small_groups, engine="spark"),
    )
    duck = cohort_survival([fabric], "region", "section", 2005, 5, engine="duckdb")
    spark = cohort_survival([fabric], "region", "section", 2005, 5, engine="spark")
    assert duck.created.sum() > 50
    assert 0 < duck.overall_rate < 1
    assert duck.territories.tolist() == spark.territories.tolist()
    assert duck.sectors.tolist() == spark.sectors.tolist()
    assert_same_matrix(duck.created, spark.created, "created")
    assert_same_matrix(duck.surviving, spark.surviving, "surviving")
