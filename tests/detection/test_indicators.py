"""Indicators: py-ecomplexity agreement, hand-computed formulas, ranges, outputs, errors."""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from ecomplexity import ecomplexity
from typer.testing import CliRunner, Result

from grappe.detection.counts import Counts, Dynamics, Totals
from grappe.detection.indicators import Indicators, Table, indicators, output_format
from grappe.errors import InputError


def make_counts(
    establishments: np.ndarray,
    employment: np.ndarray | None = None,
    low: np.ndarray | None = None,
    high: np.ndarray | None = None,
    employment_sq: np.ndarray | None = None,
    *,
    sme: np.ndarray | None = None,
    dynamics: Dynamics | None = None,
    from_establishments: bool = True,
) -> Counts:
    """Counts from dense arrays; employment defaults to the establishments."""
    est = np.asarray(establishments, dtype=float)
    emp = est if employment is None else np.asarray(employment, dtype=float)
    n_t, n_s = est.shape

    def csr(a: np.ndarray | None, default: np.ndarray) -> sp.csr_array:
        return sp.csr_array(np.asarray(default if a is None else a, dtype=float))

    return Counts(
        territory_level="ze",
        sector_level="division",
        territories=np.array([f"T{i:02d}" for i in range(n_t)]),
        sectors=np.array([f"S{j:02d}" for j in range(n_s)]),
        establishments=csr(est, est),
        employment=csr(emp, emp),
        employment_low=csr(low, emp),
        employment_high=csr(high, emp),
        sme_establishments=csr(sme, est),
        employment_sq=csr(employment_sq, emp**2),
        from_establishments=from_establishments,
        dynamics=dynamics,
    )


def run_ecomplexity(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    """py-ecomplexity on a long frame (territory_code, sector, value); its rca and mcp."""
    data = frame.rename(columns={value: "val"})[["territory_code", "sector", "val"]].copy()
    data["year"] = 2022
    with warnings.catch_warnings():
        # the anchor warns about zero diversity and log-supermodularity; not our concern
        warnings.simplefilter("ignore")
        out = ecomplexity(
            data,
            {"time": "year", "loc": "territory_code", "prod": "sector", "val": "val"},
            verbose=False,
            check_logsupermodularity=False,
        )
    return out[["territory_code", "sector", "val", "rca", "mcp"]]


# --------------------------------------------------------------------------------------------
# anchors


def test_lq_and_rca_match_py_ecomplexity_on_random_counts() -> None:
    rng = np.random.default_rng(7)
    est = rng.poisson(3.0, size=(15, 11)) * (rng.random((15, 11)) < 0.55)
    emp = est * rng.integers(1, 40, size=est.shape)
    result = indicators(make_counts(est, emp))
    frame = result.to_frame()
    for measure, lq_column in (("employment", "lq"), ("establishments", "lq_establishments")):
        anchor = run_ecomplexity(frame, measure)
        merged = frame.merge(anchor, on=["territory_code", "sector"], suffixes=("", "_anchor"))
        assert len(merged) == len(frame) == np.count_nonzero(est)
        np.testing.assert_allclose(merged[lq_column], merged["rca_anchor"], rtol=1e-9, atol=1e-12)
        if measure == "employment":
            np.testing.assert_allclose(merged["rca"], merged["rca_anchor"], rtol=1e-9)
            np.testing.assert_array_equal(merged["mcp"], merged["mcp_anchor"])
    # the binary specialisation is the RCA threshold, cell by cell
    assert np.array_equal(result.mcp.data, (result.rca.data >= 1).astype(float))


def urssaf_counts(real_data: Path, year: int = 2022) -> Counts:
    """URSSAF commune x APE counts of the Rouen employment zone (a real aggregated table)."""
    path = real_data / "urssaf_commune_ape_ze2815_rouen.csv"
    con = duckdb.connect()
    frame = con.execute(
        f"""
        SELECT "Code commune" AS territory, "Code APE" AS sector,
               sum(coalesce("Nombre d'établissements {year}", 0))::DOUBLE AS establishments,
               sum(coalesce("Effectifs salariés {year}", 0))::DOUBLE AS employment
        FROM read_csv(?, delim=';', header=true, all_varchar=false)
        GROUP BY ALL HAVING sum(coalesce("Nombre d'établissements {year}", 0)) > 0
        """,
        [str(path)],
    ).df()
    territories, t_index = np.unique(frame["territory"].astype(str), return_inverse=True)
    sectors, s_index = np.unique(frame["sector"].astype(str), return_inverse=True)
    shape = (len(territories), len(sectors))

    def matrix(column: str) -> sp.csr_array:
        return sp.csr_array((frame[column].to_numpy(), (t_index, s_index)), shape=shape)

    zero = sp.csr_array(shape)
    return Counts(
        territory_level="commune",
        sector_level="sous-classe",
        territories=territories,
        sectors=sectors,
        establishments=matrix("establishments"),
        employment=matrix("employment"),
        employment_low=matrix("employment"),
        employment_high=matrix("employment"),
        sme_establishments=zero,
        employment_sq=zero,
        from_establishments=False,
    )


def test_real_urssaf_table_matches_py_ecomplexity_and_keeps_invariants(real_data: Path) -> None:
    counts = urssaf_counts(real_data)
    assert len(counts.territories) > 50
    assert len(counts.sectors) > 300
    result = indicators(counts)
    frame = result.to_frame()
    anchor = run_ecomplexity(frame, "employment")
    merged = frame.merge(anchor, on=["territory_code", "sector"], suffixes=("", "_anchor"))
    assert len(merged) == len(frame)
    defined = merged["employment"].notna()
    np.testing.assert_allclose(
        merged.loc[defined, "lq"], merged.loc[defined, "rca_anchor"], rtol=1e-9, atol=1e-12
    )
    # headcounts are exact in URSSAF tables: the ranges collapse to the value
    np.testing.assert_allclose(frame["lq_low"], frame["lq"], rtol=1e-12)
    np.testing.assert_allclose(frame["lq_high"], frame["lq"], rtol=1e-12)
    # plant sizes are unknown: EG gamma on employment is undefined, on plants it is defined
    sectors = result.sectors_frame()
    assert sectors["eg_gamma"].isna().all()
    assert sectors["eg_gamma_establishments"].notna().any()
    focus_sums = np.asarray(result.focus.sum(axis=1))
    np.testing.assert_allclose(focus_sums[~np.isnan(focus_sums)], 1.0, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# published formulas on a hand-computed example
#
#            S00  S01 | total           employment_sq (plants):
#   T00       30   10 |   40            T00: 3 plants of 10 in S00, 1 of 10 in S01
#   T01       10   30 |   40            T01: 1 plant of 10 in S00, 1 of 30 in S01
#   T02        0   20 |   20            T02: 2 plants of 10 in S01
#   total     40   60 |  100


HAND_EMPLOYMENT = np.array([[30.0, 10.0], [10.0, 30.0], [0.0, 20.0]])
HAND_PLANTS = np.array([[3, 1], [1, 1], [0, 2]])
HAND_SQ = np.array([[300.0, 100.0], [100.0, 900.0], [0.0, 200.0]])


@pytest.fixture
def hand() -> Indicators:
    return indicators(make_counts(HAND_PLANTS, HAND_EMPLOYMENT, employment_sq=HAND_SQ))


def test_location_quotient_focus_and_size_by_hand(hand: Indicators) -> None:
    # LQ(T00, S00) = (30/40) / (40/100) = 1.875 ; LQ(T02, S01) = (20/20) / (60/100)
    expected_lq = np.array([[1.875, 0.25 / 0.6], [0.625, 1.25], [0.0, 1 / 0.6]])
    np.testing.assert_allclose(hand.lq.toarray(), expected_lq, rtol=1e-12)
    np.testing.assert_allclose(hand.focus.toarray(), HAND_EMPLOYMENT / [[40], [40], [20]])
    np.testing.assert_allclose(hand.size.toarray(), HAND_EMPLOYMENT / [40, 60])
    assert hand.cells.nnz == 5  # the empty cell (T02, S00) is not listed


def test_krugman_and_hachman_by_hand(hand: Indicators) -> None:
    # Krugman: T00 |0.75-0.4| + |0.25-0.6| = 0.7 ; T01 0.15 + 0.15 ; T02 0.4 + 0.4
    np.testing.assert_allclose(hand.employment.krugman, [0.7, 0.3, 0.8], rtol=1e-12)
    # Hachman: 1 / sum_s LQ * share = 1 / sum_s share^2 / national share
    expected = [
        1 / (0.75**2 / 0.4 + 0.25**2 / 0.6),
        1 / (0.25**2 / 0.4 + 0.75**2 / 0.6),
        1 / (1 / 0.6),
    ]
    np.testing.assert_allclose(hand.employment.hachman, expected, rtol=1e-12)


def test_herfindahl_hoover_and_gini_by_hand(hand: Indicators) -> None:
    emp = hand.employment
    np.testing.assert_allclose(emp.herfindahl, [0.75**2 + 0.25**2, 14 / 36], rtol=1e-12)
    # Hoover S00: 0.5 (|0.75-0.4| + |0.25-0.4| + |0-0.2|) = 0.35
    # Hoover S01: 0.5 (|1/6-0.4| + |0.5-0.4| + |1/3-0.2|) = 7/30
    np.testing.assert_allclose(emp.hoover, [0.35, 7 / 30], rtol=1e-12)
    # Gini S00: territories by LQ: T02 (0), T01 (0.625), T00 (1.875); Lorenz points
    # (0.2, 0), (0.6, 0.25), (1, 1): area = 0.4*0.25/2 + 0.4*1.25/2 = 0.3, Gini = 1 - 2*0.3
    # Gini S01: T00, T01, T02; points (0.4, 1/6), (0.8, 2/3), (1, 1):
    # sum dX (Y_k + Y_k-1) = 0.4/6 + 0.4*5/6 + 0.2*5/3 = 11/15, Gini = 4/15
    np.testing.assert_allclose(emp.gini, [0.4, 4 / 15], rtol=1e-12)


def test_ellison_glaeser_gamma_by_hand(hand: Indicators) -> None:
    emp = hand.employment
    # plant Herfindahl: S00 (3*100 + 100) / 40^2 = 0.25 ; S01 (100 + 900 + 200) / 60^2 = 1/3
    np.testing.assert_allclose(emp.plant_herfindahl, [0.25, 1 / 3], rtol=1e-12)
    sum_w2 = 0.4**2 + 0.4**2 + 0.2**2
    g00 = 0.35**2 + 0.15**2 + 0.2**2
    g01 = (1 / 6 - 0.4) ** 2 + 0.1**2 + (1 / 3 - 0.2) ** 2
    expected = [
        (g00 - (1 - sum_w2) * 0.25) / ((1 - sum_w2) * 0.75),
        (g01 - (1 - sum_w2) / 3) / ((1 - sum_w2) * 2 / 3),
    ]
    np.testing.assert_allclose(emp.eg_gamma, expected, rtol=1e-12)
    assert emp.eg_gamma[0] == pytest.approx(0.025 / 0.48)
    # on plant counts every plant weighs 1: H = 1 / number of plants
    np.testing.assert_allclose(hand.establishments.plant_herfindahl, [1 / 4, 1 / 4])


def test_indicators_agree_with_a_dense_reference_implementation() -> None:
    rng = np.random.default_rng(3)
    est = rng.poisson(2.0, size=(20, 8)) * (rng.random((20, 8)) < 0.5)
    est[:, 0] += 1  # every territory active
    emp = est * rng.integers(1, 30, size=est.shape)
    result = indicators(make_counts(est, emp)).employment
    x = emp.astype(float)
    row, col, total = x.sum(1, keepdims=True), x.sum(0, keepdims=True), x.sum()
    share_t, share_s, weight = x / row, x / col, row / total
    lq = share_t / (col / total)
    np.testing.assert_allclose(result.lq.toarray(), lq, rtol=1e-12)
    np.testing.assert_allclose(result.krugman, np.abs(share_t - col / total).sum(1), rtol=1e-12)
    np.testing.assert_allclose(result.hachman, 1 / (lq * share_t).sum(1), rtol=1e-12)
    np.testing.assert_allclose(result.herfindahl, (share_s**2).sum(0), rtol=1e-12)
    np.testing.assert_allclose(result.hoover, 0.5 * np.abs(share_s - weight).sum(0), rtol=1e-12)
    gini = []
    for s in range(x.shape[1]):
        order = np.argsort(lq[:, s], kind="stable")
        cx = np.concatenate([[0], np.cumsum(weight[order, 0])])
        cy = np.concatenate([[0], np.cumsum(share_s[order, s])])
        gini.append(1 - np.sum(np.diff(cx) * (cy[1:] + cy[:-1])))
    np.testing.assert_allclose(result.gini, gini, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------------------------
# ranges from the size bands


def banded_counts(seed: int, shape: tuple[int, int] = (3, 3)) -> Counts:
    rng = np.random.default_rng(seed)
    est = rng.integers(1, 4, size=shape) * (rng.random(shape) < 0.8)
    est[:, 0] = np.maximum(est[:, 0], 1)
    est[0, :] = np.maximum(est[0, :], 1)
    low = est * rng.integers(0, 6, size=shape)
    high = low + est * rng.integers(1, 20, size=shape)
    central = (low + high) / 2
    return make_counts(est, central, low, high)


def box_samples(counts: Counts, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    low, high = counts.employment_low.toarray(), counts.employment_high.toarray()
    return low + rng.random((n, *low.shape)) * (high - low)


def dense_lq(x: np.ndarray) -> np.ndarray:
    row, col = x.sum(-1, keepdims=True), x.sum(-2, keepdims=True)
    total = x.sum((-2, -1), keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return x * total / (row * col)


@pytest.mark.parametrize("seed", range(6))
def test_cell_ranges_contain_every_value_consistent_with_the_bands(seed: int) -> None:
    counts = banded_counts(seed)
    result = indicators(counts)
    samples = box_samples(counts, 20_000, seed)
    rows, cols = result.cell_coordinates()
    for name, values in (
        ("lq", dense_lq(samples)),
        ("focus", samples / samples.sum(-1, keepdims=True)),
        ("size", samples / samples.sum(-2, keepdims=True)),
    ):
        low = getattr(result.employment, f"{name}_low").data
        high = getattr(result.employment, f"{name}_high").data
        central = getattr(result.employment, name).data
        observed = values[:, rows, cols]
        ok = ~np.isnan(observed)
        assert np.all(observed[ok] >= np.broadcast_to(low, observed.shape)[ok] - 1e-12), name
        assert np.all(observed[ok] <= np.broadcast_to(high, observed.shape)[ok] + 1e-12), name
        defined = ~np.isnan(central)
        assert np.all(low[defined] <= central[defined])
        assert np.all(central[defined] <= high[defined])


@pytest.mark.parametrize("seed", range(4))
def test_lq_range_is_attained(seed: int) -> None:
    """Each LQ bound is reached: corners of the other cells and a fine grid on the cell."""
    counts = banded_counts(seed, shape=(2, 3))
    result = indicators(counts)
    low_m, high_m = counts.employment_low.toarray(), counts.employment_high.toarray()
    rows, cols = result.cell_coordinates()
    n_cells = low_m.size
    for k, (t, s) in enumerate(zip(rows, cols, strict=True)):
        others = [i for i in range(n_cells) if i != t * low_m.shape[1] + s]
        corners = np.array(list(itertools.product((0, 1), repeat=len(others))))
        grid = np.linspace(low_m[t, s], high_m[t, s], 401)
        x = np.repeat(low_m.ravel()[None, :], len(corners) * len(grid), axis=0)
        spread = (high_m - low_m).ravel()
        x[:, others] += np.repeat(corners, len(grid), axis=0) * spread[others]
        x[:, t * low_m.shape[1] + s] = np.tile(grid, len(corners))
        lq = dense_lq(x.reshape(-1, *low_m.shape))[:, t, s]
        lq = lq[np.isfinite(lq)]
        width = result.employment.lq_high.data[k] - result.employment.lq_low.data[k]
        assert lq.min() == pytest.approx(result.employment.lq_low.data[k], abs=1e-9)
        # the maximum may sit between grid points: within the grid's resolution
        assert lq.max() <= result.employment.lq_high.data[k] + 1e-9
        assert lq.max() >= result.employment.lq_high.data[k] - 1e-3 * max(width, 1e-9)


def test_aggregate_index_ranges_hold_the_central_value_and_the_band_scenarios() -> None:
    counts = banded_counts(11, shape=(6, 5))
    emp = indicators(counts).employment
    at_low = indicators(
        make_counts(counts.establishments.toarray(), counts.employment_low.toarray())
    ).employment
    for name in ("krugman", "hachman", "herfindahl", "gini", "hoover"):
        central, low, high = (getattr(emp, name + s) for s in ("", "_low", "_high"))
        assert np.all(low <= central + 1e-15)
        assert np.all(central <= high + 1e-15)
        scenario = getattr(at_low, name)
        ok = ~np.isnan(scenario)
        assert np.all(low[ok] <= scenario[ok] + 1e-12)
        assert np.all(scenario[ok] <= high[ok] + 1e-12)


def test_establishment_figures_are_exact() -> None:
    result = indicators(banded_counts(2), measure="establishments")
    assert result.measure == "establishments"
    np.testing.assert_array_equal(result.lq_low.data, result.lq.data)
    np.testing.assert_array_equal(result.lq_high.data, result.lq.data)


def test_zero_lower_bound_keeps_bounds_sound() -> None:
    # T01's only employment may be 0 (band with lower bound 0): its LQ is undefined at that
    # corner; the bounds use the limit and still hold every defined value
    est = np.array([[2, 1], [1, 0], [1, 3]])
    low = np.array([[4, 0], [0, 0], [2, 6]])
    high = np.array([[10, 5], [8, 0], [6, 12]])
    counts = make_counts(est, (low + high) / 2, low, high)
    result = indicators(counts)
    samples = box_samples(counts, 20_000, 1)
    samples[:100, 1, 0] = 0.0
    rows, cols = result.cell_coordinates()
    observed = dense_lq(samples)[:, rows, cols]
    ok = np.isfinite(observed)
    low_b = np.broadcast_to(result.lq_low.data, observed.shape)
    high_b = np.broadcast_to(result.lq_high.data, observed.shape)
    assert np.all(observed[ok] >= low_b[ok] - 1e-12)
    assert np.all(observed[ok] <= high_b[ok] + 1e-12)


# --------------------------------------------------------------------------------------------
# frames and files


def test_frames_have_the_documented_columns(hand: Indicators) -> None:
    frame = hand.to_frame()
    for column in (
        "territory_level",
        "territory_code",
        "sector",
        "establishments",
        "employment",
        "employment_low",
        "employment_high",
        "sme_share",
        "lq",
        "lq_low",
        "lq_high",
        "rca",
        "mcp",
        "focus",
        "size",
        "lq_establishments",
        "creation_rate",
        "closure_rate",
        "net_growth",
        "employment_growth",
    ):
        assert column in frame.columns, column
    assert len(frame) == 5
    row = frame[(frame.territory_code == "T00") & (frame.sector == "S00")].iloc[0]
    assert row.lq == pytest.approx(1.875)
    assert row.establishments == 3
    assert row.sme_share == 1.0
    territories = hand.territories_frame()
    assert list(territories.territory_code) == ["T00", "T01", "T02"]
    assert {"krugman", "krugman_low", "hachman", "sectors_present"} <= set(territories.columns)
    sectors = hand.sectors_frame()
    assert {"herfindahl", "gini", "hoover", "eg_gamma", "eg_gamma_high", "plant_herfindahl"} <= set(
        sectors.columns
    )
    assert list(sectors.territories_present) == [2, 3]


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
@pytest.mark.parametrize("table", ["cells", "territories", "sectors"])
def test_write_round_trips(hand: Indicators, tmp_path: Path, fmt: str, table: Table) -> None:
    path = hand.write(tmp_path / f"out.{fmt}", table=table)  # format from the suffix
    expected = hand.frame(table)
    if fmt == "csv":
        back = pd.read_csv(path, dtype={"territory_code": str, "sector": str})
    elif fmt == "parquet":
        back = pd.read_parquet(path)
    else:
        records = json.loads(path.read_text(encoding="utf-8"))
        back = pd.DataFrame.from_records(records)
    assert list(back.columns) == list(expected.columns)
    assert len(back) == len(expected)
    for column in expected.columns:
        if pd.api.types.is_numeric_dtype(expected[column]):
            np.testing.assert_allclose(
                back[column].astype(float), expected[column].astype(float), rtol=1e-12
            )
        else:
            assert list(back[column]) == list(expected[column])


def test_json_writes_nan_as_null(hand: Indicators, tmp_path: Path) -> None:
    path = hand.write(tmp_path / "cells.json")
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text
    assert json.loads(text)[0]["creation_rate"] is None


def test_output_format_errors(tmp_path: Path) -> None:
    assert output_format(tmp_path / "a.PARQUET", None) == "parquet"
    assert output_format(None, None) == "csv"
    assert output_format(tmp_path / "a.xlsx", None) == "xlsx"
    assert output_format(tmp_path / "a.csv", "csv-excel") == "csv-excel"
    with pytest.raises(InputError, match=r"a\.ods.*csv, csv-excel, xlsx, parquet, json"):
        output_format(tmp_path / "a.ods", None)
    # the French Excel CSV is asked for by name, never guessed from a suffix
    with pytest.raises(InputError, match="cannot infer"):
        output_format(tmp_path / "a.csv-excel", None)
    with pytest.raises(InputError, match="format='xml'"):
        output_format(None, "xml")


# --------------------------------------------------------------------------------------------
# dynamism


def test_dynamism_rates_and_undefined_cells() -> None:
    est = np.array([[4, 2], [1, 3]])

    def m(a: list[list[float]]) -> sp.csr_array:
        return sp.csr_array(np.array(a, dtype=float))

    window = Dynamics(
        start="2021-01-01",
        end="2022-01-01",
        stock_start=m([[2, 2], [0, 3]]),
        stock_end=m([[4, 2], [1, 3]]),
        created=m([[3, 1], [1, 0]]),
        closed=m([[1, 1], [0, 0]]),
        employment_start=m([[10, 0], [0, 6]]),
        employment_end=m([[15, 3], [2, 6]]),
    )
    result = indicators(make_counts(est, dynamics=window))
    assert result.dynamics is not None
    frame = result.to_frame().set_index(["territory_code", "sector"])
    assert frame.loc[("T00", "S00"), "creation_rate"] == 1.5
    assert frame.loc[("T00", "S00"), "closure_rate"] == 0.5
    assert frame.loc[("T00", "S00"), "net_growth"] == 1.0
    assert frame.loc[("T00", "S00"), "employment_growth"] == 0.5
    assert np.isnan(frame.loc[("T01", "S00"), "creation_rate"])  # no stock at the start
    assert np.isnan(frame.loc[("T00", "S01"), "employment_growth"])
    territories = result.territories_frame().set_index("territory_code")
    assert territories.loc["T00", "creation_rate"] == pytest.approx(4 / 4)
    assert territories.loc["T01", "net_growth"] == pytest.approx(1 / 3)
    sectors = result.sectors_frame().set_index("sector")
    assert sectors.loc["S01", "closure_rate"] == pytest.approx(1 / 5)


def test_aggregated_tables_have_no_creation_rate() -> None:
    est = np.array([[4, 2], [1, 3]])
    stock = sp.csr_array(est.astype(float))
    zero = sp.csr_array((2, 2))
    window = Dynamics("2021-01-01", "2022-01-01", stock, stock * 2, zero, zero, stock, stock)
    result = indicators(make_counts(est, dynamics=window, from_establishments=False))
    frame = result.to_frame()
    assert frame["creation_rate"].isna().all()
    np.testing.assert_allclose(frame["net_growth"], 1.0)


# --------------------------------------------------------------------------------------------
# errors


def test_unknown_measure_names_the_allowed_values() -> None:
    with pytest.raises(InputError, match=r"measure='jobs'.*employment, establishments"):
        indicators(make_counts(HAND_PLANTS), measure="jobs")  # type: ignore[arg-type]


def test_one_territory_is_a_clear_error() -> None:
    with pytest.raises(InputError, match=r"au moins 2 territoires.*trouvé\(s\) : 1 \(T00"):
        indicators(make_counts(np.array([[3, 4, 1]])))
    # two rows but only one with activity
    with pytest.raises(InputError, match="au moins 2 territoires"):
        indicators(make_counts(np.array([[3, 4, 1], [0, 0, 0]])))


def test_one_sector_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="moins 2 secteurs"):
        indicators(make_counts(np.array([[3], [4]])))


def test_no_establishment_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="aucun établissement"):
        indicators(make_counts(np.zeros((2, 2))))


def test_empty_counts_are_refused_with_a_clear_error() -> None:
    with pytest.raises(InputError, match="aucune donnée"):
        make_counts(np.zeros((0, 3)))


def test_employment_measure_without_employment() -> None:
    counts = make_counts(HAND_PLANTS, np.zeros((3, 2)), from_establishments=False)
    with pytest.raises(InputError, match="measure='establishments'"):
        indicators(counts)
    result = indicators(counts, measure="establishments")
    assert np.isnan(result.employment.lq.data).all()
    assert np.isfinite(result.lq.data).all()


def test_inconsistent_bounds_name_the_cell() -> None:
    emp = HAND_EMPLOYMENT.copy()
    low = emp.copy()
    low[1, 1] = 31.0
    with pytest.raises(InputError, match=r"employment_low > .*employment.*'T01'.*'S01'.*31"):
        indicators(make_counts(HAND_PLANTS, emp, low, emp))


def test_negative_or_nan_values_name_the_cell() -> None:
    est = HAND_PLANTS.astype(float)
    est[2, 1] = -1
    with pytest.raises(InputError, match=r"Counts.establishments.*-1.*'T02'.*'S01'"):
        indicators(make_counts(est, np.abs(est)))
    emp = HAND_EMPLOYMENT.copy()
    emp[0, 0] = np.nan
    with pytest.raises(InputError, match="not a finite non-negative"):
        indicators(make_counts(HAND_PLANTS, emp))


# --------------------------------------------------------------------------------------------
# `grappe indicators` on a store built from the real SIRENE extract of the Bas-Rhin


@pytest.fixture(scope="module")
def bas_rhin_store(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from grappe.fabric.store import FabricStore

    path = tmp_path_factory.mktemp("store")
    reports = FabricStore.open(path).import_files(
        [real_data / "sirene_bas_rhin_2019_geocoded_latin1.csv"]
    )
    assert reports[0].rows_stored > 3000
    return path


def run_cli(*args: str) -> Result:
    from grappe.cli import app

    return CliRunner().invoke(app, ["indicators", *args])


def test_cli_prints_cells_with_rules_matching_the_library(bas_rhin_store: Path) -> None:
    from grappe.detection.aggregate import aggregate
    from grappe.detection.rules import apply_rules

    result = run_cli("--store", str(bas_rhin_store), "--level", "commune", "--sectors", "division")
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(io.StringIO(result.stdout), dtype={"territory_code": str, "sector": str})
    expected = apply_rules(indicators(aggregate(bas_rhin_store, "commune", "division"))).to_frame()
    assert len(frame) == len(expected) > 300
    # the library's columns, with the names beside the codes (people read names)
    names = ["territory_name", "sector_name"]
    assert [c for c in frame.columns if c not in names] == list(expected.columns)
    assert list(frame.columns[2:6]) == ["territory_name", "sector_level", "sector", "sector_name"]
    from grappe.refdata import territories

    communes = territories.names("commune")
    assert frame["territory_name"].tolist() == [communes[c] for c in frame["territory_code"]]
    from grappe.refdata import naf

    assert set(frame.loc[frame["sector"] == "25", "sector_name"]) == {naf.label("25")}
    for column in ("strong", "stars", "size_star"):
        assert column in frame.columns
    np.testing.assert_allclose(frame["lq"], expected["lq"], rtol=1e-12)
    np.testing.assert_array_equal(frame["stars"], expected["stars"])
    assert frame["strong"].any()
    # employment from size bands: every defined LQ sits in its range
    ok = frame["lq"].notna()
    assert (frame.loc[ok, "lq_low"] <= frame.loc[ok, "lq"]).all()
    assert (frame.loc[ok, "lq"] <= frame.loc[ok, "lq_high"]).all()
    assert (frame.loc[ok, "lq_low"] < frame.loc[ok, "lq_high"]).any()


def test_cli_cluster_categories_sum_their_traded_sous_classes(bas_rhin_store: Path) -> None:
    from grappe.detection.aggregate import aggregate
    from grappe.refdata import clusters

    result = run_cli("--store", str(bas_rhin_store), "--level", "epci", "--sectors", "clusters",
                     "--measure", "establishments")
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(io.StringIO(result.stdout), dtype={"territory_code": str, "sector": str})
    members = clusters.members()
    assert set(frame["sector"]) <= set(members)
    assert frame["sector"].nunique() > 10
    full = aggregate(bas_rhin_store, "epci", "sous-classe")
    dense = full.establishments.toarray()
    column = {code: j for j, code in enumerate(full.sectors.tolist())}
    row = {code: i for i, code in enumerate(full.territories.tolist())}
    for cell in frame.itertuples():
        expected = sum(dense[row[cell.territory_code], column[c]]
                       for c in members[cell.sector][1] if c in column)
        assert cell.establishments == expected, (cell.territory_code, cell.sector)
    # the local sectors are in no category but count in the territories' totals: the LQ
    # compares with the whole economy, as at the sous-classe level
    one = frame[frame["establishments"] > 0].iloc[0]
    codes = [column[c] for c in members[one["sector"]][1] if c in column]
    i = row[one["territory_code"]]
    share = dense[i, codes].sum() / dense[i].sum()
    national = dense[:, codes].sum() / dense.sum()
    assert one["lq"] == pytest.approx(share / national, rel=1e-12)


@pytest.mark.parametrize(("table", "suffix"), [("territories", "json"), ("sectors", "parquet")])
def test_cli_writes_the_other_tables(
    bas_rhin_store: Path, tmp_path: Path, table: str, suffix: str
) -> None:
    out = tmp_path / f"{table}.{suffix}"
    result = run_cli(
        "--store",
        str(bas_rhin_store),
        "--level",
        "commune",
        "--sectors",
        "section",
        "--measure",
        "establishments",
        "--table",
        table,
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.stderr
    assert "lignes écrites" in result.stderr
    frame = pd.read_json(out, dtype={"territory_code": str, "sector": str}) if (
        suffix == "json") else pd.read_parquet(out)
    assert (frame["measure"] == "establishments").all()
    # names in every table, beside the codes
    if table == "territories":
        from grappe.refdata import territories

        communes = territories.names("commune")
        assert len(frame) >= 5
        assert frame["territory_name"].tolist() == [communes[c] for c in frame["territory_code"]]
    else:
        assert frame.loc[frame["sector"] == "C", "sector_name"].tolist() == [
            "Industrie manufacturière"]
    column = "krugman" if table == "territories" else "herfindahl"
    assert frame[column].notna().all()


def test_cli_writes_xlsx_and_french_excel_csv(bas_rhin_store: Path, tmp_path: Path) -> None:
    import openpyxl

    from grappe.refdata import territories

    common = ("--store", str(bas_rhin_store), "--level", "epci", "--sectors", "division")
    programs = pd.read_csv(io.StringIO(run_cli(*common).stdout),
                           dtype={"territory_code": str, "sector": str})
    book = tmp_path / "indicateurs.xlsx"
    result = run_cli(*common, "--out", str(book))
    assert result.exit_code == 0, result.stderr
    sheet = openpyxl.load_workbook(book).active
    assert sheet is not None
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header[:6] == ["Niveau territorial", "Code territoire", "Territoire",
                          "Niveau sectoriel", "Code secteur", "Secteur"]
    assert "Quotient de localisation (bas)" in header
    assert sheet.max_row == len(programs) + 1
    row = dict(zip(header, sheet[2], strict=True))
    assert row["Territoire"].value == territories.names("epci")[programs["territory_code"][0]]
    assert row["Secteur"].value == programs["sector_name"][0]
    assert row["Quotient de localisation"].number_format == "0.00"
    assert row["Quotient de localisation"].value == pytest.approx(programs["lq"].iloc[0],
                                                                  rel=1e-12)
    assert row["Emploi estimé"].number_format == "#,##0"
    excel = tmp_path / "indicateurs.csv"
    result = run_cli(*common, "--out", str(excel), "--format", "csv-excel")
    assert result.exit_code == 0, result.stderr
    assert excel.read_bytes().startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(excel, sep=";", decimal=",", encoding="utf-8-sig",
                       dtype={"Code territoire": str, "Code secteur": str})
    assert list(back.columns)[:3] == ["Niveau territorial", "Code territoire", "Territoire"]
    np.testing.assert_allclose(back["Quotient de localisation"], programs["lq"], rtol=1e-12)
    assert set(back["Grappe forte"]) <= {"oui", "non"}
    result = run_cli(*common, "--format", "xlsx")
    assert result.exit_code == 2
    assert "--format xlsx : indiquez un fichier avec --out" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--level", "canton"], "--level 'canton' : valeur inconnue"),
        (["--sectors", "branche"], "--sectors 'branche'"),
        (["--measure", "jobs"], "--measure 'jobs'"),
        (["--table", "pairs"], "--table 'pairs'"),
        (["--engine", "polars"], "--engine 'polars'"),
        (["--at", "2020-13-01"], "date invalide"),
        (["--format", "parquet"], "indiquez un fichier avec --out"),
        (["--out", "x.ods"], "cannot infer the output format"),
    ],
)
def test_cli_rejects_wrong_options_in_french(
    bas_rhin_store: Path, args: list[str], message: str
) -> None:
    result = run_cli("--store", str(bas_rhin_store), *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_cli_without_store_says_what_to_do(tmp_path: Path) -> None:
    result = run_cli("--store", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert "magasin introuvable" in result.stderr


def test_frames_do_not_alias_the_result(hand: Indicators) -> None:
    frame = hand.to_frame()
    frame.loc[0, "lq"] = 99.0
    frame["focus"] *= 2
    sectors = hand.sectors_frame()
    sectors.loc[0, "gini"] = -1.0
    assert hand.lq.data[0] == pytest.approx(1.875)
    assert hand.focus.data[0] == pytest.approx(0.75)
    assert hand.employment.gini[0] == pytest.approx(0.4)


def test_a_sector_without_employment_leaves_the_others_defined() -> None:
    # S00 has establishments but no employee anywhere (e.g. sole traders)
    est = np.array([[3, 1, 2], [1, 3, 1], [2, 2, 2]])
    emp = np.array([[0, 1, 2], [0, 3, 5], [0, 4, 1]])
    result = indicators(make_counts(est, emp)).employment
    for name in ("herfindahl", "gini", "hoover", "eg_gamma"):
        values = getattr(result, name)
        assert np.isnan(values[0]), name
        assert np.isfinite(values[1:]).all(), name
    assert np.isnan(result.lq.toarray()[:, 0]).all()
    assert np.isfinite(result.krugman).all()


def test_cohort_survival_is_aligned_on_the_cells() -> None:
    from grappe.detection.aggregate import CohortSurvival

    counts = make_counts(HAND_PLANTS, HAND_EMPLOYMENT, employment_sq=HAND_SQ)
    # the cohort knows T01 and T09 (absent from the snapshot), S01 and S00, in its own order
    cohort = CohortSurvival(
        territory_level="ze",
        sector_level="division",
        cohort_year=2015,
        horizon_years=3,
        territories=np.array(["T01", "T09"]),
        sectors=np.array(["S00", "S01"]),
        created=sp.csr_array(np.array([[4.0, 2.0], [5.0, 0.0]])),
        surviving=sp.csr_array(np.array([[1.0, 2.0], [5.0, 0.0]])),
    )
    result = indicators(counts, survival=cohort)
    frame = result.to_frame().set_index(["territory_code", "sector"])
    assert frame.loc[("T01", "S00"), "survival_rate"] == 0.25
    assert frame.loc[("T01", "S01"), "survival_rate"] == 1.0
    assert np.isnan(frame.loc[("T00", "S00"), "survival_rate"])
    territories = result.territories_frame().set_index("territory_code")
    assert territories.loc["T01", "survival_rate"] == 0.5
    sectors = result.sectors_frame().set_index("sector")
    assert sectors.loc["S00", "survival_rate"] == 0.25  # T09 has no row in the snapshot
    wrong = CohortSurvival(
        "epci",
        "division",
        2015,
        3,
        cohort.territories,
        cohort.sectors,
        cohort.created,
        cohort.surviving,
    )
    with pytest.raises(InputError, match="territory_level 'epci' differs"):
        indicators(counts, survival=wrong)


# --------------------------------------------------------------------------------------------
# sector groups measured against the whole economy


def test_group_lq_uses_the_territory_and_national_totals() -> None:
    # Two overlapping groups; the territories' whole economies are larger than the groups.
    #            g1  g2 | whole economy
    #   T00       4   5 |   5   (g1 inside g2: the 4 establishments count once)
    #   T01       0   2 |  10
    #   T02       1   1 |   5
    est = np.array([[4.0, 5.0], [0.0, 2.0], [1.0, 1.0]])
    whole = np.array([5.0, 10.0, 5.0])
    counts = with_totals(make_counts(est), whole)
    result = indicators(counts, measure="establishments")
    # LQ(T00, g1) = (4/5) / (5/20) = 3.2 ; LQ(T02, g2) = (1/5) / (8/20) = 0.5
    expected = np.array([[3.2, (5 / 5) / (8 / 20)], [0.0, (2 / 10) / (8 / 20)], [0.8, 0.5]])
    np.testing.assert_allclose(result.lq.toarray(), expected, rtol=1e-12)
    np.testing.assert_allclose(result.focus.toarray(), est / whole[:, None], rtol=1e-12)
    np.testing.assert_allclose(result.size.toarray(), est / est.sum(0), rtol=1e-12)
    # the territory table reports each territory's whole economy, not its column sums
    territories = result.territories_frame()
    assert territories["establishments"].tolist() == [5.0, 10.0, 5.0]
    # Hoover of g1: 0.5 (|0.8 - 0.25| + |0 - 0.5| + |0.2 - 0.25|) = 0.55
    assert result.establishments.hoover[0] == pytest.approx(0.55)


def with_totals(
    counts: Counts,
    establishments: np.ndarray,
    employment: np.ndarray | None = None,
    low: np.ndarray | None = None,
    high: np.ndarray | None = None,
) -> Counts:
    """The counts with whole-economy totals (employment defaults to the establishments)."""
    emp = establishments if employment is None else employment
    return dataclasses.replace(
        counts,
        totals=Totals(
            establishments=np.asarray(establishments, dtype=float),
            employment=np.asarray(emp, dtype=float),
            employment_low=np.asarray(emp if low is None else low, dtype=float),
            employment_high=np.asarray(emp if high is None else high, dtype=float),
            sme_establishments=np.asarray(establishments, dtype=float),
        ),
    )


def test_one_group_among_other_activity_is_measured() -> None:
    counts = with_totals(make_counts(np.array([[3.0], [1.0]])), np.array([4.0, 6.0]))
    result = indicators(counts, measure="establishments")
    np.testing.assert_allclose(result.lq.toarray().ravel(), [(3 / 4) / 0.4, (1 / 6) / 0.4])
    # a single sector that is the whole economy has LQ 1 everywhere: still refused
    with pytest.raises(InputError, match=r"moins 2 secteurs.*ou une activité hors de ces secteurs"):
        indicators(with_totals(make_counts(np.array([[3.0], [1.0]])), np.array([3.0, 1.0])))


def test_totals_are_validated() -> None:
    counts = make_counts(HAND_PLANTS, HAND_EMPLOYMENT)
    whole = np.array([10.0, 10.0, 10.0])
    employment = np.array([40.0, 40.0, 20.0])
    with pytest.raises(
        InputError,
        match=r"a cell of Counts.establishments > Counts.totals.establishments"
        r" in territory 'T00': 3.0 > 2.0",
    ):
        indicators(with_totals(counts, np.array([2.0, 10.0, 10.0]), employment))
    with pytest.raises(InputError, match=r"Counts.totals.employment_low > Counts.totals.employment.*'T01'"):
        indicators(with_totals(counts, whole, employment, low=np.array([40.0, 41.0, 20.0])))
    with pytest.raises(InputError, match=r"Counts.totals.employment: value nan in territory 'T02'"):
        indicators(with_totals(counts, whole, np.array([40.0, 40.0, np.nan])))
    with pytest.raises(InputError, match=r"Totals.establishments has shape \(2,\), expected \(3,\)"):
        with_totals(counts, np.array([10.0, 10.0]))


SOUS_CLASSES = ("25.62A", "25.62B", "25.73A", "28.41Z", "22.29A", "30.30Z", "62.01Z", "47.11F", "71.12B")


@pytest.fixture(scope="module")
def group_fabric(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 seeded establishments in 40 communes, every size band, some closed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from grappe.fabric.schema import arrow_schema
    from grappe.refdata import sizes, territories

    rng = np.random.default_rng(44)
    communes = rng.choice(np.asarray(territories.commune_levels()["commune"].to_pylist()), 40, replace=False)
    bands = np.asarray([*sizes.size_bands()["code"].to_pylist(), None], dtype=object)
    n = 600
    created = np.datetime64("2000-01-01") + rng.integers(0, 20 * 365, n).astype("timedelta64[D]")
    closed = np.where(
        rng.random(n) < 0.2,
        created + rng.integers(30, 3000, n).astype("timedelta64[D]"),
        np.datetime64("NaT", "D"),
    )
    siret = [f"{i:014d}" for i in range(n)]
    columns = {
        "siret": siret,
        "siren": [s[:9] for s in siret],
        "nic": [s[9:] for s in siret],
        "naf": rng.choice(SOUS_CLASSES, n),
        "commune": rng.choice(communes, n),
        "size_band": rng.choice(bands, n),
        "created": created,
        "closed": closed,
        "active": np.isnat(closed),
        "source": ["test"] * n,
    }
    schema = arrow_schema("establishments")
    table = pa.table(
        {
            f.name: pa.array(columns[f.name]).cast(f.type) if f.name in columns else pa.nulls(n, f.type)
            for f in schema
        },
        schema=schema,
    )
    path = tmp_path_factory.mktemp("groups") / "fabric.parquet"
    pq.write_table(table, path)
    return path


def group_as_a_sector(full: Counts, members: list[str]) -> Counts:
    """The group as one more sector of a partition {group, rest of the economy}, by hand."""
    in_group = np.isin(full.sectors, members)

    def split(matrix: sp.csr_array) -> sp.csr_array:
        dense = matrix.toarray()
        group = dense[:, in_group].sum(axis=1)
        return sp.csr_array(np.column_stack([group, dense.sum(axis=1) - group]))

    return Counts(
        territory_level=full.territory_level,
        sector_level="partition",
        territories=full.territories,
        sectors=np.array(["group", "rest"]),
        establishments=split(full.establishments),
        employment=split(full.employment),
        employment_low=split(full.employment_low),
        employment_high=split(full.employment_high),
        sme_establishments=split(full.sme_establishments),
        employment_sq=split(full.employment_sq),
    )


def test_groups_give_the_figures_of_the_group_as_a_sector_of_the_full_level(group_fabric: Path) -> None:
    from grappe.detection.aggregate import aggregate
    from grappe.detection.sector_groups import SectorGroup

    groups = [
        SectorGroup("decolletage", "Décolletage", ("25.62A", "25.62B")),
        SectorGroup("metal", "Métallurgie", ("25", "28.41Z")),  # overlaps décolletage
        SectorGroup("ingenierie", "Ingénierie", ("71.12B",)),
    ]
    members = {
        "decolletage": ["25.62A", "25.62B"],
        "metal": ["25.62A", "25.62B", "25.73A", "28.41Z"],
        "ingenierie": ["71.12B"],
    }
    grouped = aggregate([group_fabric], "departement", groups)
    full = aggregate([group_fabric], "departement", "sous-classe")
    assert grouped.territories.tolist() == full.territories.tolist()
    result = indicators(grouped)
    cell_figures = (
        "lq",
        "lq_low",
        "lq_high",
        "focus",
        "focus_low",
        "focus_high",
        "size",
        "size_low",
        "size_high",
    )
    sector_figures = ("herfindahl", "gini", "hoover", "eg_gamma", "plant_herfindahl")
    for j, code in enumerate(grouped.sectors):
        by_hand = indicators(group_as_a_sector(full, members[code]))
        for measure in ("employment", "establishments"):
            ours, reference = getattr(result, measure), getattr(by_hand, measure)
            for name in cell_figures:
                np.testing.assert_allclose(
                    getattr(ours, name).toarray()[:, j],
                    getattr(reference, name).toarray()[:, 0],
                    rtol=1e-9,
                    atol=1e-12,
                    err_msg=f"{code} {measure} {name}",
                )
            for name in sector_figures:
                suffixes = ("",) if name == "plant_herfindahl" else ("", "_low", "_high")
                for suffix in suffixes:
                    np.testing.assert_allclose(
                        getattr(ours, name + suffix)[j],
                        getattr(reference, name + suffix)[0],
                        rtol=1e-9,
                        atol=1e-12,
                        err_msg=f"{code} {measure} {name}{suffix}",
                    )
    # the ranges are not trivial: employment comes from size bands
    assert (result.employment.lq_low.data < result.employment.lq_high.data).any()
    # the territory table is the whole economy's, with its dynamism
    whole = indicators(full).territories_frame()
    ours_frame = result.territories_frame()
    rates = ("creation_rate", "closure_rate", "net_growth", "employment_growth")
    for column in ("establishments", "employment", "employment_low", "employment_high", *rates):
        np.testing.assert_array_equal(ours_frame[column], whole[column])
    assert ours_frame["creation_rate"].notna().sum() > 3


def test_every_output_column_has_a_french_header(hand: Indicators) -> None:
    from grappe.detection import labels
    from grappe.detection.candidates import CANDIDATE_COLUMNS
    from grappe.detection.rules import apply_rules

    columns = [*CANDIDATE_COLUMNS, "territory_name", "sector_name",
               *apply_rules(hand).to_frame().columns, *hand.territories_frame().columns,
               *hand.sectors_frame().columns]
    unlabelled = sorted({c for c in columns if labels.label(c) == c})
    assert unlabelled == []
    assert labels.label("lq_credible_low") == "Quotient de localisation crédible (bas)"
    assert labels.label("eg_gamma_establishments") == "Ellison-Glaeser γ (établissements)"
    assert labels.number_formats(["lq_high", "sme_share", "reasons"]) == {
        "lq_high": "0.00", "sme_share": "0.0%"}
