"""Aggregation of hand-built fabrics to Counts: known answers at every level, dates, sizes."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from grappe.detection.aggregate import aggregate, cohort_survival
from grappe.detection.counts import SECTOR_LEVELS, Counts, EstablishmentCounts
from grappe.detection.sector_groups import SectorGroup
from grappe.errors import FileFormatError, InputError
from grappe.fabric.schema import arrow_schema
from grappe.refdata import sizes, territories

D = dt.date
CLUSES, SCIONZIER, OYONNAX, TOULOUSE, BLAGNAC = "74081", "74264", "01283", "31555", "31069"
ARVE_EPCI, TOULOUSE_EPCI = "200033116", "243100518"
ARVE_ZE, OYONNAX_ZE, TOULOUSE_ZE = "8414", "8425", "7625"
CENTRAL = dict(
    zip(sizes.size_bands()["code"].to_pylist(), sizes.size_bands()["central"].to_pylist(), strict=True)
)
LOW = dict(zip(sizes.size_bands()["code"].to_pylist(), sizes.size_bands()["low"].to_pylist(), strict=True))
HIGH = dict(zip(sizes.size_bands()["code"].to_pylist(), sizes.size_bands()["high"].to_pylist(), strict=True))

_serial = iter(range(10**6))


def establishment(
    naf: str,
    commune: str,
    created: dt.date | None = dt.date(2000, 1, 1),
    size_band: str | None = "01",
    closed: dt.date | None = None,
    active: bool | None = None,
    siret: str | None = None,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
) -> dict[str, Any]:
    """One row of the fabric store schema (a stock row unless valid_from is given)."""
    siret = siret or f"{next(_serial):014d}"
    return {
        "siret": siret,
        "siren": siret[:9],
        "nic": siret[9:],
        "naf": naf,
        "commune": commune,
        "size_band": size_band,
        "created": created,
        "closed": closed,
        "active": (closed is None) if active is None else active,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "x": None,
        "y": None,
        "name": None,
        "source": "test",
    }


def write(path: Path, rows: list[dict[str, Any]], kind: str = "establishments") -> Path:
    schema = arrow_schema(kind)  # type: ignore[arg-type]
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def cells(matrix: Any, counts: Counts) -> dict[tuple[str, str], float]:
    """Non-zero cells of a matrix as {(territory, sector): value}."""
    coo = matrix.tocoo()
    return {
        (str(counts.territories[r]), str(counts.sectors[c])): float(v)
        for r, c, v in zip(coo.row, coo.col, coo.data, strict=True)
    }


@pytest.fixture
def small_fabric(tmp_path: Path) -> Path:
    """Décolletage in the Arve valley, plastics in Oyonnax, aeronautics in Toulouse."""
    rows = [
        establishment("25.62A", CLUSES, size_band="11"),
        establishment("25.62A", CLUSES, size_band="01"),
        establishment("25.62A", SCIONZIER, size_band="32"),
        establishment("25.62B", SCIONZIER, size_band=None),
        establishment("28.41Z", CLUSES, size_band="NN"),
        establishment("22.29A", OYONNAX, size_band="21"),
        establishment("22.29A", OYONNAX, size_band="02"),
        establishment("30.30Z", TOULOUSE, size_band="53"),
        establishment("30.30Z", BLAGNAC, size_band="12"),
        establishment("62.01Z", TOULOUSE, size_band="03"),
    ]
    return write(tmp_path / "fabric.parquet", rows)


@pytest.fixture(scope="session")
def ze_parquet(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Path:
    """Zones d'emploi imported once from INSEE's real table."""
    home = tmp_path_factory.mktemp("ze_home")
    territories.import_ze(real_data / "insee_communes_ze2020_geo2022.xlsx", home=home)
    return territories.ze_path(home)


@pytest.fixture
def with_ze(ze_parquet: Path, grappe_home: Path) -> None:
    target = territories.ze_path(grappe_home)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(ze_parquet, target)


# --------------------------------------------------------------------------------- levels


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (
            "commune",
            {
                (CLUSES, "C"): 3,
                (SCIONZIER, "C"): 2,
                (OYONNAX, "C"): 2,
                (TOULOUSE, "C"): 1,
                (BLAGNAC, "C"): 1,
                (TOULOUSE, "J"): 1,
            },
        ),
        (
            "epci",
            {(ARVE_EPCI, "C"): 5, ("200042935", "C"): 2, (TOULOUSE_EPCI, "C"): 2, (TOULOUSE_EPCI, "J"): 1},
        ),
        ("departement", {("74", "C"): 5, ("01", "C"): 2, ("31", "C"): 2, ("31", "J"): 1}),
        ("region", {("84", "C"): 7, ("76", "C"): 2, ("76", "J"): 1}),
    ],
)
def test_territory_levels(small_fabric: Path, level: str, expected: dict[tuple[str, str], int]) -> None:
    counts = aggregate([small_fabric], level, "section")
    assert cells(counts.establishments, counts) == expected
    assert counts.territory_level == level
    assert list(counts.territories) == sorted({t for t, _ in expected})
    assert list(counts.sectors) == ["C", "J"]


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("section", {"C": 9, "J": 1}),
        ("division", {"25": 4, "28": 1, "22": 2, "30": 2, "62": 1}),
        ("groupe", {"25.6": 4, "28.4": 1, "22.2": 2, "30.3": 2, "62.0": 1}),
        ("classe", {"25.62": 4, "28.41": 1, "22.29": 2, "30.30": 2, "62.01": 1}),
        ("sous-classe", {"25.62A": 3, "25.62B": 1, "28.41Z": 1, "22.29A": 2, "30.30Z": 2, "62.01Z": 1}),
    ],
)
def test_sector_levels(small_fabric: Path, level: str, expected: dict[str, int]) -> None:
    counts = aggregate([small_fabric], "region", level)
    totals = np.asarray(counts.establishments.sum(axis=0)).ravel()
    assert dict(zip(counts.sectors.tolist(), totals.tolist(), strict=True)) == expected
    assert counts.establishments.shape == (2, len(expected))


def test_zones_emploi(small_fabric: Path, with_ze: None) -> None:
    counts = aggregate([small_fabric], "ze", "division")
    assert cells(counts.establishments, counts) == {
        (ARVE_ZE, "25"): 4,
        (ARVE_ZE, "28"): 1,
        (OYONNAX_ZE, "22"): 2,
        (TOULOUSE_ZE, "30"): 2,
        (TOULOUSE_ZE, "62"): 1,
    }


def test_zones_emploi_packaged_without_import(small_fabric: Path, grappe_home: Path) -> None:
    assert not territories.ze_imported()
    counts = aggregate([small_fabric], "ze", "division")
    assert cells(counts.establishments, counts)[(ARVE_ZE, "25")] == 4
    assert cells(counts.establishments, counts)[(TOULOUSE_ZE, "30")] == 2


# --------------------------------------------------------------------------------- sizes


def test_employment_from_size_bands(small_fabric: Path) -> None:
    counts = aggregate([small_fabric], "departement", "division")
    arve = ("74", "25")
    assert cells(counts.employment, counts)[arve] == CENTRAL["11"] + CENTRAL["01"] + CENTRAL["32"]
    assert cells(counts.employment_low, counts)[arve] == LOW["11"] + LOW["01"] + LOW["32"]
    assert cells(counts.employment_high, counts)[arve] == HIGH["11"] + HIGH["01"] + HIGH["32"]
    assert cells(counts.employment_sq, counts)[arve] == (
        CENTRAL["11"] ** 2 + CENTRAL["01"] ** 2 + CENTRAL["32"] ** 2
    )
    # The 25.62B establishment has no size band: counted, with no employment.
    assert cells(counts.establishments, counts)[arve] == 4
    # NN and NULL bands give no employment at all.
    assert ("74", "28") not in cells(counts.employment, counts)
    assert cells(counts.establishments, counts)[("74", "28")] == 1
    # SMEs by band: 250-499 (band 32) and 10 000+ (band 53) are not.
    assert cells(counts.sme_establishments, counts) == {
        ("74", "25"): 3,
        ("74", "28"): 1,
        ("01", "22"): 2,
        ("31", "30"): 1,
        ("31", "62"): 1,
    }
    assert (counts.employment_low > counts.employment).nnz == 0
    assert (counts.employment > counts.employment_high).nnz == 0
    assert counts.from_establishments


# --------------------------------------------------------------------------------- dates


def test_at_date_on_stock_rows(tmp_path: Path) -> None:
    rows = [
        establishment("25.62A", CLUSES, created=D(2010, 1, 1)),
        establishment("25.62A", CLUSES, created=D(2018, 5, 1)),  # after the date
        establishment("25.62A", CLUSES, created=D(2015, 5, 1)),  # created on the date
        establishment("25.62A", CLUSES, created=D(2005, 1, 1), closed=D(2015, 5, 1)),  # closed on it
        establishment("25.62A", CLUSES, created=D(2005, 1, 1), closed=D(2016, 1, 1)),  # closed after
        establishment(
            "25.62A", CLUSES, created=D(2005, 1, 1), closed=None, active=False
        ),  # closed, date unknown
        establishment("25.62A", CLUSES, created=None),  # no creation date: kept
    ]
    path = write(tmp_path / "stock.parquet", rows)
    counts = aggregate([path], "commune", "sous-classe", at=D(2015, 5, 1))
    assert cells(counts.establishments, counts) == {(CLUSES, "25.62A"): 4}
    # Default date: the latest creation date of the data.
    latest = aggregate([path], "commune", "sous-classe")
    assert latest.dynamics is not None
    assert latest.dynamics.end == "2018-05-01"
    assert cells(latest.establishments, latest) == {(CLUSES, "25.62A"): 4}


def test_at_date_on_history_rows(tmp_path: Path) -> None:
    """Periods of one establishment: activity changes, then a closure (period ends inclusive)."""
    siret = "12345678900011"
    common = {"siret": siret, "commune": CLUSES, "created": D(2001, 3, 1)}
    rows = [
        establishment("28.41Z", valid_from=D(2001, 3, 1), valid_to=D(2009, 12, 31), active=True, **common),
        establishment(
            "25.62A",
            valid_from=D(2010, 1, 1),
            valid_to=D(2020, 6, 30),
            active=True,
            closed=D(2020, 7, 1),
            **common,
        ),
        establishment(
            "25.62A", valid_from=D(2020, 7, 1), valid_to=None, active=False, closed=D(2020, 7, 1), **common
        ),
        establishment("22.29A", OYONNAX, created=D(2005, 1, 1)),  # a stock row beside
    ]
    path = write(tmp_path / "history.parquet", rows)

    def at(day: dt.date) -> dict[tuple[str, str], float]:
        counts = aggregate([path], "commune", "sous-classe", at=day)
        return cells(counts.establishments, counts)

    assert at(D(2009, 12, 31)) == {(CLUSES, "28.41Z"): 1, (OYONNAX, "22.29A"): 1}
    assert at(D(2010, 1, 1)) == {(CLUSES, "25.62A"): 1, (OYONNAX, "22.29A"): 1}
    assert at(D(2020, 6, 30)) == {(CLUSES, "25.62A"): 1, (OYONNAX, "22.29A"): 1}
    assert at(D(2020, 7, 1)) == {(OYONNAX, "22.29A"): 1}
    with pytest.raises(InputError, match="aucun établissement actif le 2000-01-01"):
        at(D(2000, 1, 1))
    # The default date is the latest period start.
    counts = aggregate([path], "commune", "sous-classe")
    assert counts.dynamics is not None
    assert counts.dynamics.end == "2020-07-01"


def test_counts_the_rows_the_fabric_rule_calls_open(tmp_path: Path) -> None:
    """The aggregation counts exactly the rows :func:`grappe.fabric.query.open_at` calls open."""
    import itertools

    from grappe.fabric.query import open_at
    from grappe.storage import connect

    dates = [None, D(2010, 1, 1), D(2015, 6, 15), D(2020, 1, 1)]
    rows = [
        establishment("25.62A", CLUSES, created=c, closed=k, active=a, valid_from=f, valid_to=t)
        for c, k, a, f, t in itertools.product(dates, dates, (True, False, None), dates, dates)
    ]
    path = write(tmp_path / "edges.parquet", rows)
    with connect("duckdb") as analytics:
        table = analytics.from_arrow(pa.Table.from_pylist(rows, schema=arrow_schema("establishments")), "e")
        for when in (D(2015, 6, 15), D(2010, 1, 1), D(2020, 1, 1)):
            opened = table.filter(open_at(table, when)).count()
            expected = analytics.to_arrow(opened).column(0)[0].as_py()
            counts = aggregate([path], "commune", "sous-classe", at=when, dynamics=False)
            assert 0 < counts.establishments.sum() == expected < len(rows)


def test_dynamics_window(tmp_path: Path) -> None:
    siret = "22222222200019"
    rows = [
        establishment("25.62A", CLUSES, created=D(2010, 1, 1), size_band="11"),  # stays
        establishment("25.62A", CLUSES, created=D(2022, 3, 1), size_band="02"),  # created
        establishment("25.62A", CLUSES, created=D(2015, 3, 1), closed=D(2022, 9, 1)),  # closed
        establishment("25.62A", CLUSES, created=D(2021, 12, 31), size_band="01"),  # before start
        # A history establishment created in the window, with two active periods: counted once.
        establishment(
            "25.62A",
            CLUSES,
            siret=siret,
            created=D(2022, 2, 1),
            valid_from=D(2022, 2, 1),
            valid_to=D(2022, 5, 31),
            active=True,
        ),
        establishment(
            "25.62A",
            CLUSES,
            siret=siret,
            created=D(2022, 2, 1),
            valid_from=D(2022, 6, 1),
            valid_to=None,
            active=True,
        ),
        establishment("22.29A", OYONNAX, created=D(2000, 1, 1)),
    ]
    path = write(tmp_path / "dyn.parquet", rows)
    counts = aggregate(
        [path], "commune", "sous-classe", at=D(2022, 12, 31), window=(D(2021, 12, 31), D(2022, 12, 31))
    )
    dyn = counts.dynamics
    assert dyn is not None
    assert (dyn.start, dyn.end) == ("2021-12-31", "2022-12-31")
    cell = (CLUSES, "25.62A")
    assert cells(dyn.stock_start, counts)[cell] == 3
    assert cells(dyn.stock_end, counts)[cell] == 4
    assert cells(dyn.created, counts) == {cell: 2}
    assert cells(dyn.closed, counts) == {cell: 1}
    assert cells(dyn.employment_start, counts)[cell] == CENTRAL["11"] + CENTRAL["01"] * 2
    assert cells(dyn.employment_end, counts)[cell] == (CENTRAL["11"] + CENTRAL["02"] + CENTRAL["01"] * 2)
    # Stock flows add up: end = start + created - closed.
    balance = dyn.stock_start + dyn.created - dyn.closed - dyn.stock_end
    assert not balance.toarray().any()
    # The default window is the year before the date.
    default = aggregate([path], "commune", "sous-classe", at=D(2022, 12, 31))
    assert default.dynamics is not None
    assert (default.dynamics.start, default.dynamics.end) == ("2021-12-31", "2022-12-31")
    with pytest.raises(InputError, match="le début doit précéder la fin"):
        aggregate([path], "commune", "sous-classe", window=(D(2022, 1, 1), D(2021, 1, 1)))


def test_cohort_survival(tmp_path: Path) -> None:
    rows = [
        establishment("25.62A", CLUSES, created=D(2015, 2, 1)),  # alive
        establishment("25.62A", CLUSES, created=D(2015, 6, 1), closed=D(2017, 1, 1)),  # dead at 2
        establishment("25.62A", CLUSES, created=D(2015, 6, 1), closed=D(2018, 6, 2)),  # alive at 3 y
        establishment("22.29A", OYONNAX, created=D(2015, 12, 31), closed=D(2016, 1, 1)),
        establishment("22.29A", OYONNAX, created=D(2014, 12, 31)),  # other cohort
        establishment("22.29A", OYONNAX, created=D(2023, 1, 1)),  # the data go to 2023
    ]
    path = write(tmp_path / "cohort.parquet", rows)
    survival = cohort_survival([path], "departement", "division", cohort_year=2015, horizon_years=3)
    assert survival.territories.tolist() == ["01", "74"]
    assert survival.sectors.tolist() == ["22", "25"]
    assert survival.created.toarray().tolist() == [[1, 0], [0, 3]]
    assert survival.surviving.toarray().tolist() == [[0, 0], [0, 2]]
    assert survival.rate.toarray().tolist() == [[0, 0], [0, 2 / 3]]
    assert survival.overall_rate == 0.5
    with pytest.raises(InputError, match=r"s'arrête au 2023-01-01.*cohorte 2015 à 8 ans"):
        cohort_survival([path], "departement", "division", cohort_year=2015, horizon_years=8)


# --------------------------------------------------------------------------------- sector groups


def test_sector_groups_overlap(small_fabric: Path) -> None:
    groups = [
        SectorGroup("decolletage", "Décolletage", ("25.62A", "25.62B")),
        SectorGroup("mecanique", "Mécanique", ("25", "28")),  # overlaps décolletage
        SectorGroup("plasturgie", "Plasturgie", ("22.2",)),
    ]
    counts = aggregate([small_fabric], "departement", groups)
    assert counts.sector_level == "groups"
    assert counts.sectors.tolist() == ["decolletage", "mecanique", "plasturgie"]
    assert cells(counts.establishments, counts) == {
        ("74", "decolletage"): 4,
        ("74", "mecanique"): 5,
        ("01", "plasturgie"): 2,
    }
    # Toulouse has none of these sectors but is part of the economy they are measured
    # against: its row is there, empty, with its own totals.
    assert counts.territories.tolist() == ["01", "31", "74"]
    assert counts.establishments.toarray()[1].tolist() == [0, 0, 0]
    assert counts.totals is not None
    # Whole-economy totals: each establishment once, whatever its groups (74 has 5, not 9).
    assert counts.totals.establishments.tolist() == [2, 3, 5]
    arve = CENTRAL["11"] + CENTRAL["01"] + CENTRAL["32"]  # NULL and NN bands: no employment
    toulouse = CENTRAL["53"] + CENTRAL["12"] + CENTRAL["03"]
    assert counts.totals.employment.tolist() == [CENTRAL["21"] + CENTRAL["02"], toulouse, arve]
    assert counts.totals.employment_low[2] == LOW["11"] + LOW["01"] + LOW["32"]
    assert counts.totals.employment_high[2] == HIGH["11"] + HIGH["01"] + HIGH["32"]
    assert counts.totals.sme_establishments.tolist() == [2, 2, 4]  # bands 32 and 53 are not


TOTALS = ("establishments", "employment", "employment_low", "employment_high", "sme_establishments")
FLOWS = ("stock_start", "stock_end", "created", "closed", "employment_start", "employment_end")


def assert_totals_equal(left: Counts, right: Counts) -> None:
    """The same rows and the same whole-economy totals and flows, exactly."""
    assert left.totals is not None
    assert right.totals is not None
    assert left.territories.tolist() == right.territories.tolist()
    for name in TOTALS:
        assert np.array_equal(getattr(left.totals, name), getattr(right.totals, name)), name
    assert (left.totals.flows is None) == (right.totals.flows is None)
    if left.totals.flows is not None and right.totals.flows is not None:
        for name in FLOWS:
            assert np.array_equal(getattr(left.totals.flows, name), getattr(right.totals.flows, name)), name


def assert_totals_are_row_sums(counts: Counts) -> None:
    """Stock totals are the row sums; flows hold at least the row sums of the flow matrices
    (a sector with flows but no establishment at the date has no column, yet its creations
    and closures are the territory's)."""
    assert counts.totals is not None
    for name in TOTALS:
        rows = np.asarray(getattr(counts, name).sum(axis=1)).ravel()
        assert np.array_equal(getattr(counts.totals, name), rows), name
    if counts.dynamics is not None:
        assert counts.totals.flows is not None
        for name in FLOWS:
            rows = np.asarray(getattr(counts.dynamics, name).sum(axis=1)).ravel()
            assert np.all(getattr(counts.totals.flows, name) >= rows), name


def test_overlapping_and_partial_groups_keep_the_whole_economy_totals(tmp_path: Path) -> None:
    rows = [
        establishment("25.62A", CLUSES, size_band="11", created=D(2021, 6, 1)),
        establishment("25.62A", SCIONZIER, size_band="03"),
        establishment("28.41Z", CLUSES, size_band="21", created=D(2015, 1, 1), closed=D(2021, 3, 1)),
        establishment("22.29A", OYONNAX, size_band="02", created=D(2021, 9, 1)),
        establishment("30.30Z", TOULOUSE, size_band="53"),
        establishment("62.01Z", BLAGNAC, size_band=None, created=D(2021, 12, 1)),
        establishment("47.11F", TOULOUSE, size_band="12"),
    ]
    path = write(tmp_path / "fabric.parquet", rows)
    at = D(2021, 12, 31)
    whole = aggregate([path], "departement", "section", at=at)
    one = [SectorGroup("decolletage", "Décolletage", ("25.62A",))]
    overlapping = [
        *one,
        SectorGroup("mecanique", "Mécanique", ("25", "28")),
        SectorGroup("industrie", "Industrie", ("C",)),
    ]
    for groups in (one, overlapping):
        counts = aggregate([path], "departement", groups, at=at)
        # every territory with activity, with the totals of the full NAF level
        assert_totals_equal(counts, whole)
    assert_totals_are_row_sums(whole)
    assert whole.totals is not None
    assert whole.totals.flows is not None
    # 74: created 25.62A in Cluses, closed 28.41Z; 31: a creation in 62.01Z
    assert whole.territories.tolist() == ["01", "31", "74"]
    assert whole.totals.flows.created.tolist() == [1, 1, 1]
    assert whole.totals.flows.closed.tolist() == [0, 0, 1]


def test_aggregated_tables_carry_the_whole_economy(urssaf_like: Path) -> None:
    groups = [SectorGroup("decolletage", "Décolletage", ("25.62A",))]
    counts = aggregate([urssaf_like], "departement", groups)
    whole = aggregate([urssaf_like], "departement", "classe")
    assert_totals_equal(counts, whole)
    assert_totals_are_row_sums(whole)
    assert counts.totals is not None
    # 74 holds 12 establishments of 25.62A and 3 of 25.62B in 2022
    assert counts.territories.tolist() == ["01", "31", "74"]
    assert counts.totals.establishments.tolist() == [4, 7, 15]
    assert counts.totals.employment.tolist() == [85, 0, 270]
    assert cells(counts.establishments, counts) == {("74", "decolletage"): 12}


_SOUS_CLASSES = ("25.62A", "25.62B", "28.41Z", "22.29A", "30.30Z", "62.01Z", "47.11F", "01.11Z")
_COMMUNES = (CLUSES, SCIONZIER, OYONNAX, TOULOUSE, BLAGNAC)
_BANDS = (*sizes.size_bands()["code"].to_pylist(), None)


@st.composite
def stock_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A few stock rows, at least one still open, with creations and closures around 2020."""
    n = draw(st.integers(1, 25))
    days = st.integers(0, 3 * 365)
    rows = []
    for i in range(n):
        created = D(2018, 1, 1) + dt.timedelta(days=draw(days))
        closed = created + dt.timedelta(days=draw(days)) if i and draw(st.booleans()) else None
        rows.append(
            establishment(
                draw(st.sampled_from(_SOUS_CLASSES)),
                draw(st.sampled_from(_COMMUNES)),
                created=created,
                size_band=draw(st.sampled_from(_BANDS)),
                closed=closed,
            )
        )
    return rows


def expected_totals(
    rows: list[dict[str, Any]], level: str, start: dt.date, end: dt.date
) -> dict[str, dict[str, float]]:
    """Whole-economy totals and flows of stock rows by territory, written plainly."""
    levels = territories.commune_levels()
    parent = dict(zip(levels["commune"].to_pylist(), levels[level].to_pylist(), strict=True))

    def open_at(row: dict[str, Any], day: dt.date) -> bool:
        return bool(row["created"] <= day and (row["closed"] is None or row["closed"] > day))

    out: dict[str, dict[str, float]] = {}
    for row in rows:
        band = row["size_band"] or "NN"
        sums = out.setdefault(parent[row["commune"]], dict.fromkeys(("n", *FLOWS), 0.0))
        sums["n"] += open_at(row, end)
        for day, moment in ((start, "start"), (end, "end")):
            stock, employment = f"stock_{moment}", f"employment_{moment}"
            sums[stock] += open_at(row, day)
            sums[employment] += CENTRAL[band] * open_at(row, day)
        sums["created"] += start < row["created"] <= end
        sums["closed"] += row["closed"] is not None and start < row["closed"] <= end
    return {code: sums for code, sums in out.items() if sums["n"] > 0}


@settings(
    max_examples=12,
    deadline=None,
    # each example runs the engine: shrinking a failure would take minutes
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=stock_rows(),
    territory_level=st.sampled_from(["commune", "epci", "departement", "region"]),
    sector_level=st.sampled_from(SECTOR_LEVELS),
)
def test_totals_of_a_naf_level_are_its_row_sums(
    tmp_path: Path, rows: list[dict[str, Any]], territory_level: str, sector_level: str
) -> None:
    path = write(tmp_path / "fabric.parquet", rows)
    at = D(2021, 1, 1)
    counts = aggregate([path], territory_level, sector_level, at=at)
    assert_totals_are_row_sums(counts)
    assert counts.totals is not None
    assert counts.totals.flows is not None
    expected = expected_totals(rows, territory_level, D(2020, 1, 1), at)
    assert counts.territories.tolist() == sorted(expected)
    assert counts.totals.establishments.tolist() == [expected[t]["n"] for t in counts.territories]
    for name in FLOWS:
        values = getattr(counts.totals.flows, name).tolist()
        assert values == pytest.approx([expected[t][name] for t in counts.territories]), name


def test_sector_group_file(small_fabric: Path, tmp_path: Path) -> None:
    path = tmp_path / "filieres.toml"
    path.write_text('[groups.aero]\nname = "Aéronautique"\nnaf = ["3030Z"]\n', encoding="utf-8")
    counts = aggregate([small_fabric], "region", path)
    assert counts.sector_level == "filieres"
    assert cells(counts.establishments, counts) == {("76", "aero"): 2}


# --------------------------------------------------------------------------------- aggregates


def table_row(level: str, code: str, naf: str, year: int, n: int, employees: float | None) -> dict[str, Any]:
    return {
        "territory_level": level,
        "territory_code": code,
        "naf": naf,
        "year": year,
        "establishments": n,
        "employees": employees,
        "source": "test",
    }


@pytest.fixture
def urssaf_like(tmp_path: Path) -> Path:
    """A URSSAF-like table: communes x APE sous-classes over two years."""
    rows = [
        table_row("commune", CLUSES, "25.62A", 2021, 10, 200.0),
        table_row("commune", CLUSES, "25.62A", 2022, 12, 230.0),
        table_row("commune", SCIONZIER, "25.62B", 2022, 3, 40.0),
        table_row("commune", OYONNAX, "22.29A", 2021, 5, 90.0),
        table_row("commune", OYONNAX, "22.29A", 2022, 4, 85.0),
        table_row("commune", TOULOUSE, "30.30Z", 2022, 7, None),
    ]
    return write(tmp_path / "urssaf.parquet", rows, "aggregates")


def test_aggregates_rolled_up(urssaf_like: Path) -> None:
    counts = aggregate([urssaf_like], "departement", "classe")
    assert not counts.from_establishments
    assert cells(counts.establishments, counts) == {
        ("74", "25.62"): 15,
        ("01", "22.29"): 4,
        ("31", "30.30"): 7,
    }
    assert cells(counts.employment, counts) == {("74", "25.62"): 270, ("01", "22.29"): 85}
    assert (counts.employment_low != counts.employment).nnz == 0
    assert (counts.employment_high != counts.employment).nnz == 0
    assert counts.sme_establishments.nnz == 0
    assert counts.employment_sq.nnz == 0
    dyn = counts.dynamics
    assert dyn is not None
    assert (dyn.start, dyn.end) == ("2021-12-31", "2022-12-31")
    assert cells(dyn.stock_start, counts) == {("74", "25.62"): 10, ("01", "22.29"): 5}
    assert cells(dyn.employment_end, counts) == {("74", "25.62"): 270, ("01", "22.29"): 85}
    assert dyn.created.nnz == 0
    assert dyn.closed.nnz == 0


def test_aggregates_year_and_levels(urssaf_like: Path) -> None:
    older = aggregate([urssaf_like], "region", "section", year=2021)
    assert cells(older.establishments, older) == {("84", "C"): 15}
    assert older.dynamics is None  # no 2020 to compare with
    same = aggregate([urssaf_like], "commune", "sous-classe", year=2021)
    assert cells(same.establishments, same) == {(CLUSES, "25.62A"): 10, (OYONNAX, "22.29A"): 5}
    # A date picks its year; without year nor date, the latest year.
    by_date = aggregate([urssaf_like], "commune", "sous-classe", at=D(2021, 6, 1))
    assert cells(by_date.establishments, by_date) == cells(same.establishments, same)
    latest = aggregate([urssaf_like], "commune", "sous-classe")
    assert cells(latest.establishments, latest)[(CLUSES, "25.62A")] == 12
    with pytest.raises(InputError, match=r"année 2019 : absente des tables agrégées \(années : 2021-2022\)"):
        aggregate([urssaf_like], "region", "section", year=2019)


def test_generic_table_at_departement(tmp_path: Path) -> None:
    rows = [
        table_row("departement", "74", "25.62", 2020, 100, 2500.0),
        table_row("departement", "01", "22.2", 2020, 60, 1200.0),
        table_row("departement", "31", "30", 2020, 40, None),
    ]
    path = write(tmp_path / "generic.parquet", rows, "aggregates")
    region = aggregate([path], "region", "division")
    assert cells(region.establishments, region) == {("84", "25"): 100, ("84", "22"): 60, ("76", "30"): 40}
    assert cells(region.employment, region) == {("84", "25"): 2500, ("84", "22"): 1200}
    same = aggregate([path], "departement", "section")
    assert cells(same.establishments, same) == {("74", "C"): 100, ("01", "C"): 60, ("31", "C"): 40}
    with pytest.raises(InputError, match=r"niveau 'departement' ne donnent pas le niveau 'epci'"):
        aggregate([path], "epci", "division")
    with pytest.raises(InputError, match=r"'groupe' est plus fin que le niveau NAF 'division'"):
        aggregate([path], "region", "groupe")
    groups = [SectorGroup("fine", "Fine", ("25.62A",))]
    with pytest.raises(InputError, match=r"'sous-classe' est plus fin"):
        aggregate([path], "region", groups)


def test_mixed_territory_levels_refused(tmp_path: Path) -> None:
    rows = [
        table_row("commune", CLUSES, "25.62A", 2022, 10, None),
        table_row("departement", "74", "25.62A", 2022, 10, None),
    ]
    path = write(tmp_path / "mixed.parquet", rows, "aggregates")
    with pytest.raises(InputError, match=r"plusieurs niveaux territoriaux \(commune, departement\)"):
        aggregate([path], "region", "section")


def test_source_choice(small_fabric: Path, urssaf_like: Path) -> None:
    both = [small_fabric, urssaf_like]
    assert aggregate(both, "region", "section").from_establishments
    assert not aggregate(both, "region", "section", source="aggregates").from_establishments
    with pytest.raises(InputError, match="aucune ligne d'établissement"):
        aggregate([urssaf_like], "region", "section", source="establishments")


# --------------------------------------------------------------------------------- errors


def test_unknown_levels(small_fabric: Path) -> None:
    with pytest.raises(InputError, match=r"niveau territorial \'canton\' inconnu \(attendu : commune, epci"):
        aggregate([small_fabric], "canton", "section")
    with pytest.raises(InputError, match=r"niveau sectoriel \'branche\' inconnu \(attendu : section"):
        aggregate([small_fabric], "region", "branche")
    with pytest.raises(InputError, match="moteur 'oracle'"):
        aggregate([small_fabric], "region", "section", engine="oracle")


def test_wrong_files(tmp_path: Path) -> None:
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"a": [1]}), other)
    with pytest.raises(FileFormatError, match=r"other.parquet : colonnes du magasin du tissu.*trouvées : a"):
        aggregate([other], "region", "section")
    text = tmp_path / "text.parquet"
    text.write_text("siret;naf\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"text\.parquet : fichier Parquet illisible"):
        aggregate([text], "region", "section")
    with pytest.raises(InputError, match="aucune donnée dans les fichiers donnés"):
        aggregate([], "region", "section")


# --------------------------------------------------------------------------------- real files


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Path:
    """A fabric store with the real SIRENE history of Lyon 4e, Bas-Rhin 2019 and URSSAF Rouen."""
    from grappe.fabric.store import FabricStore

    path = tmp_path_factory.mktemp("real_store") / "store"
    store = FabricStore.open(path)
    store.import_files(
        [
            real_data / "sirene_lyon4e_periodes.parquet",
            real_data / "sirene_bas_rhin_2019_geocoded_latin1.csv",
            real_data / "urssaf_commune_ape_ze2815_rouen.csv",
        ]
    )
    return path


def test_real_store_establishments(real_store: Path) -> None:
    from collections import Counter

    from grappe.fabric import open_establishments
    from grappe.fabric.store import FabricStore

    store = FabricStore.open(real_store)
    day = D(2015, 1, 1)
    expected = dict(Counter(c[:2] for c in open_establishments(day, store=store)["commune"].to_pylist()))
    counts = aggregate(store, "departement", "section", at=day)
    totals = np.asarray(counts.establishments.sum(axis=1)).ravel()
    assert dict(zip(counts.territories.tolist(), totals.tolist(), strict=True)) == expected
    assert set(expected) == {"67", "69"}
    # The store's directory works as well as the store object.
    again = aggregate(real_store, "departement", "section", at=day)
    assert (again.establishments != counts.establishments).nnz == 0


def assert_counts_identical(left: Any, right: Any, where: str = "counts") -> None:
    """Every field of two Counts (matrices, totals, dynamics) equal, recursively."""
    import dataclasses

    import scipy.sparse as sp

    if dataclasses.is_dataclass(left):
        for item in dataclasses.fields(left):
            assert_counts_identical(
                getattr(left, item.name), getattr(right, item.name), f"{where}.{item.name}"
            )
    elif sp.issparse(left):
        assert left.shape == right.shape, where
        assert (sp.csr_array(left) != sp.csr_array(right)).nnz == 0, where
    elif isinstance(left, np.ndarray):
        assert np.array_equal(left, right, equal_nan=left.dtype.kind == "f"), where
    else:
        assert left == right, where


@pytest.mark.parametrize("at", [D(2015, 1, 1), D(2019, 6, 30)])
def test_levels_from_one_pass_are_the_levels_counted_apart(real_store: Path, at: dt.date) -> None:
    """Communes counted once and rolled up give each level's own aggregation, flows included."""
    from grappe.detection.aggregate import aggregate_levels

    levels = ("commune", "epci", "departement", "region")
    together = aggregate_levels(real_store, levels, "division", at=at)
    assert list(together) == list(levels)
    for level in levels:
        assert_counts_identical(together[level], aggregate(real_store, level, "division", at=at), level)
    # A level asked for its establishments only gets the same territories, sectors and counts.
    light = aggregate_levels(real_store, levels, "division", at=at, establishments_only=("commune",))
    full, fine = together["commune"], light["commune"]
    assert isinstance(fine, EstablishmentCounts)
    assert not isinstance(light["epci"], EstablishmentCounts)
    assert fine.territories.tolist() == full.territories.tolist()
    assert fine.sectors.tolist() == full.sectors.tolist()
    assert (fine.establishments != full.establishments).nnz == 0
    assert_counts_identical(light["epci"], together["epci"], "epci")
    with pytest.raises(InputError, match="establishments_only"):
        aggregate_levels(real_store, ("epci",), "division", at=at, establishments_only=("ze",))


def test_levels_from_aggregated_tables_on_one_connection(real_store: Path) -> None:
    """Several levels read from the URSSAF tables one after another on the connection the
    aggregation opened: each is its own aggregation (the connection is released after the last)."""
    from grappe.detection.aggregate import aggregate_levels

    levels = ("commune", "epci", "departement")
    together = aggregate_levels(real_store, levels, "division", source="aggregates")
    assert list(together) == list(levels)
    for level in levels:
        alone = aggregate(real_store, level, "division", source="aggregates")
        assert not alone.from_establishments
        assert_counts_identical(together[level], alone, level)


def test_rolled_up_levels_keep_the_flows_of_communes_without_stock(tmp_path: Path) -> None:
    """A commune whose only establishment closed in the window has no row at commune level,
    but its closure and its stock at the window start count in its département."""
    from grappe.detection.aggregate import aggregate_levels

    rows = [
        establishment("25.62A", CLUSES, created=D(2010, 1, 1)),
        establishment("25.62A", SCIONZIER, created=D(2015, 3, 1), closed=D(2022, 9, 1)),
    ]
    path = write(tmp_path / "closed.parquet", rows)
    both = aggregate_levels([path], ("commune", "departement"), "sous-classe", at=D(2022, 12, 31))
    assert both["commune"].territories.tolist() == [CLUSES]
    dynamics = both["departement"].dynamics
    assert dynamics is not None
    assert cells(dynamics.closed, both["departement"]) == {("74", "25.62A"): 1}
    assert cells(dynamics.stock_start, both["departement"]) == {("74", "25.62A"): 2}
    apart = aggregate([path], "departement", "sous-classe", at=D(2022, 12, 31))
    assert_counts_identical(both["departement"], apart)
    with pytest.raises(InputError, match="au moins un niveau territorial"):
        aggregate_levels([path], (), "sous-classe")


def test_real_store_urssaf(real_store: Path) -> None:
    import duckdb

    from grappe.fabric.store import FabricStore

    files = [str(p) for p in FabricStore.open(real_store).aggregate_files()]
    [(establishments, employees)] = duckdb.sql(
        f"SELECT sum(establishments), sum(employees) FROM read_parquet({files}) WHERE year = 2022"
    ).fetchall()
    counts = aggregate(real_store, "region", "section", source="aggregates")
    assert counts.territories.tolist() == ["28"]  # Normandie
    assert counts.establishments.sum() == establishments
    assert counts.employment.sum() == employees
    assert counts.dynamics is not None
    assert counts.dynamics.end == "2022-12-31"


def test_progress_is_reported(small_fabric: Path) -> None:
    from collections.abc import Iterator
    from contextlib import contextmanager

    steps: list[str] = []

    class Recorder:
        @contextmanager
        def step(self, description: str, total: int | None = None) -> Iterator[Any]:
            steps.append(description)
            yield lambda _n: None

    aggregate([small_fabric], "region", "section", at=D(2020, 1, 1), reporter=Recorder())
    assert steps == ["Agrégation des établissements au 2020-01-01, flux du 2019-01-01 au 2020-01-01 (duckdb)"]


def test_without_dynamics(small_fabric: Path, urssaf_like: Path) -> None:
    full = aggregate([small_fabric], "departement", "division")
    stocks = aggregate([small_fabric], "departement", "division", dynamics=False)
    assert stocks.dynamics is None
    assert full.territories.tolist() == stocks.territories.tolist()
    assert full.sectors.tolist() == stocks.sectors.tolist()
    for name in ("establishments", "employment", "employment_low", "employment_high", "sme_establishments"):
        assert (getattr(full, name) != getattr(stocks, name)).nnz == 0, name
    assert aggregate([urssaf_like], "region", "section", dynamics=False).dynamics is None
