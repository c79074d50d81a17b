"""The ranking of candidates: minimum mass, employer basis, credible LQ, reasons (issue 16)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from grappe.cli import app
from grappe.detection.candidates import Candidates, detect
from grappe.detection.ranking import (
    CREDIBLE_LEVEL,
    DEFAULT_MIN_EMPLOYMENT,
    DEFAULT_MIN_ESTABLISHMENTS,
    LQ_SCALE,
    MASS_HALF,
    PRIOR_STRENGTH,
    MinimumMass,
    ScoreWeights,
    french_number,
    lq_credible_interval,
    sector_ranks,
)
from grappe.errors import InputError
from grappe.fabric.store import FabricStore
from grappe.refdata import territories

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")

# Sectors of the generic tables below.
BACKGROUND = ("47.11F", "56.10A", "43.21A", "86.21Z", "49.41A", "45.20A", "10.71C", "41.20A")
STRONG = "25.62A"  # 250 establishments in one commune, location quotient about 6.8
TINY = "26.52Z"  # 3 establishments, all in one commune: location quotient about 400
LETTER_BOXES = "68.20B"  # 500 establishments, no employee


# ------------------------------------------------------------------------------- functions


def test_credible_interval_is_the_gamma_posterior() -> None:
    lq = np.array([500.0, 6.0, 40.0, 0.0, np.nan])
    units = np.array([3.0, 250.0, 15.0, 5.0, 4.0])
    low, high = lq_credible_interval(lq, units)
    a = PRIOR_STRENGTH
    tail = (1 - CREDIBLE_LEVEL) / 2
    for i in range(3):
        posterior = stats.gamma(a + units[i], scale=1 / (a + units[i] / lq[i]))
        assert low[i] == pytest.approx(posterior.ppf(tail), rel=1e-9)
        assert high[i] == pytest.approx(posterior.ppf(1 - tail), rel=1e-9)
    # the figures of the module notes: 3 establishments at LQ 500, 250 at LQ 6, 15 at LQ 40
    assert round(low[0], 1) == 1.4
    assert round(low[1], 1) == 5.3
    assert (round(low[2], 1), round(high[2], 1)) == (7.3, 16.8)
    assert low[0] < low[1] < 6 < high[1]
    assert (low[3], high[3]) == (0.0, 0.0)
    assert math.isnan(low[4])
    assert math.isnan(high[4])


def test_minimum_mass_and_weights_refuse_wrong_values() -> None:
    assert MinimumMass() == MinimumMass(DEFAULT_MIN_ESTABLISHMENTS, DEFAULT_MIN_EMPLOYMENT)
    # CONTRACTS: the default is at most 15 employer establishments
    assert 0 < DEFAULT_MIN_ESTABLISHMENTS <= 15
    for wrong in (-1, math.nan, math.inf, "10", True):
        with pytest.raises(InputError, match="MinimumMass"):
            MinimumMass(establishments=wrong)  # type: ignore[arg-type]
    kept = MinimumMass(10, 50).keeps(np.array([10, 10, 9]), np.array([50, 49, 500]), "employment")
    assert kept.tolist() == [True, False, False]
    # without headcounts the employment condition does not apply
    assert MinimumMass(10, 50).keeps(np.array([10]), np.array([0]), "establishments").tolist() == [True]
    with pytest.raises(InputError, match=r"ScoreWeights\.size"):
        ScoreWeights(size=-1)


def test_sector_ranks_follow_the_order_of_the_rows() -> None:
    rank, count = sector_ranks(np.array([2, 0, 2, 2, 0]), 3)
    assert rank.tolist() == [1, 1, 2, 3, 2]
    assert count.tolist() == [3, 2, 3, 3, 2]


def test_numbers_are_written_the_french_way() -> None:
    assert french_number(1250) == "1\u202f250"
    assert french_number(6.24, 1) == "6,2"
    assert french_number(1234567.891, 2) == "1\u202f234\u202f567,89"
    assert french_number(math.nan) == "–"


def test_readme_states_the_defaults_of_the_code() -> None:
    section = README[README.index("## Observer") : README.index("## Animer")]
    assert f"{DEFAULT_MIN_ESTABLISHMENTS} employer establishments" in section
    assert f"{DEFAULT_MIN_EMPLOYMENT} jobs" in section
    assert f"{CREDIBLE_LEVEL:.0%}" in section
    w = ScoreWeights()
    formula = (f"{w.size:.2f} size + {w.specialisation:.2f} specialisation + "
               f"{w.significance:.2f} significance + {w.dynamism:.2f} dynamism")
    assert formula in section
    assert "Clayton & Kaldor" in section
    assert f"Gamma({PRIOR_STRENGTH:g}, {PRIOR_STRENGTH:g})" in section
    assert f"m / (m + {MASS_HALF:g})" in section
    assert f"ln {LQ_SCALE:g}" in section


# ---------------------------------------------------------- generic tables, end to end


def _communes(n: int) -> list[str]:
    """``n`` communes of the Bas-Rhin, in code order."""
    levels = territories.commune_levels()
    codes = [c for c, d in zip(levels["commune"].to_pylist(), levels["departement"].to_pylist(),
                                strict=True) if d == "67"]
    return sorted(codes)[:n]


def _table(path: Path, with_employees: bool) -> Path:
    """A commune table: 400 communes with the same background, one strong cell of 250
    establishments (``STRONG``), one tiny cell of 3 (``TINY``), and with employees a commune
    holding 500 establishments without staff (``LETTER_BOXES``)."""
    communes = _communes(400)
    strong, tiny, boxes = communes[100], communes[300], communes[200]
    rows = []

    def add(commune: str, naf: str, establishments: int, per_establishment: float) -> None:
        employees: object = establishments * per_establishment if with_employees else ""
        rows.append(("commune", commune, naf, 2022, establishments, employees))

    for commune in communes:
        background = 50 if commune == strong else 100
        for naf in BACKGROUND:
            add(commune, naf, background, 4)
        add(commune, STRONG, 250 if commune == strong else 60, 8)
    add(tiny, TINY, 3, 30)
    if with_employees:
        add(boxes, LETTER_BOXES, 500, 0)
    frame = pd.DataFrame(rows, columns=["territory_level", "territory_code", "naf", "year",
                                        "establishments", "employees"])
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def establishment_only_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("ranking_table")
    store = base / "store"
    FabricStore.open(store).import_files([_table(base / "table.csv", False)], format="table")
    return store


@pytest.fixture(scope="module")
def employment_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("ranking_table_employees")
    store = base / "store"
    FabricStore.open(store).import_files([_table(base / "table.csv", True)], format="table")
    return store


def _row(found: Candidates, sector: str) -> pd.Series:
    """The sector's candidate with the most establishments."""
    rows = found.frame[found.frame["sector"] == sector]
    return rows.loc[rows["establishments"].idxmax()]


def test_a_tiny_cell_with_a_huge_lq_does_not_outrank_a_large_specialised_one(
    establishment_only_store: Path,
) -> None:
    # The hot-spot test aside (the large cell is a hot spot, which alone ranks it first):
    # mass and specialisation decide. On the raw LQ the tiny cell came first.
    found = detect(establishment_only_store, level="commune", permutations=99, seed=1,
                   minimum_mass=MinimumMass(0, 0), weights=ScoreWeights(significance=0))
    tiny, strong = _row(found, TINY), _row(found, STRONG)
    assert tiny["establishments"] == 3
    assert tiny["lq"] > 300
    assert strong["establishments"] == 250
    assert 5 < strong["lq"] < 8
    # the raw LQ says the opposite; its credible lower bound does not
    assert tiny["lq_credible_low"] < 2
    assert strong["lq_credible_low"] > 4.5
    assert strong["rank"] < tiny["rank"]
    assert strong["score_specialisation"] > tiny["score_specialisation"]


def test_a_table_without_headcounts_is_ranked_on_establishments(
    establishment_only_store: Path,
) -> None:
    found = detect(establishment_only_store, level="commune", permutations=99, seed=1)
    frame = found.frame
    assert found.basis == "establishments"
    assert frame["basis"].eq("establishments").all()
    assert frame["employer_establishments"].isna().all()
    # rows are kept: the minimum counts establishments, with no employment condition (400
    # communes hold STRONG, a traded sector)
    assert len(frame) >= 400
    assert frame["traded"].all()
    assert (frame["establishments"] >= DEFAULT_MIN_ESTABLISHMENTS).all()
    assert TINY not in set(frame["sector"])
    assert frame["reasons"].str.contains("classement sur les établissements").all()
    result = CliRunner().invoke(app, ["detect", "--store", str(establishment_only_store),
                                      "--level", "commune", "--permutations", "0", "--format",
                                      "csv"])
    assert result.exit_code == 0, result.stderr
    assert "la masse et la spécialisation reposent sur les établissements" in result.stderr


def test_establishments_without_staff_do_not_lead_where_headcounts_exist(
    employment_store: Path,
) -> None:
    # 68.20B is a local sector: kept here, to show that the employer basis alone demotes it
    every = detect(employment_store, level="commune", permutations=99, seed=1,
                   minimum_mass=MinimumMass(0, 0), include_local=True)
    assert every.basis == "employment"
    boxes = _row(every, LETTER_BOXES)
    # 500 establishments, a huge establishment LQ, but no job: no specialisation of employment
    assert boxes["establishments"] == 500
    assert boxes["employment"] == 0
    assert not boxes["lq"] > 0  # no employment: no (or an undefined) quotient of employment
    assert boxes["score_specialisation"] == 0
    assert boxes["rank"] > _row(every, STRONG)["rank"]
    found = detect(employment_store, level="commune", permutations=99, seed=1,
                   include_local=True)
    assert LETTER_BOXES not in set(found.frame["sector"])
    assert (found.frame["employment"] >= DEFAULT_MIN_EMPLOYMENT).all()
    best = found.frame.iloc[0]
    assert best["sector"] == STRONG
    assert re.match(r"250 établissements, 2\u202f000 salariés ; spécialisation de l'emploi ",
                    best["reasons"])


# ------------------------------------------------------------ the real Bas-Rhin extract


@pytest.fixture(scope="module")
def bas_rhin_store(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bas_rhin")
    FabricStore.open(path).import_files([real_data / "sirene_bas_rhin_2019_geocoded_latin1.csv"])
    return path


def test_bas_rhin_is_not_led_by_establishments_without_employees(bas_rhin_store: Path) -> None:
    # Before issue 16, rank 1 was 68.20B in Entzheim: 171 establishments (domiciliation
    # addresses), 1.5 estimated jobs. Local sectors (68.20B is one) and every presence kept:
    # the employer basis alone keeps such sectors from leading.
    every = detect(bas_rhin_store, level="commune", permutations=199, seed=0,
                   minimum_mass=MinimumMass(0, 0), include_local=True)
    frame = every.frame
    top = frame.head(20)
    assert (top["employer_establishments"] >= 1).all()
    assert not set(top["sector"]) & {"68.20B", "68.20A"}
    assert not set(top.head(5)["sector"]) & {"68.20B", "64.20Z", "70.10Z", "66.19B"}
    letter_boxes = frame[(frame["sector"] == "68.20B") & (frame["territory_name"] == "Entzheim")]
    assert letter_boxes["establishments"].iloc[0] == 171
    assert letter_boxes["employer_establishments"].iloc[0] <= 1
    assert letter_boxes["rank"].iloc[0] > 50
    # with the default minimum mass, every candidate has staff, and says so
    found = detect(bas_rhin_store, level="commune", permutations=199, seed=0)
    assert len(found) >= 1
    assert (found.frame["employer_establishments"] >= DEFAULT_MIN_ESTABLISHMENTS).all()
    assert (found.frame["employment"] >= DEFAULT_MIN_EMPLOYMENT).all()
    first = found.frame.iloc[0]
    assert first["reasons"].startswith(
        f"{int(first['employer_establishments'])} établissements employeurs sur "
        f"{int(first['establishments'])}, "
    )
    assert "fois la moyenne (entre " in first["reasons"]
